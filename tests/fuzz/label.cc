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
        // Valid UTF-8: the label is fine unless it has a control character or too many
        // code points; which is reported is the one that comes first.
        std::size_t chars = 0;
        const char *want = nullptr;
        for (std::size_t i = 0; i < size && want == nullptr;) {
            const std::size_t n = sequence(data + i, size - i);
            if (data[i] < 0x20 || data[i] == 0x7F || (n == 2 && data[i] == 0xC2 && data[i + 1] <= 0x9F))
                want = "control";
            else if (++chars > DPW_LABEL_MAX_CHARS)
                want = "at most";
            i += n;
        }
        if (want == nullptr)
            FUZZ_CHECK(problem == nullptr);
        else
            FUZZ_CHECK(problem != nullptr && std::strstr(problem, want) != nullptr);
    }
    return 0;
}
