// Device ids, secrets and stored hashes.
//
// A secret is "<id><random>" in canonical form: the device id (1..16 of [a-z0-9])
// followed by 16 characters of DPW_ALPHABET carrying 80 bits from libsodium's
// CSPRNG. Its stored form is "dpw1$<keyid>$<hex>", the keyed BLAKE2b-256 of the
// whole canonical secret under the named key.
//
// dpw_secret_canonical and dpw_stored_verify are the bind hot path: no heap, no
// std::string, no locale, one copied hash state and one constant-time compare.
#include <sodium.h>

#include <cstring>

#include "ct.h"
#include "devicepw_core.h"
#include "keyring_impl.h"
#include "syntax.h"

namespace {

constexpr char kAlphabet[] = DPW_ALPHABET;
static_assert(sizeof kAlphabet - 1 == 32, "5 bits per symbol");
static_assert(DPW_RANDOM_CHARS * 5 == 80, "80 random bits");
static_assert(DPW_DISPLAY_MAX == DPW_ID_MAX + 1 + DPW_RANDOM_CHARS + 3 + 1);
static_assert(dpw::kDigestHex % 8 == 0, "ct::equal_words compares whole words");
static_assert(DPW_STORED_MAX == 5 + DPW_KEYID_MAX + 1 + 64 + 1);

// Shortest and longest canonical secrets: a 1..16 character id plus the random part.
constexpr std::size_t kCanonMin = 1 + DPW_RANDOM_CHARS;
constexpr std::size_t kCanonMax = DPW_CANONICAL_MAX;
// Offered passwords longer than this cannot be a secret even with separators; they
// are refused before looking at their bytes (their length is not secret).
constexpr std::size_t kOfferedMax = DPW_OFFERED_MAX;

bool canonical_valid(const char *canon, std::size_t len) noexcept {
    if (canon == nullptr || len < kCanonMin || len > kCanonMax) return false;
    unsigned ok = 1;
    for (std::size_t i = 0; i < len; ++i)
        ok &= dpw::ct::is_lower_alnum(static_cast<unsigned char>(canon[i]));
    return ok == 1;
}

// Keyed BLAKE2b-256 of a canonical secret: copies the key's precomputed state.
void digest(const dpw::Key &key, const char *canon, std::size_t len,
            unsigned char out[dpw::kDigestBytes]) noexcept {
    crypto_generichash_state st;
    std::memcpy(&st, &key.state, sizeof st);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char *>(canon), len);
    crypto_generichash_final(&st, out, dpw::kDigestBytes);
    sodium_memzero(&st, sizeof st);  // its buffer held the secret
}

}  // namespace

namespace dpw {

bool parse_stored(const char *s, std::size_t len, StoredParts *out) noexcept {
    if (s == nullptr || len < kStoredPrefixLen + 1 + 1 + kDigestHex) return false;
    if (std::memcmp(s, kStoredPrefix, kStoredPrefixLen) != 0) return false;
    const char *keyid = s + kStoredPrefixLen;
    const char *end = s + len;
    const char *dollar = static_cast<const char *>(std::memchr(keyid, '$', end - keyid));
    if (dollar == nullptr || !id_valid(keyid, dollar - keyid)) return false;
    const char *hex = dollar + 1;
    if (static_cast<std::size_t>(end - hex) != kDigestHex) return false;
    for (std::size_t i = 0; i < kDigestHex; ++i)
        if (!is_lower_hex(hex[i])) return false;
    *out = StoredParts{keyid, static_cast<std::size_t>(dollar - keyid), hex};
    return true;
}

}  // namespace dpw

extern "C" {

// The C entry points, noexcept (DPW_NOEXCEPT in devicepw_core.h): nothing below
// calls anything but libsodium, the C library and the noexcept helpers above.


dpw_status dpw_init(void) noexcept {
    // sodium_init is thread-safe and idempotent (1 = already initialised).
    return sodium_init() < 0 ? DPW_INTERNAL : DPW_OK;
}

int dpw_id_valid(const char *id, size_t len) noexcept { return dpw::id_valid(id, len) ? 1 : 0; }

dpw_status dpw_secret_canonical(const char *pw, size_t len, char canon[DPW_CANONICAL_MAX + 1],
                                size_t *id_len) noexcept {
    if (canon == nullptr) return DPW_INVALID;
    if (pw == nullptr || id_len == nullptr || len > kOfferedMax) {
        sodium_memzero(canon, kCanonMax + 1);
        return DPW_INVALID;
    }
    // One pass without data-dependent branches: every byte is folded and written at
    // position n of a scratch buffer as long as the input (so no clamp is needed); n
    // advances unless the byte is a separator; bad collects any byte that is neither.
    // The classification is arithmetic on the byte (ct.h).
    char scratch[kOfferedMax];
    std::size_t n = 0;
    unsigned bad = 0;
    for (std::size_t i = 0; i < len; ++i) {
        const unsigned c = dpw::ct::to_lower(static_cast<unsigned char>(pw[i]));
        const unsigned sep = dpw::ct::eq(c, '-') | dpw::ct::eq(c, ' ');
        bad |= (sep | dpw::ct::is_lower_alnum(c)) ^ 1u;
        scratch[n] = static_cast<char>(c);
        n += sep ^ 1u;
    }
    if (bad != 0 || n < kCanonMin || n > kCanonMax) {
        sodium_memzero(scratch, len);
        sodium_memzero(canon, kCanonMax + 1);
        return DPW_INVALID;
    }
    std::memcpy(canon, scratch, n);
    sodium_memzero(scratch, n);
    canon[n] = '\0';
    *id_len = n - DPW_RANDOM_CHARS;
    return DPW_OK;
}

dpw_status dpw_secret_generate(const char *id, size_t id_len, char display[DPW_DISPLAY_MAX]) noexcept {
    if (display == nullptr || !dpw::id_valid(id, id_len)) return DPW_INVALID;
    if (dpw_init() != DPW_OK) return DPW_INTERNAL;
    // 10 random bytes = 80 bits = exactly 16 symbols of 5 bits: uniform, no rejection.
    unsigned char rnd[DPW_RANDOM_CHARS * 5 / 8];
    randombytes_buf(rnd, sizeof rnd);
    char *p = display;
    std::memcpy(p, id, id_len);
    p += id_len;
    unsigned acc = 0, bits = 0;
    std::size_t r = 0;
    for (int i = 0; i < DPW_RANDOM_CHARS; ++i) {
        if (i % 4 == 0) *p++ = '-';
        if (bits < 5) {
            acc = (acc << 8) | rnd[r++];
            bits += 8;
        }
        bits -= 5;
        *p++ = kAlphabet[(acc >> bits) & 31u];
    }
    *p = '\0';
    sodium_memzero(rnd, sizeof rnd);
    sodium_memzero(&acc, sizeof acc);
    return DPW_OK;
}

dpw_status dpw_id_generate(char id[DPW_ID_MAX + 1]) noexcept {
    if (id == nullptr) return DPW_INVALID;
    if (dpw_init() != DPW_OK) return DPW_INTERNAL;
    for (int i = 0; i < DPW_GENERATED_ID_CHARS; ++i) id[i] = kAlphabet[randombytes_uniform(32)];
    id[DPW_GENERATED_ID_CHARS] = '\0';
    return DPW_OK;
}

dpw_status dpw_stored_make(const dpw_keyring *ring, const char *canon, size_t canon_len,
                           char stored[DPW_STORED_MAX]) noexcept {
    if (ring == nullptr || stored == nullptr || !canonical_valid(canon, canon_len)) return DPW_INVALID;
    const dpw::Key &key = ring->current();
    unsigned char d[dpw::kDigestBytes];
    digest(key, canon, canon_len, d);
    char *p = stored;
    std::memcpy(p, dpw::kStoredPrefix, dpw::kStoredPrefixLen);
    p += dpw::kStoredPrefixLen;
    std::memcpy(p, key.id, key.id_len);
    p += key.id_len;
    *p++ = '$';
    sodium_bin2hex(p, dpw::kDigestHex + 1, d, sizeof d);  // lower case, NUL-terminated
    sodium_memzero(d, sizeof d);
    return DPW_OK;
}

dpw_status dpw_stored_from_secret(const dpw_keyring *ring, const char *secret, size_t len,
                                  char stored[DPW_STORED_MAX]) noexcept {
    char canon[DPW_CANONICAL_MAX + 1];
    size_t id_len = 0;
    dpw_status st = dpw_secret_canonical(secret, len, canon, &id_len);
    if (st == DPW_OK) st = dpw_stored_make(ring, canon, std::strlen(canon), stored);
    sodium_memzero(canon, sizeof canon);
    return st;
}

dpw_status dpw_stored_verify(const dpw_keyring *ring, const char *stored, size_t stored_len,
                             const char *canon, size_t canon_len) noexcept {
    // The bind hot path. Instead of decoding the stored hex (about 3k instructions
    // with its validation), the digest of the offered secret is encoded and the two
    // hex strings are compared in constant time. A match implies the stored value is
    // well formed (it equals our own lower-case hex); only a mismatch pays for the
    // full syntax check that tells DPW_NO_MATCH from DPW_INVALID.
    using dpw::kDigestHex;
    using dpw::kStoredPrefix;
    using dpw::kStoredPrefixLen;
    if (ring == nullptr || stored == nullptr || !canonical_valid(canon, canon_len)) return DPW_INVALID;
    if (stored_len < kStoredPrefixLen + 2 + kDigestHex ||
        stored_len > kStoredPrefixLen + DPW_KEYID_MAX + 1 + kDigestHex ||
        std::memcmp(stored, kStoredPrefix, kStoredPrefixLen) != 0)
        return DPW_INVALID;
    const char *keyid = stored + kStoredPrefixLen;
    const std::size_t keyid_len = stored_len - kStoredPrefixLen - 1 - kDigestHex;
    const char *hex = keyid + keyid_len + 1;
    if (keyid[keyid_len] != '$') return DPW_INVALID;
    const dpw::Key *key = ring->find(keyid, keyid_len);
    if (key == nullptr) {
        dpw::StoredParts parts;
        return dpw::parse_stored(stored, stored_len, &parts) ? DPW_UNKNOWN_KEY : DPW_INVALID;
    }

    unsigned char got[dpw::kDigestBytes];
    char got_hex[kDigestHex];
    digest(*key, canon, canon_len, got);
    // Encoding by table lookup is fine here: the digest of the offered password is
    // not a secret worth protecting from its sender. The comparison with the stored
    // value is constant-time (no branch or early exit on the data).
    static constexpr char kHexDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < sizeof got; ++i) {
        got_hex[2 * i] = kHexDigits[got[i] >> 4];
        got_hex[2 * i + 1] = kHexDigits[got[i] & 15u];
    }
    const bool match = dpw::ct::equal_words(got_hex, hex, kDigestHex);
    sodium_memzero(got, sizeof got);
    sodium_memzero(got_hex, sizeof got_hex);
    if (match) return DPW_OK;
    // Prefix and key id are known good (the key id named a key of the ring): only
    // the digits remain to tell a wrong secret from a malformed value.
    unsigned bad = 0;
    for (std::size_t i = 0; i < kDigestHex; ++i) {
        const unsigned c = static_cast<unsigned char>(hex[i]);
        bad |= (dpw::ct::in_range(c, '0', '9') | dpw::ct::in_range(c, 'a', 'f')) ^ 1u;
    }
    return bad == 0 ? DPW_NO_MATCH : DPW_INVALID;
}

int dpw_stored_valid(const char *stored, size_t len) noexcept {
    dpw::StoredParts parts;
    return dpw::parse_stored(stored, len, &parts) ? 1 : 0;
}

int dpw_equal_ct(const void *a, const void *b, size_t len) noexcept {
    if (len == 0) return 1;
    if (a == nullptr || b == nullptr) return 0;
    return sodium_memcmp(a, b, len) == 0 ? 1 : 0;
}

}  // extern "C"
