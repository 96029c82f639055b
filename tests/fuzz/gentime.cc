// dpw_gentime_parse (GeneralizedTime values: devicepwExpires, devicepwLastUsed, ...)
// and dpw_gentime_format: range, round trips, and the canonical form read back as is.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "devicepw_core.h"
#include "fuzz_check.h"

namespace {

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z; offsets of up to 23:59 reach beyond.
constexpr int64_t kMin = -62167219200;
constexpr int64_t kMax = 253402300799;
constexpr int64_t kSlack = 24 * 3600;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = reinterpret_cast<const char *>(data);
    int64_t epoch = 42;
    const int rc = dpw_gentime_parse(s, size, &epoch);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(epoch == 42);  // untouched
        return 0;
    }
    FUZZ_CHECK(epoch >= kMin - kSlack && epoch <= kMax + kSlack);
    char buf[16];
    dpw_gentime_format(epoch, buf);
    FUZZ_CHECK(std::strlen(buf) == 15 && buf[14] == 'Z');
    int64_t again = 0;
    FUZZ_CHECK(dpw_gentime_parse(buf, 15, &again) == 0);
    if (epoch >= kMin && epoch <= kMax) FUZZ_CHECK(again == epoch);
    // "YYYYMMDDHHMMSSZ" with seconds below 60 is already canonical.
    bool canonical = size == 15 && s[14] == 'Z' && !(s[12] == '6' && s[13] == '0');
    for (std::size_t i = 0; canonical && i < 14; ++i) canonical = s[i] >= '0' && s[i] <= '9';
    if (canonical) FUZZ_CHECK(std::memcmp(buf, s, 15) == 0);
    return 0;
}
