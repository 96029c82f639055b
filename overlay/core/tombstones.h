/* Devices deleted on this server, remembered so that deletion wins over replication
 * (C interface, C++ inside).
 *
 * Multi-provider syncrepl carries entries, not intentions: a device deleted on one
 * provider while another changed it comes back as an add of the newer entry. The
 * overlay remembers the entryUUIDs of the devices deleted here; a replicated add of one
 * of them is accepted revoked (it can never authenticate) and deleted again with a fresh
 * CSN, so every server ends without it (DESIGN.md, "Replication": the same holds for
 * deletion). Kept in memory for `ttl` seconds, at most `cap` of them; a restart in the
 * middle of a partition forgets them (the README says so).
 * Thread-safe.
 */
#ifndef DEVICEPW_TOMBSTONES_H
#define DEVICEPW_TOMBSTONES_H

#include <stddef.h>
#include <stdint.h>

#include "devicepw_core.h" /* DPW_NOEXCEPT */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpw_tombstones dpw_tombstones;

dpw_tombstones *dpw_tombstones_new(size_t cap, int64_t ttl) DPW_NOEXCEPT;
void dpw_tombstones_free(dpw_tombstones *t) DPW_NOEXCEPT;
/* Remember that the entry with this entryUUID (any byte string) was deleted at now. */
void dpw_tombstones_add(dpw_tombstones *t, const char *uuid, size_t len, int64_t now) DPW_NOEXCEPT;
/* 1 when the entry was deleted here less than ttl seconds before now. */
int dpw_tombstones_has(dpw_tombstones *t, const char *uuid, size_t len, int64_t now) DPW_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
