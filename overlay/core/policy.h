/* devicepw policy: who may do what to mailboxes and devices (C interface, C++ inside).
 *
 * This header is the one place that states the overlay's rules. The slapd glue
 * (overlay/devicepw.c) gathers facts about an operation (who asks and how they
 * authenticated, what the target is, which attributes the request touches) and asks
 * the functions below for a decision; it never decides on its own. Every function is
 * pure: no slapd, no I/O, no allocation, safe from any thread.
 *
 * Glossary
 *   mailbox   an entry with objectClass devicepwMailbox
 *   device    an entry devicepwId=<id>,<mailbox DN> (objectClass devicepwDevice only)
 *   person    a DN listed in the mailbox's devicepwUser
 *   admin     a devicepw-admin DN or member of a devicepw-admin group
 *   actor     the requester's relation to the mailbox the operation is about
 *
 * Invariants the rules keep (DESIGN.md, "Living inside slapd"):
 *   - Whoever may not see a mailbox's devices gets the same answer for an existing
 *     and a missing device: dpw_policy_gate() decides from the actor and the place
 *     of the target DN alone, before the glue reads any device.
 *   - The mailbox itself when not authenticated by its own primary password (a device
 *     secret, SASL, or a person acting as it through proxied authorization) never
 *     creates a credential of the mailbox: no device, no secret, no userPassword,
 *     no authzFrom/authzTo.
 *   - Replication and the overlay's own writes are never refused: the rules are for
 *     clients (DESIGN.md, "Replication"). A replicated un-revocation is merged away.
 */
#ifndef DEVICEPW_POLICY_H
#define DEVICEPW_POLICY_H

#include <stddef.h>

#include "devicepw_core.h" /* DPW_NOEXCEPT */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- result codes (the LDAP values, RFC 4511; the core includes no ldap.h) ---- */
enum {
    DPW_R_ALLOW = 0,                   /* success: let the operation go on */
    DPW_R_ADMINLIMIT = 11,             /* adminLimitExceeded */
    DPW_R_CONSTRAINT = 19,             /* constraintViolation */
    DPW_R_SYNTAX = 21,                 /* invalidAttributeSyntax */
    DPW_R_INSUFFICIENT = 50,           /* insufficientAccessRights */
    DPW_R_UNWILLING = 53,              /* unwillingToPerform */
    DPW_R_NAMING = 64,                 /* namingViolation */
    DPW_R_OBJECTCLASS = 65,            /* objectClassViolation */
    DPW_R_NONLEAF = 66                 /* notAllowedOnNonLeaf */
};

/* ---- who asks ------------------------------------------------------------------ */
typedef enum dpw_actor {
    DPW_ACTOR_ANONYMOUS = 0,
    DPW_ACTOR_STRANGER,         /* authenticated, no relation to this mailbox */
    DPW_ACTOR_MAILBOX_PRIMARY,  /* the mailbox, simple-bound with its own userPassword */
    DPW_ACTOR_MAILBOX_DEVICE,   /* the mailbox, authenticated any other way (a device
                                   secret, SASL): it may read, never mint */
    DPW_ACTOR_MAILBOX_PROXIED,  /* someone acting as the mailbox (proxied authorization) */
    DPW_ACTOR_PERSON,           /* listed in the mailbox's devicepwUser */
    DPW_ACTOR_ADMIN,            /* devicepw-admin */
    DPW_ACTOR_ROOT,             /* the database's rootdn */
    DPW_ACTOR_REPLICATION,      /* a write applied by syncrepl */
    DPW_ACTOR_INTERNAL,         /* the overlay's own internal write */
    DPW_ACTOR_COUNT
} dpw_actor;

/* The actor's name for logs and tests ("person", "mailbox-device", ...). */
const char *dpw_actor_name(dpw_actor a) DPW_NOEXCEPT;

/* ---- what is asked --------------------------------------------------------------- */
typedef enum dpw_operation {
    DPW_OP_READ = 0,   /* base search or compare aimed at the DN */
    DPW_OP_ADD,
    DPW_OP_MODIFY,
    DPW_OP_DELETE,
    DPW_OP_MODRDN,
    DPW_OP_PASSMOD,    /* RFC 3062 Password Modify */
    DPW_OP_COUNT
} dpw_operation;

const char *dpw_operation_name(dpw_operation o) DPW_NOEXCEPT;

/* Where the target DN stands: decided from the DN alone (its RDNs), never from
 * whether an entry exists. */
typedef enum dpw_place {
    DPW_PLACE_PLAIN = 0,       /* no RDN of the DN is devicepwId=... */
    DPW_PLACE_DEVICE,          /* devicepwId=<x>,<mailbox DN> */
    DPW_PLACE_BELOW_DEVICE     /* something under a device */
} dpw_place;

/* ---- attributes -------------------------------------------------------------------- */
typedef enum dpw_attr_class {
    DPW_ATTR_OTHER = 0,        /* anything the rules below do not name */
    DPW_ATTR_SECRET,           /* devicepwSecret: set by Password Modify only */
    DPW_ATTR_SERVER,           /* devicepwRevokedAt: set by the server, restorable by the rootdn */
    DPW_ATTR_TELEMETRY,        /* devicepwLastUsed, devicepwFailureCount, devicepwLastFailure:
                                  written by the server's telemetry only, never by a client */
    DPW_ATTR_REVOKED,          /* devicepwRevoked: TRUE is final */
    DPW_ATTR_LABEL,            /* devicepwLabel: shown to people, checked text */
    DPW_ATTR_PERSON_EDITABLE,  /* devicepwExpires, description */
    DPW_ATTR_OWNER,            /* devicepwOwner */
    DPW_ATTR_USERS,            /* devicepwUser */
    DPW_ATTR_ID,               /* devicepwId */
    DPW_ATTR_OBJECTCLASS,      /* objectClass */
    DPW_ATTR_CREDENTIAL,       /* userPassword, authPassword, authzFrom, authzTo */
    DPW_ATTR_SCOPE,            /* devicepwService: the services a device may be used for */
    DPW_ATTR_SUSPENDED,        /* devicepwSuspended on a mailbox: administrators only */
    DPW_ATTR_COUNT
} dpw_attr_class;

const char *dpw_attr_class_name(dpw_attr_class c) DPW_NOEXCEPT;

/* Classify an attribute description as a client wrote it: a name or numeric OID,
 * any case, with or without options ("devicepwSecret;lang-en", "2.5.4.35;x-a").
 * Options never change the class: a protected attribute is protected in every form. */
dpw_attr_class dpw_attr_classify(const char *desc, size_t len) DPW_NOEXCEPT;

/* ---- decisions --------------------------------------------------------------------- */
typedef struct dpw_decision {
    int code;            /* DPW_R_ALLOW or the LDAP result code to answer */
    const char *text;    /* static diagnostic text (NULL when allowed) */
} dpw_decision;

/* Stage 1, before anything is read: may this actor act on this place at all?
 * For DPW_PLACE_PLAIN targets this always allows (the later stages decide). */
dpw_decision dpw_policy_gate(dpw_actor actor, dpw_operation op, dpw_place place) DPW_NOEXCEPT;

/* One modification (or one attribute of an added entry) as the glue saw it. */
typedef enum dpw_mod_kind { DPW_MOD_ADD = 0, DPW_MOD_DELETE, DPW_MOD_REPLACE } dpw_mod_kind;

typedef struct dpw_value { const char *val; size_t len; } dpw_value;

typedef struct dpw_mod {
    dpw_attr_class cls;
    dpw_mod_kind kind;
    const dpw_value *values;   /* may be NULL (delete all values) */
    size_t nvalues;
    int server_internal;       /* a modification slapd added itself (modifyTimestamp ...) */
} dpw_mod;

/* Facts about the target entry, read by the glue after the gate allowed. */
typedef struct dpw_target {
    dpw_place place;
    int exists;              /* the entry exists */
    int is_mailbox;          /* objectClass devicepwMailbox */
    int is_device;           /* objectClass devicepwDevice */
    int device_revoked;      /* the device's devicepwRevoked is TRUE */
    int device_owned;        /* the requester is the device's devicepwOwner */
    int mailbox_has_devices; /* the mailbox has at least one device */
    int primary_allowed;     /* devicepw-primary-password on */
    const dpw_value *services; /* the device's devicepwService values now (normalised) */
    size_t nservices;
} dpw_target;

/* Modify: what the server does besides the decision. */
typedef struct dpw_modify_outcome {
    dpw_decision decision;
    int revoking;            /* the device goes from unrevoked to revoked: add devicepwRevokedAt */
    int drop_unrevoke;       /* replication: drop the modifications that would un-revoke */
} dpw_modify_outcome;

dpw_modify_outcome dpw_policy_modify(dpw_actor actor, const dpw_target *t,
                                     const dpw_mod *mods, size_t n) DPW_NOEXCEPT;

/* Add of an entry. `parent` describes the parent entry (for a device: its mailbox);
 * classes_only_device: every objectClass value is devicepwDevice or top;
 * has_device_class: devicepwDevice is among them; id_ok: the RDN is devicepwId=<valid
 * id> and the entry holds exactly that devicepwId; device_count: devices the mailbox
 * has now; max_devices: devicepw-max-devices. */
typedef struct dpw_add_facts {
    dpw_place place;
    int parent_is_mailbox;
    int has_device_class;
    int classes_only_device;
    int id_ok;
    int device_count;
    int max_devices;
    int has_owner;           /* the entry names a devicepwOwner */
    int has_revoked_true;    /* devicepwRevoked: TRUE */
    int has_revoked_at;
} dpw_add_facts;

typedef enum dpw_owner_action {
    DPW_OWNER_KEEP = 0,      /* leave devicepwOwner as sent */
    DPW_OWNER_FORCE,         /* replace it with the requester (people own what they add) */
    DPW_OWNER_DEFAULT        /* none sent: the requester becomes the owner */
} dpw_owner_action;

typedef struct dpw_add_outcome {
    dpw_decision decision;
    dpw_owner_action owner;
    int add_revoked_at;      /* added revoked: stamp devicepwRevokedAt */
    int needs_count;         /* the glue must count the mailbox's devices and ask again */
} dpw_add_outcome;

/* Call with device_count < 0 first: when the other rules allow, needs_count is set
 * and the glue counts (an internal search) and calls again with the count. */
dpw_add_outcome dpw_policy_add(dpw_actor actor, const dpw_add_facts *f,
                               const dpw_mod *attrs, size_t n) DPW_NOEXCEPT;

/* Delete of an existing entry (after the gate). */
dpw_decision dpw_policy_delete(dpw_actor actor, const dpw_target *t) DPW_NOEXCEPT;

/* Modrdn: newrdn_is_device: the new RDN is devicepwId=...; new_parent: the place of
 * the new superior (PLAIN when not moving or moving under an ordinary entry). */
dpw_decision dpw_policy_modrdn(dpw_actor actor, dpw_place place, int newrdn_is_device,
                               dpw_place new_parent) DPW_NOEXCEPT;

/* Password Modify. On a device: new_password_given, device revoked/owned from t.
 * On a mailbox (t->is_mailbox): only administrators and the mailbox with its own
 * primary password (when allowed) may set its userPassword. */
dpw_decision dpw_policy_passmod(dpw_actor actor, const dpw_target *t,
                                int new_password_given) DPW_NOEXCEPT;

/* Whether the actor may read stored hashes (devicepwSecret). secret_reader: the
 * requester is a devicepw-secret-reader. */
int dpw_policy_may_read_secret(dpw_actor actor, int secret_reader) DPW_NOEXCEPT;

/* Whether the actor may see the devices of the mailbox (entries, their attributes,
 * the mailbox's hasSubordinates). */
int dpw_policy_may_see_devices(dpw_actor actor) DPW_NOEXCEPT;

/* 1 when [s, s+len) is a service keyword: 1..32 of a-z 0-9 '-' (any case), starting
 * with a letter. */
int dpw_service_valid(const char *s, size_t len) DPW_NOEXCEPT;

/* ---- pure helpers the glue used to carry ----------------------------------------- */

/* Bind outcome of an existing device. verify: 0 match, 1 no match, 2 malformed stored
 * value, 3 stored value names a key this server lacks (see dpw_status). */
typedef enum dpw_bind_outcome {
    DPW_BIND_OK = 0, DPW_BIND_WRONG, DPW_BIND_REVOKED, DPW_BIND_EXPIRED,
    DPW_BIND_NO_SECRET, DPW_BIND_UNKNOWN_KEY, DPW_BIND_ERROR,
    DPW_BIND_WRONG_SERVICE,  /* the device does not list the service of the bind DN */
    DPW_BIND_SUSPENDED       /* the mailbox is suspended or locked by password policy */
} dpw_bind_outcome;

const char *dpw_bind_outcome_name(dpw_bind_outcome o) DPW_NOEXCEPT;

/* revoked, has_secret: facts of the device; verify: dpw_stored_verify's status (only
 * looked at when unrevoked with a secret); expiry: 0 none, 1 valid, -1 unreadable;
 * expired: now >= expiry. */
dpw_bind_outcome dpw_bind_decide(int revoked, int has_secret, int verify, int expiry,
                                 int expired) DPW_NOEXCEPT;

/* The people a sequence of devicepwUser modifications (mods of class DPW_ATTR_USERS;
 * others are skipped) removes from, and adds to, a mailbox whose users are now
 * current[0..ncurrent). Values are normalised DNs, compared byte for byte.
 * removed[] receives indexes into current (capacity ncurrent), added[] pointers to the
 * values in mods that were not users before (capacity added_cap).
 * Returns 0, or -1 when added_cap is too small. */
int dpw_users_diff(const dpw_value *current, size_t ncurrent,
                   const dpw_mod *mods, size_t nmods,
                   size_t *removed, size_t *nremoved,
                   const dpw_value **added, size_t *nadded, size_t added_cap) DPW_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif /* DEVICEPW_POLICY_H */
