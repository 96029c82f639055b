// Plain (not constant-time) syntax checks shared by the core's translation units.
// These run on values that are not secret: device ids, key ids, stored hashes.
#ifndef DEVICEPW_CORE_SYNTAX_H
#define DEVICEPW_CORE_SYNTAX_H

#include <cstddef>

#include "devicepw_core.h"

namespace dpw {

constexpr bool is_lower_alnum(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr bool is_lower_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// A device id and a key id share one syntax: 1..16 of [a-z0-9].
static_assert(DPW_ID_MAX == DPW_KEYID_MAX);
constexpr bool id_valid(const char *s, std::size_t len) noexcept {
    if (s == nullptr || len == 0 || len > DPW_ID_MAX) return false;
    for (std::size_t i = 0; i < len; ++i)
        if (!is_lower_alnum(s[i])) return false;
    return true;
}

// A stored hash "dpw1$<keyid>$<64 lower-case hex>" split into its parts.
// Invariant after parse_stored() returns true: keyid is a valid key id and
// hex points at exactly 64 lower-case hex digits inside the parsed value.
struct StoredParts {
    const char *keyid;
    std::size_t keyid_len;
    const char *hex;
};

inline constexpr char kStoredPrefix[] = "dpw1$";
inline constexpr std::size_t kStoredPrefixLen = sizeof kStoredPrefix - 1;
inline constexpr std::size_t kDigestBytes = 32;
inline constexpr std::size_t kDigestHex = 2 * kDigestBytes;

bool parse_stored(const char *s, std::size_t len, StoredParts *out) noexcept;

}  // namespace dpw

#endif
