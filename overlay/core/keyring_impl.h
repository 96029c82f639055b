// The in-memory key ring behind the opaque dpw_keyring handle.
//
// Invariants:
//  - count >= 1; key ids are valid (1..16 of [a-z0-9]) and unique.
//  - keys[active] is the current key: the last line of the key file unless
//    devicepw-active-key names another (set while slapd is paused: configuration).
//  - fingerprint is a short public digest of the key (not reversible) that lets
//    administrators compare key files across servers without showing them.
//  - Each Key holds only the keyed BLAKE2b-256 state initialised with its 32-byte
//    key (the raw key is wiped right after crypto_generichash_init). Hashing copies
//    that state, so a hash costs no key setup.
//  - The ring is never modified after dpw_keyring_parse returns it: threads share
//    it without locks. Key states are wiped when the ring is freed.
#ifndef DEVICEPW_CORE_KEYRING_IMPL_H
#define DEVICEPW_CORE_KEYRING_IMPL_H

#include <sodium.h>

#include <cstddef>
#include <cstring>
#include <memory>

#include "devicepw_core.h"

namespace dpw {

struct Key {
    char id[DPW_KEYID_MAX + 1] = {};
    std::size_t id_len = 0;
    char fingerprint[DPW_FINGERPRINT_CHARS + 1] = {};
    crypto_generichash_state state;  // keyed, nothing absorbed yet

    Key() noexcept { sodium_memzero(&state, sizeof state); }
    ~Key() { sodium_memzero(&state, sizeof state); }
    Key(const Key &) = delete;
    Key &operator=(const Key &) = delete;
};

}  // namespace dpw

struct dpw_keyring {
    // Allocated once at its final size: a Key is never copied or relocated, so no
    // unwiped copy of a key state is ever left in freed memory.
    std::unique_ptr<dpw::Key[]> keys;
    std::size_t count = 0;
    std::size_t active = 0;  // index of the key that hashes new secrets

    // Few keys (rotation appends one now and then): a linear scan is the fastest.
    const dpw::Key *find(const char *id, std::size_t len) const noexcept {
        for (std::size_t i = 0; i < count; ++i)
            if (keys[i].id_len == len && std::memcmp(keys[i].id, id, len) == 0) return &keys[i];
        return nullptr;
    }
    const dpw::Key &current() const noexcept { return keys[active]; }
};

#endif
