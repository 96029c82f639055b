/* Per-device failed-bind counters (C interface, implemented in C++).
 *
 * A bind that names an existing device but fails (wrong random part, revoked,
 * expired) is counted against that device, never against the mailbox: one stale
 * phone retrying all day must not lock anyone out, and the administrator can see
 * which device it is. Counters live in memory only; they are keyed by the device
 * entry's id in the database (stable across renames of the mailbox), so their
 * number is bounded by the number of devices.
 * Thread-safe: any number of slapd worker threads may bump concurrently.
 */
#ifndef DEVICEPW_FAILURES_H
#define DEVICEPW_FAILURES_H

#include <stddef.h>
#include <stdint.h>

#include "devicepw_core.h" /* DPW_NOEXCEPT */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpw_failures dpw_failures;

dpw_failures *dpw_failures_new(void) DPW_NOEXCEPT;           /* NULL when out of memory */
void dpw_failures_free(dpw_failures *f) DPW_NOEXCEPT;         /* NULL is fine */
/* Add one failure for the device with entry id `device`; returns the new count
 * (0 if it could not be counted). */
unsigned long dpw_failures_bump(dpw_failures *f, uint64_t device) DPW_NOEXCEPT;
/* Forget a device's failures (after a rotation). */
void dpw_failures_reset(dpw_failures *f, uint64_t device) DPW_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
