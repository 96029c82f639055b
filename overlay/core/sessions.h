/* Connections bound with a mailbox's own primary password (C interface, C++ inside).
 *
 * A connection acting as a mailbox may have authenticated with a device secret, by
 * SASL, or may be someone else acting as the mailbox through proxied authorization.
 * Only the mailbox simple-bound with its own userPassword keeps the right to set the
 * mailbox's credentials (DESIGN.md, "Living inside slapd": a stolen device password
 * must not mint more). The bind handler records such binds here, keyed by slapd's
 * connection id (unique for the life of slapd), and forgets a connection at its next
 * bind and when it closes. Absence means "not primary": the safe answer.
 * Thread-safe; the check on a connection that never bound with a primary password
 * takes no lock when no connection is recorded.
 */
#ifndef DEVICEPW_SESSIONS_H
#define DEVICEPW_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "devicepw_core.h" /* DPW_NOEXCEPT */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpw_sessions dpw_sessions;

dpw_sessions *dpw_sessions_new(void) DPW_NOEXCEPT;  /* NULL when out of memory */
void dpw_sessions_free(dpw_sessions *s) DPW_NOEXCEPT;
/* Connection connid is now bound as ndn with that entry's own password. Returns 0,
 * or -1 when it could not be recorded (the connection then counts as not primary). */
int dpw_sessions_set_primary(dpw_sessions *s, uint64_t connid, const char *ndn, size_t len) DPW_NOEXCEPT;
/* Forget connid (a new bind, or the connection closed). */
void dpw_sessions_forget(dpw_sessions *s, uint64_t connid) DPW_NOEXCEPT;
/* 1 when connid is recorded as bound as exactly ndn with its own password. */
int dpw_sessions_is_primary(dpw_sessions *s, uint64_t connid, const char *ndn, size_t len) DPW_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
