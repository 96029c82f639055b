// dpw_stored_verify: input = "<stored value>\n<offered password>" (no '\n': the whole
// input is the stored value, the offered password a fixed one). Checked against
// dpw_stored_valid and dpw_stored_make with a fixed two-key ring ("old", "cur").
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "devicepw_core.h"
#include "fuzz_check.h"

namespace {

dpw_keyring *ring() {
    static dpw_keyring *r = [] {
        static const char kText[] =
            "old 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
            "cur f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f\n";
        dpw_keyring *k = nullptr;
        char err[256];
        if (dpw_keyring_parse(kText, sizeof kText - 1, &k, err, sizeof err) != DPW_OK) std::abort();
        return k;
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view in(reinterpret_cast<const char *>(data), size);
    std::string_view stored = in, offered = "phone-abcd-efgh-ijkm-npqr";
    if (const std::size_t nl = in.find('\n'); nl != std::string_view::npos) {
        stored = in.substr(0, nl);
        offered = in.substr(nl + 1);
    }
    char canon[DPW_CANONICAL_MAX + 1];
    size_t id_len = 0;
    if (dpw_secret_canonical(offered.data(), offered.size(), canon, &id_len) != DPW_OK) {
        // Not a canonical secret: verify must refuse it whatever the stored value.
        FUZZ_CHECK(dpw_stored_verify(ring(), stored.data(), stored.size(), offered.data(),
                                     offered.size()) == DPW_INVALID);
        return 0;
    }
    const size_t canon_len = std::strlen(canon);
    const dpw_status st = dpw_stored_verify(ring(), stored.data(), stored.size(), canon, canon_len);
    const bool valid = dpw_stored_valid(stored.data(), stored.size()) == 1;
    switch (st) {
    case DPW_OK:
    case DPW_NO_MATCH:
    case DPW_UNKNOWN_KEY:
        FUZZ_CHECK(valid);
        break;
    case DPW_INVALID:
        FUZZ_CHECK(!valid);
        break;
    default:
        FUZZ_CHECK(false);
    }
    if (valid) {
        const std::string_view keyid = stored.substr(5, stored.find('$', 5) - 5);
        const bool known = keyid == "old" || keyid == "cur";
        FUZZ_CHECK(known == (st != DPW_UNKNOWN_KEY));
        // A match happens exactly when the stored value is what make() produces (for
        // the current key; "old" values are matched against make() only by chance).
        char made[DPW_STORED_MAX];
        FUZZ_CHECK(dpw_stored_make(ring(), canon, canon_len, made) == DPW_OK);
        if (stored == made) FUZZ_CHECK(st == DPW_OK);
        if (keyid == "cur") FUZZ_CHECK((st == DPW_OK) == (stored == made));
    }
    // Round trip: what make() produces always verifies.
    char made[DPW_STORED_MAX];
    FUZZ_CHECK(dpw_stored_make(ring(), canon, canon_len, made) == DPW_OK);
    FUZZ_CHECK(dpw_stored_verify(ring(), made, std::strlen(made), canon, canon_len) == DPW_OK);
    return 0;
}
