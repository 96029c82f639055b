// devicepwLabel validation: strict UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), 1..DPW_LABEL_MAX_CHARS code points, and no
// control characters (C0 U+0000..U+001F, DEL U+007F, C1 U+0080..U+009F).
#include <cstddef>
#include <cstdint>

#include "devicepw_core.h"

namespace {

constexpr const char *kEmpty = "devicepwLabel must not be empty";
constexpr const char *kTooLong = "devicepwLabel must be at most 128 characters";
constexpr const char *kControl = "devicepwLabel must not contain control characters";
constexpr const char *kUtf8 = "devicepwLabel must be valid UTF-8";
static_assert(DPW_LABEL_MAX_CHARS == 128, "kTooLong names the limit");

// Decodes one code point at s[*pos] (pos < len). Returns false on invalid UTF-8.
bool decode(const unsigned char *s, std::size_t len, std::size_t *pos, uint32_t *cp) noexcept {
    const unsigned b0 = s[*pos];
    std::size_t n;
    uint32_t min;
    if (b0 < 0x80) {
        *cp = b0;
        *pos += 1;
        return true;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {  // 0xC0, 0xC1 only start overlong forms
        n = 1;
        min = 0x80;
        *cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 2;
        min = 0x800;
        *cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 3;
        min = 0x10000;
        *cp = b0 & 0x07;
    } else {
        return false;  // continuation byte, 0xC0/0xC1, or 0xF5..0xFF
    }
    if (len - *pos - 1 < n) return false;
    for (std::size_t i = 1; i <= n; ++i) {
        const unsigned b = s[*pos + i];
        if ((b & 0xC0) != 0x80) return false;
        *cp = (*cp << 6) | (b & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return false;
    *pos += n + 1;
    return true;
}

}  // namespace

extern "C" {

// Declared without noexcept in devicepw_core.h; cannot throw.
const char *dpw_label_problem(const char *label, size_t len) noexcept {
    if (label == nullptr || len == 0) return kEmpty;
    const auto *s = reinterpret_cast<const unsigned char *>(label);
    std::size_t pos = 0, chars = 0;
    const char *problem = nullptr;
    while (pos < len) {
        uint32_t cp;
        if (!decode(s, len, &pos, &cp)) return kUtf8;  // invalid UTF-8 outranks the rest
        if (problem == nullptr) {
            if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
                problem = kControl;
            else if (++chars > DPW_LABEL_MAX_CHARS)
                problem = kTooLong;
        }
    }
    return problem;
}

}  // extern "C"
