/* Telemetry of binds, coalesced in memory (C interface, C++ inside).
 *
 * A device entry holds the truth (its secret's hash, label, owner, expiry,
 * revocation); what binds produce (last use, failures) is telemetry, written far more
 * often (DESIGN.md, "Truth and telemetry"). The bind path records it here, in memory,
 * without waiting for any disk write: one lock of one shard and a small map update.
 * A background task of slapd's run queue takes everything pending and writes it into
 * the device entries in one database transaction, with a write that changes no CSN
 * and is not replicated. A clean stop writes what is pending; a crash loses at most
 * one flush interval.
 *
 * Keys are the devices' normalised DNs (what the write needs). Values coalesce: the
 * latest last use, the number of failures since the last flush and the latest failure.
 * Thread-safe.
 */
#ifndef DEVICEPW_TELEMETRY_H
#define DEVICEPW_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "devicepw_core.h" /* DPW_NOEXCEPT */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpw_telemetry dpw_telemetry;

typedef struct dpw_telemetry_item {
    int64_t last_used;       /* seconds since the epoch; 0 = no use to record */
    unsigned long failures;  /* failed binds not yet written */
    int64_t last_failure;    /* 0 = none */
} dpw_telemetry_item;

dpw_telemetry *dpw_telemetry_new(void) DPW_NOEXCEPT;  /* NULL when out of memory */
void dpw_telemetry_free(dpw_telemetry *t) DPW_NOEXCEPT;

/* A successful bind at `now` with the device ndn whose stored devicepwLastUsed is
 * stored (0 = none). Records the use when neither the stored value nor a pending one
 * is younger than precision seconds (precision 0: every bind). Returns 1 when it was
 * recorded, 0 when it did not need to be, -1 when it could not be (out of memory). */
int dpw_telemetry_use(dpw_telemetry *t, const char *ndn, size_t len, int64_t now,
                      int64_t stored, int64_t precision) DPW_NOEXCEPT;

/* A failed bind at `now` counted against the device ndn, whose stored failure count
 * is stored. Returns the device's total: stored + pending (0 when out of memory). */
unsigned long dpw_telemetry_failure(dpw_telemetry *t, const char *ndn, size_t len,
                                    int64_t now, unsigned long stored) DPW_NOEXCEPT;

/* Take everything pending: fn is called once per device, outside the locks, and the
 * entries are gone from the pending set. Returns the number of devices. */
typedef void (*dpw_telemetry_fn)(void *ctx, const char *ndn, size_t len,
                                 const dpw_telemetry_item *item);
size_t dpw_telemetry_drain(dpw_telemetry *t, dpw_telemetry_fn fn, void *ctx) DPW_NOEXCEPT;

/* Put a drained item back (its write failed): merged with anything pending since. */
void dpw_telemetry_restore(dpw_telemetry *t, const char *ndn, size_t len,
                           const dpw_telemetry_item *item) DPW_NOEXCEPT;

/* Forget what is pending for a device (it was deleted). */
void dpw_telemetry_forget(dpw_telemetry *t, const char *ndn, size_t len) DPW_NOEXCEPT;

/* Number of devices with something pending. */
size_t dpw_telemetry_pending(dpw_telemetry *t) DPW_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
