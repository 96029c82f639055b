// Helpers shared by the unit tests.
#ifndef DEVICEPW_TEST_SUPPORT_H
#define DEVICEPW_TEST_SUPPORT_H

#include <memory>
#include <string>
#include <string_view>

#include "devicepw_core.h"

namespace dpwtest {

struct RingDeleter {
    void operator()(dpw_keyring *r) const noexcept { dpw_keyring_free(r); }
};
using Ring = std::unique_ptr<dpw_keyring, RingDeleter>;

// Outcome of parsing a key file text: status, ring (or null) and message.
struct Parsed {
    dpw_status status;
    Ring ring;
    std::string err;
};

inline Parsed parse(std::string_view text) {
    dpw_keyring *r = nullptr;
    char err[512] = "untouched";
    dpw_status st = dpw_keyring_parse(text.data(), text.size(), &r, err, sizeof err);
    return Parsed{st, Ring(r), err};
}

// Key file lines with fixed, distinct keys (tests must not depend on randomness).
inline const std::string kHexA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
inline const std::string kHexB = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";

inline std::string canonical(std::string_view pw, size_t *id_len = nullptr) {
    char canon[DPW_CANONICAL_MAX + 1];
    size_t n = 0;
    if (dpw_secret_canonical(pw.data(), pw.size(), canon, &n) != DPW_OK) return {};
    if (id_len != nullptr) *id_len = n;
    return canon;
}

}  // namespace dpwtest

#endif
