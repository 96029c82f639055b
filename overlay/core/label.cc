// devicepwLabel validation: strict UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), 1..DPW_LABEL_MAX_CHARS code points, no
// control characters (C0 U+0000..U+001F, DEL U+007F, C1 U+0080..U+009F), no invisible
// format characters (Unicode category Cf: bidi embeddings, overrides and isolates,
// zero-width characters, the BOM, tags; and the line and paragraph separators), and
// not only white space. Labels are shown to people in lists of their devices: a
// label must look like what it is.
#include <cstddef>
#include <cstdint>

#include "devicepw_core.h"

namespace {

constexpr const char *kEmpty = "devicepwLabel must not be empty";
constexpr const char *kTooLong = "devicepwLabel must be at most 128 characters";
constexpr const char *kControl = "devicepwLabel must not contain control characters";
constexpr const char *kUtf8 = "devicepwLabel must be valid UTF-8";
constexpr const char *kFormat =
    "devicepwLabel must not contain invisible format characters (bidi controls, "
    "zero-width characters)";
constexpr const char *kBlank = "devicepwLabel must not be only white space";

// Unicode general category Cf (Unicode 15), plus U+2028/U+2029 (Zl, Zp).
bool is_format(uint32_t cp) noexcept {
    struct Range { uint32_t lo, hi; };
    static constexpr Range kRanges[] = {
        {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
        {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
        {0x200B, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
        {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
        {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
        {0xE0020, 0xE007F},
    };
    for (const Range &r : kRanges)
        if (cp >= r.lo && cp <= r.hi) return true;
    return false;
}

// Unicode White_Space characters that are not controls.
bool is_space(uint32_t cp) noexcept {
    return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}
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

const char *dpw_label_problem(const char *label, size_t len) noexcept {
    if (label == nullptr || len == 0) return kEmpty;
    const auto *s = reinterpret_cast<const unsigned char *>(label);
    std::size_t pos = 0, chars = 0;
    bool blank = true;
    const char *problem = nullptr;
    while (pos < len) {
        uint32_t cp;
        if (!decode(s, len, &pos, &cp)) return kUtf8;  // invalid UTF-8 outranks the rest
        if (problem == nullptr) {
            if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
                problem = kControl;
            else if (is_format(cp))
                problem = kFormat;
            else if (++chars > DPW_LABEL_MAX_CHARS)
                problem = kTooLong;
            if (!is_space(cp)) blank = false;
        }
    }
    if (problem == nullptr && blank) return kBlank;
    return problem;
}

}  // extern "C"
