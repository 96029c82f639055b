// dpw_stored_valid (stored-hash values, e.g. from replication or a restore) against a
// plain reference of "dpw1$<keyid>$<64 lower-case hex>".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "devicepw_core.h"
#include "fuzz_check.h"

namespace {

bool reference(std::string_view s) {
    if (s.substr(0, 5) != "dpw1$") return false;
    s.remove_prefix(5);
    const std::size_t dollar = s.find('$');
    if (dollar == std::string_view::npos) return false;
    const std::string_view id = s.substr(0, dollar), hex = s.substr(dollar + 1);
    if (id.empty() || id.size() > DPW_KEYID_MAX || hex.size() != 64) return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
    for (char c : hex)
        if (!((c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'))) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = reinterpret_cast<const char *>(data);
    const int got = dpw_stored_valid(s, size);
    FUZZ_CHECK(got == (reference(std::string_view(s, size)) ? 1 : 0));
    return 0;
}
