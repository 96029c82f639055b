/* A set of normalised DNs shared by slapd's threads (C interface, C++ inside): the
 * mailboxes that are suspended (devicepwSuspended: TRUE, or a slapo-ppolicy lock).
 *
 * A device bind reads only the device entry; what stops a mailbox's devices is on the
 * mailbox entry. Rather than read that entry on every bind, the overlay remembers the
 * suspended mailboxes: loaded once at startup by an internal search, kept up to date by
 * every write that changes them (clients, replication, slapo-ppolicy's own writes all pass
 * the overlay), re-read from the entry after each such write succeeds. A bind on a server
 * with no suspended mailbox takes no lock.
 * Thread-safe.
 */
#ifndef DEVICEPW_NAMESET_H
#define DEVICEPW_NAMESET_H

#include <stddef.h>

#include "devicepw_core.h" /* DPW_NOEXCEPT */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpw_nameset dpw_nameset;

dpw_nameset *dpw_nameset_new(void) DPW_NOEXCEPT;
void dpw_nameset_free(dpw_nameset *s) DPW_NOEXCEPT;
/* Put (in != 0) or take (in == 0) name in or out. Returns 0, -1 when out of memory. */
int dpw_nameset_set(dpw_nameset *s, const char *name, size_t len, int in) DPW_NOEXCEPT;
int dpw_nameset_has(dpw_nameset *s, const char *name, size_t len) DPW_NOEXCEPT;
size_t dpw_nameset_size(dpw_nameset *s) DPW_NOEXCEPT;
/* Loaded: binds may rely on the set (until then they read the mailbox entry). */
void dpw_nameset_set_ready(dpw_nameset *s) DPW_NOEXCEPT;
int dpw_nameset_ready(dpw_nameset *s) DPW_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
