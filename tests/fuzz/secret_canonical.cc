// dpw_secret_canonical (offered passwords) and dpw_id_valid, against a plain reference.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "devicepw_core.h"
#include "fuzz_check.h"

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The specification in devicepw_core.h, written the obvious way.
bool reference(const char *pw, std::size_t len, std::string *canon) {
    canon->clear();
    if (len > DPW_OFFERED_MAX) return false;
    for (std::size_t i = 0; i < len; ++i) {
        char c = pw[i];
        if (c == '-' || c == ' ') continue;
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (!lower_alnum(c)) return false;
        *canon += c;
    }
    return canon->size() >= 1 + DPW_RANDOM_CHARS && canon->size() <= DPW_CANONICAL_MAX;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *pw = reinterpret_cast<const char *>(data);
    char canon[DPW_CANONICAL_MAX + 1];
    std::memset(canon, 'X', sizeof canon);
    size_t id_len = 12345;
    const dpw_status st = dpw_secret_canonical(pw, size, canon, &id_len);
    std::string want;
    const bool ok = reference(pw, size, &want);
    if (st == DPW_OK) {
        FUZZ_CHECK(ok);
        FUZZ_CHECK(std::strlen(canon) == want.size() && want == canon);
        FUZZ_CHECK(id_len == want.size() - DPW_RANDOM_CHARS);
        FUZZ_CHECK(dpw_id_valid(canon, id_len) == 1);
    } else {
        FUZZ_CHECK(st == DPW_INVALID);
        FUZZ_CHECK(!ok);
        for (char c : canon) FUZZ_CHECK(c == 0);  // wiped
    }

    // dpw_id_valid: 1..16 of [a-z0-9].
    bool id_ok = size >= 1 && size <= DPW_ID_MAX;
    for (size_t i = 0; id_ok && i < size; ++i) id_ok = lower_alnum(pw[i]);
    FUZZ_CHECK(dpw_id_valid(pw, size) == (id_ok ? 1 : 0));
    return 0;
}
