// Constant-time byte classification for the bind path.
//
// dpw_secret_canonical must run in time independent of the random part of an
// offered password. These helpers classify one byte with arithmetic only: no
// branch and no table lookup depends on the byte's value. Every helper takes a
// byte widened to unsigned (0..255) and returns 0 or 1.
#ifndef DEVICEPW_CORE_CT_H
#define DEVICEPW_CORE_CT_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dpw::ct {

// 1 when c == k.
constexpr unsigned eq(unsigned c, unsigned k) noexcept {
    return (((c ^ k) - 1u) >> 31) & 1u;  // (c^k) is 0..255; only 0 wraps to 0xffffffff
}

// 1 when lo <= c <= hi (all 0..255).
constexpr unsigned in_range(unsigned c, unsigned lo, unsigned hi) noexcept {
    // Either subtraction wraps (top bit set) exactly when c is outside [lo, hi].
    return (((c - lo) | (hi - c)) >> 31) ^ 1u;
}

// 'A'..'Z' folded to 'a'..'z', every other byte unchanged.
constexpr unsigned to_lower(unsigned c) noexcept {
    return c + (in_range(c, 'A', 'Z') << 5);
}

// 1 when c is one of [a-z0-9].
constexpr unsigned is_lower_alnum(unsigned c) noexcept {
    return in_range(c, 'a', 'z') | in_range(c, '0', '9');
}

// Constant-time equality of two buffers of len bytes, len a multiple of 8: every
// byte is read, differences are OR-accumulated, and only the total is tested.
inline bool equal_words(const void *a, const void *b, std::size_t len) noexcept {
    const unsigned char *pa = static_cast<const unsigned char *>(a);
    const unsigned char *pb = static_cast<const unsigned char *>(b);
    std::uint64_t diff = 0;
    for (std::size_t i = 0; i + 8 <= len; i += 8) {
        std::uint64_t x, y;
        std::memcpy(&x, pa + i, 8);
        std::memcpy(&y, pb + i, 8);
        diff |= x ^ y;
    }
    return diff == 0;
}

}  // namespace dpw::ct

#endif
