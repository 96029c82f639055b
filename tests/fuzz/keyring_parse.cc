// dpw_keyring_parse (key files: the olcDevicepwKeyFile configuration value's content)
// against a plain reference of the format; messages must never quote key material.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "devicepw_core.h"
#include "fuzz_check.h"

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The documented format: one "<id> <64 hex>" per line, '#' comments, blank lines,
// ids 1..16 of [a-z0-9] and unique, keys not all zero. Returns the status and the
// id of the last key.
dpw_status reference(std::string_view text, std::string *last) {
    std::set<std::string_view> ids;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        line = line.substr(0, line.find('#'));
        std::vector<std::string_view> f;
        for (std::size_t i = 0; i < line.size();) {
            if (space(line[i])) { ++i; continue; }
            std::size_t j = i;
            while (j < line.size() && !space(line[j])) ++j;
            f.push_back(line.substr(i, j - i));
            i = j;
        }
        if (f.empty()) continue;
        if (f.size() != 2 || dpw_id_valid(f[0].data(), f[0].size()) != 1 || f[1].size() != 64)
            return DPW_INVALID;
        bool zero = true;
        for (char c : f[1]) {
            if (!hex(c)) return DPW_INVALID;
            zero &= c == '0';
        }
        if (zero || !ids.insert(f[0]).second) return DPW_INVALID;
        *last = f[0];
    }
    return ids.empty() ? DPW_NO_KEY : DPW_OK;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = reinterpret_cast<const char *>(data);
    dpw_keyring *ring = nullptr;
    char err[192];  // the overlay's buffer size
    std::memset(err, 'X', sizeof err);
    const dpw_status st = dpw_keyring_parse(text, size, &ring, err, sizeof err);
    std::string last;
    FUZZ_CHECK(st == reference(std::string_view(text, size), &last));
    FUZZ_CHECK(std::memchr(err, '\0', sizeof err) != nullptr);
    if (st == DPW_OK) {
        FUZZ_CHECK(ring != nullptr && err[0] == '\0');
        FUZZ_CHECK(last == dpw_keyring_current_id(ring));
        static const char kCanon[] = "phoneabcdefghijkmnpqr";
        char stored[DPW_STORED_MAX];
        FUZZ_CHECK(dpw_stored_make(ring, kCanon, sizeof kCanon - 1, stored) == DPW_OK);
        FUZZ_CHECK(dpw_stored_verify(ring, stored, std::strlen(stored), kCanon, sizeof kCanon - 1) == DPW_OK);
        dpw_keyring_free(ring);
    } else {
        FUZZ_CHECK(ring == nullptr && err[0] != '\0');
        // No key material in messages: nothing that looks like more than a key id of hex.
        std::size_t run = 0;
        for (const char *p = err; *p; ++p) {
            run = hex(*p) ? run + 1 : 0;
            FUZZ_CHECK(run <= DPW_KEYID_MAX);
        }
    }
    return 0;
}
