// dpw_label_problem (devicepwLabel values) against a reference UTF-8 decoder written
// from RFC 3629's table of well-formed byte sequences.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "devicepw_core.h"
#include "fuzz_check.h"

namespace {

enum class Ref { Ok, Empty, Utf8 };

// Length of the well-formed sequence at s (RFC 3629 section 4), 0 if none.
std::size_t sequence(const uint8_t *s, std::size_t left) {
    auto in = [&](std::size_t i, unsigned lo, unsigned hi) { return i < left && s[i] >= lo && s[i] <= hi; };
    const unsigned b = s[0];
    if (b <= 0x7F) return 1;
    if (b >= 0xC2 && b <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
    if (b == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    if (b == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    if (b == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    if (b >= 0xF1 && b <= 0xF3) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    if (b == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    return 0;
}

Ref reference(const uint8_t *s, std::size_t len) {
    if (len == 0) return Ref::Empty;
    for (std::size_t i = 0; i < len;) {
        const std::size_t n = sequence(s + i, len - i);
        if (n == 0) return Ref::Utf8;
        i += n;
    }
    return Ref::Ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *problem = dpw_label_problem(reinterpret_cast<const char *>(data), size);
    const Ref ref = reference(data, size);
    if (ref == Ref::Empty) {
        FUZZ_CHECK(problem != nullptr && std::strstr(problem, "empty") != nullptr);
    } else if (ref == Ref::Utf8) {
        FUZZ_CHECK(problem != nullptr && std::strstr(problem, "UTF-8") != nullptr);
    } else {
        // Valid UTF-8: the first of control character / invisible format character / too
        // many code points is reported; else a label of white space only is refused. The
        // format characters are checked here on well-known ones (bidi overrides and
        // isolates, zero-width characters, the BOM): any of them makes a problem.
        std::size_t chars = 0;
        const char *want = nullptr;
        bool blank = true;
        for (std::size_t i = 0; i < size;) {
            const std::size_t n = sequence(data + i, size - i);
            uint32_t cp = data[i];
            if (n == 2) cp = ((data[i] & 0x1Fu) << 6) | (data[i + 1] & 0x3Fu);
            if (n == 3) cp = ((data[i] & 0x0Fu) << 12) | ((data[i + 1] & 0x3Fu) << 6) | (data[i + 2] & 0x3Fu);
            if (n == 4)
                cp = ((data[i] & 0x07u) << 18) | ((data[i + 1] & 0x3Fu) << 12) | ((data[i + 2] & 0x3Fu) << 6) |
                     (data[i + 3] & 0x3Fu);
            const bool known_format = (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
                                      (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
            if (want == nullptr) {
                if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
                    want = "control";
                else if (known_format)
                    want = "format";
                else if (++chars > DPW_LABEL_MAX_CHARS)
                    want = "at most";
            }
            const bool space = cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
                               cp == 0x202F || cp == 0x205F || cp == 0x3000;
            if (!space) blank = false;
            i += n;
        }
        if (want != nullptr && std::strcmp(want, "at most") != 0) {
            FUZZ_CHECK(problem != nullptr && std::strstr(problem, want) != nullptr);
        } else if (want != nullptr) {
            // too long, unless a format character the oracle does not know came first
            FUZZ_CHECK(problem != nullptr &&
                       (std::strstr(problem, "at most") != nullptr || std::strstr(problem, "format") != nullptr));
        } else if (problem != nullptr) {
            // what the oracle does not model fully: other format characters, blank labels
            FUZZ_CHECK(std::strstr(problem, "format") != nullptr ||
                       (blank && std::strstr(problem, "white space") != nullptr));
        } else {
            FUZZ_CHECK(!blank);
        }
    }
    return 0;
}
