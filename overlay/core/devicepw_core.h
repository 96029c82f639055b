/* devicepw core: the C interface between slapd's C world and the C++ core.
 *
 * The overlay glue (overlay/devicepw.c) is C and includes slapd's headers; the core
 * (secret format, key file, keyed digests, device rules) is C++ and knows nothing of
 * slapd. This header is the whole contract between them. Every function here is
 * implemented `noexcept` in C++: no exception ever crosses into slapd.
 *
 * Invariants:
 *  - No function logs, prints or keeps a copy of a secret. Buffers that held a
 *    secret inside the core are wiped (sodium_memzero) before they are released.
 *  - Output buffers are caller-owned; sizes are given by the DPW_*_MAX constants.
 *  - A dpw_keyring is immutable once loaded, so any number of threads may use it.
 */
#ifndef DEVICEPW_CORE_H
#define DEVICEPW_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
/* noexcept in C++, so the compiler enforces that nothing thrown reaches slapd. */
#define DPW_NOEXCEPT noexcept
extern "C" {
#else
#define DPW_NOEXCEPT
#endif

/* ---- status ---------------------------------------------------------------- */

typedef enum dpw_status {
    DPW_OK = 0,
    DPW_NO_MATCH = 1,      /* well-formed, but not the right secret */
    DPW_INVALID = 2,       /* malformed input (syntax) */
    DPW_UNKNOWN_KEY = 3,   /* stored hash names a key id the keyring does not hold */
    DPW_IO_ERROR = 4,      /* key file missing or unreadable */
    DPW_INSECURE = 5,      /* key file readable or writable by group/others */
    DPW_NO_KEY = 6,        /* key file holds no valid key */
    DPW_INTERNAL = 7       /* libsodium failed to initialise, out of memory, ... */
} dpw_status;

/* ---- limits and formats ----------------------------------------------------- */

#define DPW_ID_MAX 16          /* devicepwId: 1..16 of [a-z0-9] */
#define DPW_RANDOM_CHARS 16    /* random part: 16 chars x 5 bits = 80 bits */
#define DPW_GENERATED_ID_CHARS 4
/* Canonical secret: id followed by the random part, no separators, lower case. */
#define DPW_CANONICAL_MAX (DPW_ID_MAX + DPW_RANDOM_CHARS)
/* Longest offered password looked at: longer ones are refused unread, even when
 * dropping separators would leave a valid secret (their length is not secret). */
#define DPW_OFFERED_MAX (4 * DPW_CANONICAL_MAX)
/* Display form: "<id>-xxxx-xxxx-xxxx-xxxx" plus NUL. */
#define DPW_DISPLAY_MAX (DPW_ID_MAX + 1 + 19 + 1)
/* Stored form: "dpw1$<keyid>$<64 hex>" plus NUL. */
#define DPW_KEYID_MAX 16
#define DPW_STORED_MAX (5 + DPW_KEYID_MAX + 1 + 64 + 1)
#define DPW_LABEL_MAX_CHARS 128     /* UTF-8 code points */
/* The alphabet of generated ids and random parts: lower-case letters and digits
 * without the look-alikes 0, 1, l, o (32 symbols, 5 bits each). */
#define DPW_ALPHABET "23456789abcdefghijkmnpqrstuvwxyz"

/* Initialise libsodium. Safe to call more than once, from any thread. */
dpw_status dpw_init(void) DPW_NOEXCEPT;

/* ---- device ids and secrets ------------------------------------------------- */

/* 1 when [id, id+len) is a valid devicepwId (1..16 of [a-z0-9]), else 0. */
int dpw_id_valid(const char *id, size_t len) DPW_NOEXCEPT;

/* Canonicalise an offered password of at most DPW_OFFERED_MAX bytes: drop '-' and
 * ' ', fold A-Z to a-z. The result is valid only when it has 17..32 characters, all [a-z0-9]; then its last 16
 * characters are the random part and the rest is the device id.
 * On DPW_OK writes the NUL-terminated canonical form to canon (DPW_CANONICAL_MAX+1
 * bytes) and sets *id_len (the id is canon[0 .. *id_len)). Otherwise DPW_INVALID and
 * canon is wiped. Runs in time independent of the random part's value. */
dpw_status dpw_secret_canonical(const char *pw, size_t len,
                                char canon[DPW_CANONICAL_MAX + 1], size_t *id_len) DPW_NOEXCEPT;

/* Generate a fresh secret for device id (must be dpw_id_valid) from libsodium's
 * CSPRNG. Writes the display form "<id>-xxxx-xxxx-xxxx-xxxx" (NUL-terminated) to
 * display, which needs DPW_DISPLAY_MAX bytes. */
dpw_status dpw_secret_generate(const char *id, size_t id_len, char display[DPW_DISPLAY_MAX]) DPW_NOEXCEPT;

/* Generate a device id of DPW_GENERATED_ID_CHARS characters from DPW_ALPHABET,
 * NUL-terminated (buffer of DPW_ID_MAX+1 bytes). */
dpw_status dpw_id_generate(char id[DPW_ID_MAX + 1]) DPW_NOEXCEPT;

/* ---- key ring --------------------------------------------------------------- */

typedef struct dpw_keyring dpw_keyring;

/* Load a key file: text, one key per line "<id> <64 hex digits>", blank lines and
 * '#' comments allowed; key ids 1..16 of [a-z0-9], unique. The last key hashes new
 * secrets, every key verifies. Refuses (DPW_INSECURE) a file that group or others
 * may read or write, and (DPW_NO_KEY) one without a valid key. On error writes a
 * message for the administrator to err (never key material) and sets *out = NULL. */
dpw_status dpw_keyring_load(const char *path, dpw_keyring **out, char *err, size_t err_len) DPW_NOEXCEPT;

/* The same from text already in memory (no permission check): for tests and tools. */
dpw_status dpw_keyring_parse(const char *text, size_t len, dpw_keyring **out,
                             char *err, size_t err_len) DPW_NOEXCEPT;

/* Free a key ring; wipes the keys. NULL is fine. */
void dpw_keyring_free(dpw_keyring *ring) DPW_NOEXCEPT;

/* Fingerprint of a key: DPW_FINGERPRINT_CHARS lower-case hex digits of a BLAKE2b of a
 * fixed label and the key: compares key files across servers, reveals no key. */
#define DPW_FINGERPRINT_CHARS 16

/* The keys of a ring, in key file order: count, and id / fingerprint of key i
 * (NUL-terminated, owned by the ring; NULL when i is out of range). */
size_t dpw_keyring_count(const dpw_keyring *ring) DPW_NOEXCEPT;
const char *dpw_keyring_id(const dpw_keyring *ring, size_t i) DPW_NOEXCEPT;
const char *dpw_keyring_fingerprint(const dpw_keyring *ring, size_t i) DPW_NOEXCEPT;

/* Make key id the one that hashes new secrets (devicepw-active-key); NULL or empty:
 * the last key of the file. DPW_UNKNOWN_KEY when the ring has no such key. Only while
 * no other thread uses the ring (slapd paused for configuration). */
dpw_status dpw_keyring_set_active(dpw_keyring *ring, const char *id, size_t len) DPW_NOEXCEPT;

/* The id of the key that hashes new secrets (NUL-terminated, owned by the ring). */
const char *dpw_keyring_current_id(const dpw_keyring *ring) DPW_NOEXCEPT;

/* Print a new key file line "<id> <64 hex>\n" (NUL-terminated) with 32 random
 * bytes; id must be a valid key id. line needs DPW_KEYID_MAX + 67 bytes. */
dpw_status dpw_key_generate_line(const char *id, char *line, size_t line_len) DPW_NOEXCEPT;

/* ---- stored hashes ---------------------------------------------------------- */

/* Stored form of a canonical secret under the ring's current key:
 * "dpw1$<keyid>$<64 lower-case hex of keyed BLAKE2b-256(canonical)>", NUL-terminated.
 * canon must be a canonical secret (dpw_secret_canonical). */
dpw_status dpw_stored_make(const dpw_keyring *ring, const char *canon, size_t canon_len,
                           char stored[DPW_STORED_MAX]) DPW_NOEXCEPT;

/* Convenience for the overlay: canonicalise a display-form secret and hash it. */
dpw_status dpw_stored_from_secret(const dpw_keyring *ring, const char *secret, size_t len,
                                  char stored[DPW_STORED_MAX]) DPW_NOEXCEPT;

/* Verify a canonical secret against a stored value: DPW_OK on match, DPW_NO_MATCH,
 * DPW_UNKNOWN_KEY, or DPW_INVALID for a malformed stored value. The digest
 * comparison is constant-time (sodium_memcmp). */
dpw_status dpw_stored_verify(const dpw_keyring *ring, const char *stored, size_t stored_len,
                             const char *canon, size_t canon_len) DPW_NOEXCEPT;

/* 1 when value is syntactically a stored hash (for replication/restore), else 0. */
int dpw_stored_valid(const char *stored, size_t len) DPW_NOEXCEPT;

/* Constant-time equality of two equal-length buffers: 1 equal, 0 not. */
int dpw_equal_ct(const void *a, const void *b, size_t len) DPW_NOEXCEPT;

/* ---- device attributes ------------------------------------------------------ */

/* Validate a label: valid UTF-8, 1..DPW_LABEL_MAX_CHARS code points, no control
 * characters (C0, DEL, C1). Returns NULL when valid, else a static message. */
const char *dpw_label_problem(const char *label, size_t len) DPW_NOEXCEPT;

/* Parse a GeneralizedTime "YYYYMMDDHHMMSS[.fff]Z" (as slapd normalises it; also
 * "YYYYMMDDHHMMZ" and "+hhmm"/"-hhmm" offsets) to seconds since the epoch, without
 * timegm(). Returns 0 on success, -1 when malformed. */
int dpw_gentime_parse(const char *s, size_t len, int64_t *epoch) DPW_NOEXCEPT;

/* Format seconds since the epoch as "YYYYMMDDHHMMSSZ" (buf of 16 bytes). */
void dpw_gentime_format(int64_t epoch, char buf[16]) DPW_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif /* DEVICEPW_CORE_H */
