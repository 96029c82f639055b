/* devicepw.c - slapd overlay: per-device passwords for mailbox entries.
 *
 * The C glue between slapd and the devicepw core (core/: devicepw_core.h for secrets,
 * keys and digests; policy.h for the rules; telemetry.h and sessions.h for the
 * little state the overlay keeps). The glue gathers facts and applies decisions; the rules
 * themselves are in core/policy.cc, unit-tested without a server.
 *
 * Glossary
 *   mailbox    an entry with objectClass devicepwMailbox (auxiliary)
 *   device     an entry devicepwId=<id>,<mailbox DN>, objectClass devicepwDevice only,
 *              holding the keyed hash of its secret "<id>-xxxx-xxxx-xxxx-xxxx"
 *   person     a DN in the mailbox's devicepwUser: manages the devices they own
 *   admin      the rootdn, a devicepw-admin DN or a member of a devicepw-admin group
 *   actor      the requester's relation to the mailbox an operation is about
 *              (dpw_actor: anonymous, stranger, the mailbox by primary password, the
 *              mailbox by device/SASL, someone proxying as the mailbox, person, admin,
 *              root, replication, the overlay itself)
 *   place      where a DN stands: plain, a device, or below a device (from its RDNs
 *              alone, so that decisions made on it reveal nothing about existence)
 *
 * Operations, each handled by the callback named after it:
 *   bind       a device secret authenticates as the mailbox: one entry read by DN,
 *              one keyed hash; a primary-password bind is remembered per connection
 *   extended   Password Modify on a device generates or rotates its secret; on a
 *              mailbox it is for administrators and the mailbox's own password only
 *   add, modify, modrdn, delete   gather facts, ask the policy, apply its decision
 *   search, compare   direct reads of mailboxes and devices are for their people;
 *              sort keys on devicepwSecret are refused
 *   access_allowed    the visibility rules on every path slapd has (filters, results,
 *              compare, read-entry controls, sync searches): devicepwSecret only for
 *              the rootdn and secret readers, device entries and a mailbox's
 *              hasSubordinates only for the mailbox's people, whatever the ACLs grant
 *   response   belt and braces: devicepwSecret stripped from entries sent to others
 *   entry_get  proxied authorization: a virtual authzFrom for the mailbox's people
 *
 * The overlay never writes into a structure slapd or another overlay owns: filters,
 * attribute lists and entries handed in are read only (an entry being added is the
 * operation's own). Its internal operations start from a clean operation state
 * (devicepw_internal_op): no controls, control flags, CSN, abandon flag or extras of
 * the client operation.
 *
 * Threading: configuration fields change only while slapd is paused (cn=config
 * writes pause the server; slapd.conf is read before threads start), so operation
 * callbacks read them without locks. Per-operation state lives on the stack or in
 * op->o_tmpmemctx. Shared mutable state (failure counters, primary-password
 * sessions) locks internally.
 */

#include "portable.h"

#include <stdio.h>
#include <ac/string.h>
#include <ac/time.h>

#include "slap.h"
#include "slap-config.h"
#include "ldap_rq.h"

#include "devicepw_core.h"
#include "policy.h"
#include "sessions.h"
#include "telemetry.h"
#include "tombstones.h"
#include "nameset.h"

#define DPW_ARC "2.25.255856649164264369961457662193972977575"

/* Defaults: a last use older than a minute is recorded; what is recorded is written
 * every ten seconds. A shown last use is at most precision + interval old. */
#define DPW_LASTUSED_PRECISION 60
#define DPW_TELEMETRY_INTERVAL 10

/* ---- configuration ----------------------------------------------------------- */

typedef struct devicepw_info {
	char *keyfile;             /* devicepw-keyfile */
	char *active_key;          /* devicepw-active-key; NULL: the key file's last key */
	dpw_keyring *ring;         /* loaded from keyfile; NULL until configured */
	int lastused_precision;    /* devicepw-lastused-precision, seconds */
	int primary_password;      /* devicepw-primary-password */
	int max_devices;           /* devicepw-max-devices */
	BerVarray readers;         /* devicepw-secret-reader (pretty / normalised) */
	BerVarray nreaders;
	BerVarray admins;          /* devicepw-admin (pretty / normalised) */
	BerVarray nadmins;
	int telemetry_interval;    /* devicepw-telemetry-interval, seconds */
	dpw_telemetry *telemetry;  /* last uses and failures not yet written */
	slap_overinst *on;         /* this overlay instance (for the flush task) */
	struct re_s *flush_task;   /* the run queue task that writes telemetry */
	struct berval suffix;      /* the database's first suffix (normalised): finds it */
	dpw_tombstones *tombstones; /* entryUUIDs of devices deleted here: deletion wins */
	dpw_nameset *suspended;    /* mailboxes suspended or ppolicy-locked (normalised DNs) */
	ldap_pvt_thread_mutex_t suspended_mutex;  /* one re-read of a mailbox at a time */
	dpw_sessions *sessions;    /* connections bound with a mailbox's own password */
} devicepw_info;

enum {
	DPW_CF_KEYFILE = 1,
	DPW_CF_PRECISION,
	DPW_CF_PRIMARY,
	DPW_CF_MAXDEV,
	DPW_CF_READER,
	DPW_CF_ADMIN,
	DPW_CF_INTERVAL,
	DPW_CF_ACTIVE
};

static ConfigDriver devicepw_cf_gen;

static ConfigTable devicepw_cfg[] = {
	{ "devicepw-keyfile", "path", 2, 2, 0,
	  ARG_STRING|ARG_MAGIC|DPW_CF_KEYFILE, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.1 NAME 'olcDevicepwKeyFile' "
	  "DESC 'Key file for device secret hashes: lines <id> <64 hex>' "
	  "EQUALITY caseExactMatch "
	  "SYNTAX OMsDirectoryString SINGLE-VALUE )", NULL, NULL },
	{ "devicepw-lastused-precision", "seconds", 2, 2, 0,
	  ARG_INT|ARG_MAGIC|DPW_CF_PRECISION, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.2 NAME 'olcDevicepwLastUsedPrecision' "
	  "DESC 'devicepwLastUsed is rewritten only when older than this many seconds' "
	  "EQUALITY integerMatch "
	  "SYNTAX OMsInteger SINGLE-VALUE )", NULL, NULL },
	{ "devicepw-primary-password", "on|off", 2, 2, 0,
	  ARG_ON_OFF|ARG_MAGIC|DPW_CF_PRIMARY, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.3 NAME 'olcDevicepwPrimaryPassword' "
	  "DESC 'Whether the own userPassword of a mailbox still binds' "
	  "EQUALITY booleanMatch "
	  "SYNTAX OMsBoolean SINGLE-VALUE )", NULL, NULL },
	{ "devicepw-max-devices", "count", 2, 2, 0,
	  ARG_INT|ARG_MAGIC|DPW_CF_MAXDEV, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.4 NAME 'olcDevicepwMaxDevices' "
	  "DESC 'Devices per mailbox, revoked ones included' "
	  "EQUALITY integerMatch "
	  "SYNTAX OMsInteger SINGLE-VALUE )", NULL, NULL },
	{ "devicepw-secret-reader", "DN", 2, 2, 0,
	  ARG_DN|ARG_QUOTE|ARG_MAGIC|DPW_CF_READER, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.5 NAME 'olcDevicepwSecretReader' "
	  "DESC 'Identities besides the rootdn that may read devicepwSecret (replication)' "
	  "EQUALITY distinguishedNameMatch "
	  "SYNTAX OMsDN )", NULL, NULL },
	{ "devicepw-admin", "DN", 2, 2, 0,
	  ARG_DN|ARG_QUOTE|ARG_MAGIC|DPW_CF_ADMIN, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.6 NAME 'olcDevicepwAdmin' "
	  "DESC 'People or groups besides the rootdn who manage the devices and users of every mailbox' "
	  "EQUALITY distinguishedNameMatch "
	  "SYNTAX OMsDN )", NULL, NULL },
	{ "devicepw-telemetry-interval", "seconds", 2, 2, 0,
	  ARG_INT|ARG_MAGIC|DPW_CF_INTERVAL, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.7 NAME 'olcDevicepwTelemetryInterval' "
	  "DESC 'Seconds between writes of last uses and failure counts (one transaction each)' "
	  "EQUALITY integerMatch "
	  "SYNTAX OMsInteger SINGLE-VALUE )", NULL, NULL },
	{ "devicepw-active-key", "id", 2, 2, 0,
	  ARG_STRING|ARG_MAGIC|DPW_CF_ACTIVE, devicepw_cf_gen,
	  "( " DPW_ARC ".3.1.8 NAME 'olcDevicepwActiveKey' "
	  "DESC 'Id of the key that hashes new secrets (default: the last key of the key file)' "
	  "EQUALITY caseExactMatch "
	  "SYNTAX OMsDirectoryString SINGLE-VALUE )", NULL, NULL },
	{ NULL, NULL, 0, 0, 0, ARG_IGNORED }
};

static ConfigOCs devicepw_ocs[] = {
	{ "( " DPW_ARC ".3.2.1 "
	  "NAME 'olcDevicepwConfig' "
	  "DESC 'devicepw overlay configuration' "
	  "SUP olcOverlayConfig "
	  "MAY ( olcDevicepwKeyFile $ olcDevicepwLastUsedPrecision $ "
	  "olcDevicepwPrimaryPassword $ olcDevicepwMaxDevices $ "
	  "olcDevicepwSecretReader $ olcDevicepwAdmin $ olcDevicepwTelemetryInterval $ "
	  "olcDevicepwActiveKey ) )",
	  Cft_Overlay, devicepw_cfg, NULL, NULL },
	{ NULL, 0, NULL }
};

/* ---- schema (from devicepw.schema, looked up when the overlay opens) ---------- */

static AttributeDescription *ad_devicepwId, *ad_devicepwLabel, *ad_devicepwOwner,
	*ad_devicepwSecret, *ad_devicepwRevoked, *ad_devicepwRevokedAt,
	*ad_devicepwExpires, *ad_devicepwLastUsed, *ad_devicepwUser, *ad_member,
	*ad_devicepwFailureCount, *ad_devicepwLastFailure, *ad_devicepwService,
	*ad_devicepwSuspended, *ad_devicepwHasSecret, *ad_pwdAccountLockedTime, *ad_devicepwKey;
static ObjectClass *oc_devicepwMailbox, *oc_devicepwDevice, *oc_groupOfNames;
/* Normalised RDN type of a device, "devicepwid=", to build a device's DN from the
 * already normalised mailbox DN without a second normalisation. */
static struct berval devicepw_rdn_prefix = BER_BVNULL;
static char devicepw_rdn_prefix_buf[32];
/* The same for the service RDN of a scoped bind DN, "devicepwservice=". */
static struct berval devicepw_service_prefix = BER_BVNULL;
static char devicepw_service_prefix_buf[32];

static struct berval bv_true = BER_BVC("TRUE");
static slap_overinst devicepw;

/* The normalised form of an RDN type ("devicepwid=" for sample "devicepwId=a"), to
 * build and recognise DNs from already normalised ones without normalising again.
 * Kept in static storage: the same for every database, for the life of the module. */
static int
devicepw_rdn_prefix_of( const char *sample_rdn, char *buf, size_t buflen, struct berval *out,
	ConfigReply *cr )
{
	struct berval sample, norm = BER_BVNULL;
	if ( !BER_BVISNULL( out ) ) return 0;
	ber_str2bv( sample_rdn, 0, 0, &sample );
	if ( dnNormalize( 0, NULL, NULL, &sample, &norm, NULL ) != LDAP_SUCCESS ||
			norm.bv_len < 2 || norm.bv_val[norm.bv_len - 1] != 'a' || norm.bv_len > buflen ) {
		snprintf( cr->msg, sizeof(cr->msg), "devicepw: cannot normalise the RDN %s", sample_rdn );
		Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
		ch_free( norm.bv_val );
		return 1;
	}
	memcpy( buf, norm.bv_val, norm.bv_len - 1 );
	buf[norm.bv_len - 1] = '\0';
	ch_free( norm.bv_val );
	out->bv_val = buf;
	out->bv_len = norm.bv_len - 1;
	return 0;
}

static int
devicepw_schema_lookup( ConfigReply *cr )
{
	static const struct {
		const char *name;
		AttributeDescription **ad;
	} ats[] = {
		{ "devicepwId", &ad_devicepwId },
		{ "devicepwLabel", &ad_devicepwLabel },
		{ "devicepwOwner", &ad_devicepwOwner },
		{ "devicepwSecret", &ad_devicepwSecret },
		{ "devicepwRevoked", &ad_devicepwRevoked },
		{ "devicepwRevokedAt", &ad_devicepwRevokedAt },
		{ "devicepwExpires", &ad_devicepwExpires },
		{ "devicepwLastUsed", &ad_devicepwLastUsed },
		{ "devicepwUser", &ad_devicepwUser },
		{ "devicepwService", &ad_devicepwService },
		{ "devicepwSuspended", &ad_devicepwSuspended },
		{ "member", &ad_member },
		{ NULL, NULL }
	};
	const char *text;
	int i;

	for ( i = 0; ats[i].name; i++ ) {
		*ats[i].ad = NULL;
		if ( slap_str2ad( ats[i].name, ats[i].ad, &text ) != LDAP_SUCCESS ) {
			snprintf( cr->msg, sizeof(cr->msg),
				"devicepw: attribute type %s is not defined: "
				"include devicepw.schema (or load devicepw.ldif) before the database",
				ats[i].name );
			Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
			return 1;
		}
	}
	oc_devicepwMailbox = oc_find( "devicepwMailbox" );
	oc_devicepwDevice = oc_find( "devicepwDevice" );
	oc_groupOfNames = oc_find( "groupOfNames" );
	if ( !oc_devicepwMailbox || !oc_devicepwDevice ) {
		snprintf( cr->msg, sizeof(cr->msg),
			"devicepw: object classes devicepwMailbox/devicepwDevice are not defined: "
			"include devicepw.schema (or load devicepw.ldif)" );
		Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
		return 1;
	}
	if ( devicepw_rdn_prefix_of( "devicepwId=a", devicepw_rdn_prefix_buf,
			sizeof(devicepw_rdn_prefix_buf), &devicepw_rdn_prefix, cr ) ||
		devicepw_rdn_prefix_of( "devicepwService=a", devicepw_service_prefix_buf,
			sizeof(devicepw_service_prefix_buf), &devicepw_service_prefix, cr ) ) {
		return 1;
	}
	/* Optional: slapo-ppolicy's lock stops device binds where ppolicy is loaded. */
	ad_pwdAccountLockedTime = NULL;
	{
		const char *text;
		if ( slap_str2ad( "pwdAccountLockedTime", &ad_pwdAccountLockedTime, &text ) != LDAP_SUCCESS )
			ad_pwdAccountLockedTime = NULL;
	}
	return 0;
}

/* Telemetry attributes: operational and per server (USAGE dSAOperation: never part
 * of what replication compares), written by the server only. slapd takes operational
 * attributes from code only, so the overlay defines them (as slapo-ppolicy and
 * slapo-lastbind do theirs). */
static struct {
	char *def;
	AttributeDescription **ad;
} devicepw_operational_ats[] = {
	{ "( " DPW_ARC ".1.10 NAME 'devicepwFailureCount' "
	  "DESC 'Failed binds counted against this device on this server (telemetry)' "
	  "EQUALITY integerMatch ORDERING integerOrderingMatch "
	  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE "
	  "NO-USER-MODIFICATION USAGE dSAOperation )", &ad_devicepwFailureCount },
	{ "( " DPW_ARC ".1.11 NAME 'devicepwLastFailure' "
	  "DESC 'Last failed bind counted against this device on this server (telemetry)' "
	  "EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch "
	  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE "
	  "NO-USER-MODIFICATION USAGE dSAOperation )", &ad_devicepwLastFailure },
	{ "( " DPW_ARC ".1.14 NAME 'devicepwHasSecret' "
	  "DESC 'TRUE when a secret was generated for this device (computed, never stored)' "
	  "EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE "
	  "NO-USER-MODIFICATION USAGE dSAOperation )", &ad_devicepwHasSecret },
	{ "( " DPW_ARC ".1.15 NAME 'devicepwKey' "
	  "DESC 'A key this server holds: <id> <fingerprint> [active] (computed, never stored)' "
	  "EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 "
	  "NO-USER-MODIFICATION USAGE dSAOperation )", &ad_devicepwKey },
	{ NULL, NULL }
};

/* ---- small helpers ------------------------------------------------------------ */

/* 1 when ndn is in the normalised DN list. */
static int
devicepw_dn_in( BerVarray list, struct berval *ndn )
{
	int i;
	if ( !list || BER_BVISEMPTY( ndn ) ) return 0;
	for ( i = 0; !BER_BVISNULL( &list[i] ); i++ ) {
		if ( dn_match( &list[i], ndn ) ) return 1;
	}
	return 0;
}

/* The rootdn, a replication update, or a configured devicepw-admin (directly or
 * as a member of a configured groupOfNames). These manage every device. */
static int
devicepw_is_admin( Operation *op, devicepw_info *di )
{
	int i;
	if ( be_isroot( op ) || be_shadow_update( op ) ) return 1;
	if ( BER_BVISEMPTY( &op->o_ndn ) || !di->nadmins ) return 0;
	if ( devicepw_dn_in( di->nadmins, &op->o_ndn ) ) return 1;
	if ( !oc_groupOfNames || !ad_member ) return 0;
	for ( i = 0; !BER_BVISNULL( &di->nadmins[i] ); i++ ) {
		if ( backend_group( op, NULL, &di->nadmins[i], &op->o_ndn,
				oc_groupOfNames, ad_member ) == 0 ) {
			return 1;
		}
	}
	return 0;
}

/* Fetch an entry straight from the backend under this overlay (no overlay entry
 * hooks: the overlay's own reads need none, and the bind path saves the walk). */
static int
devicepw_entry_get( Operation *op, slap_overinst *on, struct berval *ndn,
	ObjectClass *oc, Entry **e )
{
	BackendInfo *bi = op->o_bd->bd_info, *orig = on->on_info->oi_orig;
	int rc = LDAP_UNWILLING_TO_PERFORM;
	*e = NULL;
	if ( orig->bi_entry_get_rw ) {
		op->o_bd->bd_info = orig;
		rc = orig->bi_entry_get_rw( op, ndn, oc, NULL, 0, e );
		op->o_bd->bd_info = bi;
	}
	if ( rc != LDAP_SUCCESS ) *e = NULL;
	return rc;
}

static void
devicepw_entry_release( Operation *op, slap_overinst *on, Entry *e )
{
	BackendInfo *bi = op->o_bd->bd_info, *orig = on->on_info->oi_orig;
	op->o_bd->bd_info = orig;
	if ( orig->bi_entry_release_rw ) orig->bi_entry_release_rw( op, e, 0 );
	else entry_free( e );
	op->o_bd->bd_info = bi;
}

static int
devicepw_attr_is_true( Entry *e, AttributeDescription *ad )
{
	Attribute *a = attr_find( e->e_attrs, ad );
	return a && a->a_numvals > 0 && bvmatch( &a->a_nvals[0], &bv_true );
}

/* A GeneralizedTime attribute as seconds since the epoch in *t. Returns 0 when
 * absent, 1 when present and valid, -1 when present but unreadable (callers fail
 * closed: an unreadable expiry means expired). */
static int
devicepw_attr_time( Entry *e, AttributeDescription *ad, int64_t *t )
{
	Attribute *a = attr_find( e->e_attrs, ad );
	if ( !a || a->a_numvals == 0 ) return 0;
	if ( dpw_gentime_parse( a->a_vals[0].bv_val, a->a_vals[0].bv_len, t ) != 0 ) return -1;
	return 1;
}

/* Whether devicepwLastUsed is older than precision seconds (or absent), i.e. must be
 * rewritten. The server writes it as "YYYYMMDDHHMMSSZ", and such values order as
 * strings: comparing with the threshold, formatted once per second per thread,
 * spares a parse per bind. Anything else is parsed. */
static int
devicepw_lastused_stale( Operation *op, Entry *e, int precision )
{
	static __thread time_t cached_now = -1;
	static __thread int cached_precision = -1;
	static __thread char threshold[16];
	Attribute *a = attr_find( e->e_attrs, ad_devicepwLastUsed );
	int64_t last;

	if ( !a || a->a_numvals == 0 ) return 1;
	if ( precision <= 0 ) return 1;
	if ( a->a_vals[0].bv_len == 15 && a->a_vals[0].bv_val[14] == 'Z' ) {
		if ( cached_now != op->o_time || cached_precision != precision ) {
			dpw_gentime_format( (int64_t)op->o_time - precision, threshold );
			cached_now = op->o_time;
			cached_precision = precision;
		}
		/* stale when last <= now - precision, i.e. now - last >= precision */
		return memcmp( a->a_vals[0].bv_val, threshold, 15 ) <= 0;
	}
	if ( dpw_gentime_parse( a->a_vals[0].bv_val, a->a_vals[0].bv_len, &last ) != 0 ) return 1;
	return (int64_t)op->o_time - last >= (int64_t)precision;
}

/* Build "devicepwid=<id>,<mailbox ndn>" in buf when it fits (the bind path), else in
 * op memory. Returns 1 when the result must be freed with op->o_tmpfree. */
static int
devicepw_device_ndn( Operation *op, const char *id, size_t id_len,
	struct berval *mailbox_ndn, struct berval *out, char *buf, size_t buflen )
{
	ber_len_t len = devicepw_rdn_prefix.bv_len + id_len + 1 + mailbox_ndn->bv_len;
	int allocated = len + 1 > buflen;
	char *p = allocated ? op->o_tmpalloc( len + 1, op->o_tmpmemctx ) : buf;
	out->bv_val = p;
	out->bv_len = len;
	memcpy( p, devicepw_rdn_prefix.bv_val, devicepw_rdn_prefix.bv_len );
	p += devicepw_rdn_prefix.bv_len;
	memcpy( p, id, id_len );
	p += id_len;
	*p++ = ',';
	memcpy( p, mailbox_ndn->bv_val, mailbox_ndn->bv_len );
	p[mailbox_ndn->bv_len] = '\0';
	return allocated;
}

/* 1 when a normalised RDN is devicepwId=<something>. */
static int
devicepw_rdn_is_device( struct berval *rdn )
{
	return rdn->bv_len > devicepw_rdn_prefix.bv_len &&
		strncasecmp( rdn->bv_val, devicepw_rdn_prefix.bv_val, devicepw_rdn_prefix.bv_len ) == 0;
}

/* The device id named by a device's normalised DN, or 0 when the RDN is not
 * devicepwId=<valid id>. */
static int
devicepw_ndn_device_id( struct berval *ndn, struct berval *id )
{
	struct berval rdn;
	BER_BVZERO( id );
	dnRdn( ndn, &rdn );
	if ( !devicepw_rdn_is_device( &rdn ) ) return 0;
	id->bv_val = rdn.bv_val + devicepw_rdn_prefix.bv_len;
	id->bv_len = rdn.bv_len - devicepw_rdn_prefix.bv_len;
	return dpw_id_valid( id->bv_val, id->bv_len );
}

/* Where a normalised DN stands relative to devices (dpw_place): PLAIN when no RDN of
 * it is devicepwId=...; DEVICE when its own (and only) such RDN is the first;
 * BELOW_DEVICE when it lies below one. For the last two, *mailbox is set to the DN
 * above the topmost devicepwId RDN: the mailbox that decides who may know. */
static dpw_place
devicepw_dn_place( struct berval *ndn, struct berval *mailbox )
{
	struct berval cur = *ndn, rdn, parent;
	int depth = 0, found = -1;

	while ( !BER_BVISEMPTY( &cur ) ) {
		dnRdn( &cur, &rdn );
		dnParent( &cur, &parent );
		if ( devicepw_rdn_is_device( &rdn ) ) {
			found = depth;
			*mailbox = parent;
		}
		cur = parent;
		depth++;
	}
	if ( found < 0 ) return DPW_PLACE_PLAIN;
	return found == 0 ? DPW_PLACE_DEVICE : DPW_PLACE_BELOW_DEVICE;
}

/* 1 when e is a device entry: named devicepwId=... (only devices may be: the add and
 * modrdn rules). Cheaper than an object class test, for the visibility hooks. */
static int
devicepw_entry_is_device( Entry *e )
{
	struct berval rdn;
	if ( BER_BVISEMPTY( &e->e_nname ) ) return 0;
	dnRdn( &e->e_nname, &rdn );
	return devicepw_rdn_is_device( &rdn );
}
/* ---- internal operations ------------------------------------------------------ */

/* The overlay's own internal writes carry this as the private data of their
 * callback, so that its handlers know them (DPW_ACTOR_INTERNAL) and log nothing twice. */
static char devicepw_internal_marker;

static int
devicepw_op_is_internal( Operation *op )
{
	slap_callback *sc;
	for ( sc = op->o_callback; sc; sc = sc->sc_next ) {
		if ( sc->sc_private == &devicepw_internal_marker ) return 1;
	}
	return 0;
}

/* The one builder of internal operations: a copy of the client operation's header
 * (thread, connection, memory context, time) with a clean operation state: as the
 * rootdn, no controls and no control flags, no CSN, not abandoned, no extras, no
 * read-entry controls, replicated normally. ctrlflags and controls are the caller's
 * storage for the cleared per-control arrays. */
static void
devicepw_internal_op( Operation *op, Operation *op2, ber_tag_t tag, slap_callback *cb,
	void **controls )
{
	*op2 = *op;
	op2->o_tag = tag;
	op2->o_callback = cb;
	op2->o_dn = op->o_bd->be_rootdn;
	op2->o_ndn = op->o_bd->be_rootndn;
	op2->o_ctrls = NULL;
	memset( op2->o_ctrlflag, 0, sizeof(op2->o_ctrlflag) );
	memset( controls, 0, sizeof(void *) * SLAP_MAX_CIDS );
	op2->o_controls = controls;
	BER_BVZERO( &op2->o_csn );
	op2->o_abandon = 0;
	op2->o_cancel = SLAP_CANCEL_NONE;
	op2->o_dont_replicate = 0;
	op2->o_no_schema_check = 0;
	op2->o_groups = NULL;
	op2->o_do_not_cache = 1;
	LDAP_SLIST_INIT( &op2->o_extra );
}

/* An internal modify of dn through the whole overlay stack of this database (so
 * syncprov and accesslog see it and it replicates), as the rootdn. mods are freed by
 * the caller. */
static int
devicepw_internal_modify( Operation *op, slap_overinst *on, struct berval *dn,
	struct berval *ndn, Modifications *mods )
{
	Operation op2;
	void *controls[SLAP_MAX_CIDS];
	SlapReply rs2 = { REP_RESULT };
	slap_callback cb = { NULL, slap_null_cb, NULL, &devicepw_internal_marker };
	BackendInfo *bi = op->o_bd->bd_info;
	int rc;

	devicepw_internal_op( op, &op2, LDAP_REQ_MODIFY, &cb, controls );
	op2.o_req_dn = *dn;
	op2.o_req_ndn = *ndn;
	op2.orm_modlist = mods;
	op2.orm_no_opattrs = 0;
	op2.orm_increment = 0;
	op2.o_bd->bd_info = (BackendInfo *)on->on_info;
	rc = op2.o_bd->be_modify( &op2, &rs2 );
	op->o_bd->bd_info = bi;
	if ( rc == LDAP_SUCCESS ) rc = rs2.sr_err;
	return rc;
}

static Modifications *
devicepw_mod_values( AttributeDescription *ad, short op, const char *value, size_t len )
{
	Modifications *m = ch_calloc( 1, sizeof(Modifications) );
	m->sml_op = op;
	m->sml_flags = SLAP_MOD_INTERNAL;
	m->sml_desc = ad;
	m->sml_type = ad->ad_cname;
	m->sml_numvals = 1;
	m->sml_values = ch_calloc( 2, sizeof(struct berval) );
	m->sml_values[0].bv_val = ch_malloc( len + 1 );
	memcpy( m->sml_values[0].bv_val, value, len );
	m->sml_values[0].bv_val[len] = '\0';
	m->sml_values[0].bv_len = len;
	m->sml_nvalues = ch_calloc( 2, sizeof(struct berval) );
	ber_dupbv( &m->sml_nvalues[0], &m->sml_values[0] );
	return m;
}

static Modifications *
devicepw_mod_replace( AttributeDescription *ad, const char *value, size_t len )
{
	return devicepw_mod_values( ad, LDAP_MOD_REPLACE, value, len );
}

/* Internal search on the backend under this overlay (no other overlay sees it), as
 * the rootdn, with no controls; every entry found is passed to collect. A base that
 * does not exist counts as nothing found. */
static int
devicepw_internal_search( Operation *op, slap_overinst *on, struct berval *base, int scope,
	Filter *filter, const char *filterstr, AttributeName *attrs,
	slap_response *collect, void *private )
{
	Operation op2;
	void *controls[SLAP_MAX_CIDS];
	SlapReply rs2 = { REP_RESULT };
	slap_callback cb = { NULL, collect, NULL, private };
	BackendInfo *bi = op->o_bd->bd_info;
	int rc;

	devicepw_internal_op( op, &op2, LDAP_REQ_SEARCH, &cb, controls );
	op2.o_req_dn = *base;
	op2.o_req_ndn = *base;
	op2.o_managedsait = SLAP_CONTROL_CRITICAL;	/* no implicit referral clause */
	op2.ors_scope = scope;
	op2.ors_deref = LDAP_DEREF_NEVER;
	op2.ors_slimit = SLAP_NO_LIMIT;
	op2.ors_tlimit = SLAP_NO_LIMIT;
	op2.ors_limit = NULL;
	op2.ors_attrsonly = attrs == slap_anlist_no_attrs;
	op2.ors_attrs = attrs;
	op2.ors_filter = filter;
	ber_str2bv( filterstr, 0, 0, &op2.ors_filterstr );
	op2.o_bd->bd_info = on->on_info->oi_orig;
	rc = on->on_info->oi_orig->bi_op_search( &op2, &rs2 );
	op->o_bd->bd_info = bi;
	if ( rc == LDAP_SUCCESS ) rc = rs2.sr_err;
	return rc == LDAP_NO_SUCH_OBJECT ? LDAP_SUCCESS : rc;
}

/* The one collector of internal searches: the normalised DNs of the entries found
 * (those with devicepwRevoked: TRUE skipped when skip_revoked), and their number. */
typedef struct devicepw_found {
	BerVarray dns;		/* ch_malloc'd; NULL when only counting */
	int n;
	int keep_dns;
	int skip_revoked;
} devicepw_found;

static int
devicepw_collect_cb( Operation *op, SlapReply *rs )
{
	devicepw_found *f = op->o_callback->sc_private;
	if ( rs->sr_type != REP_SEARCH || !rs->sr_entry ) return 0;
	if ( f->skip_revoked && devicepw_attr_is_true( rs->sr_entry, ad_devicepwRevoked ) ) return 0;
	f->n++;
	if ( f->keep_dns ) value_add_one( &f->dns, &rs->sr_entry->e_nname );
	return 0;
}

/* Count the devices under a mailbox (one-level search on the backend itself). */
static int
devicepw_count_devices( Operation *op, slap_overinst *on, struct berval *mailbox_ndn,
	int *count )
{
	devicepw_found c = { NULL, 0, 0, 0 };
	AttributeAssertion ava = ATTRIBUTEASSERTION_INIT;
	Filter f = { 0 };
	int rc;

	ava.aa_desc = slap_schema.si_ad_objectClass;
	ava.aa_value = oc_devicepwDevice->soc_cname;
	f.f_choice = LDAP_FILTER_EQUALITY;
	f.f_ava = &ava;
	rc = devicepw_internal_search( op, on, mailbox_ndn, LDAP_SCOPE_ONELEVEL, &f,
		"(objectClass=devicepwDevice)", slap_anlist_no_attrs, devicepw_collect_cb, &c );
	*count = c.n;
	return rc;
}

/* ---- who asks ------------------------------------------------------------------ */

/* 1 when ndn is one of the normalised values of ad in e. */
static int
devicepw_entry_has_dn( Entry *e, AttributeDescription *ad, struct berval *ndn )
{
	Attribute *a = attr_find( e->e_attrs, ad );
	unsigned i;
	if ( !a || BER_BVISEMPTY( ndn ) ) return 0;
	for ( i = 0; i < a->a_numvals; i++ ) {
		if ( dn_match( &a->a_nvals[i], ndn ) ) return 1;
	}
	return 0;
}

/* The actor as far as it does not depend on a mailbox: the server itself, an
 * administrator, anonymous; DPW_ACTOR_STRANGER for everyone else. */
static dpw_actor
devicepw_actor_global( Operation *op, devicepw_info *di )
{
	if ( devicepw_op_is_internal( op ) ) return DPW_ACTOR_INTERNAL;
	if ( be_shadow_update( op ) ) return DPW_ACTOR_REPLICATION;
	if ( be_isroot( op ) ) return DPW_ACTOR_ROOT;
	if ( BER_BVISEMPTY( &op->o_ndn ) ) return DPW_ACTOR_ANONYMOUS;
	if ( devicepw_is_admin( op, di ) ) return DPW_ACTOR_ADMIN;
	return DPW_ACTOR_STRANGER;
}

/* The requester's relation to the mailbox mb (an entry already read, or NULL when
 * the mailbox does not exist), given the global actor. */
static dpw_actor
devicepw_actor_on( Operation *op, devicepw_info *di, dpw_actor global, Entry *mb,
	struct berval *mailbox_ndn )
{
	if ( global != DPW_ACTOR_STRANGER || !mb ) return global;
	if ( dn_match( &op->o_ndn, mailbox_ndn ) ) {
		/* The mailbox itself: someone acting as it, or bound with a device secret or
		 * by SASL, or with its own password (recorded by the bind handler). */
		if ( !op->o_conn || !dn_match( &op->o_ndn, &op->o_conn->c_ndn ) )
			return DPW_ACTOR_MAILBOX_PROXIED;
		if ( dpw_sessions_is_primary( di->sessions, (uint64_t)op->o_connid,
				op->o_ndn.bv_val, op->o_ndn.bv_len ) )
			return DPW_ACTOR_MAILBOX_PRIMARY;
		return DPW_ACTOR_MAILBOX_DEVICE;
	}
	if ( devicepw_entry_has_dn( mb, ad_devicepwUser, &op->o_ndn ) ) return DPW_ACTOR_PERSON;
	return DPW_ACTOR_STRANGER;
}

/* The requester's relation to the mailbox at mailbox_ndn, reading it when needed.
 * *exists (NULL allowed) is set to whether that entry is a mailbox. */
static dpw_actor
devicepw_actor_for( Operation *op, slap_overinst *on, devicepw_info *di,
	struct berval *mailbox_ndn, int *exists )
{
	Entry *mb = NULL;
	dpw_actor global = devicepw_actor_global( op, di ), actor;

	if ( exists ) *exists = 0;
	if ( global != DPW_ACTOR_STRANGER && !exists ) return global;
	if ( devicepw_entry_get( op, on, mailbox_ndn, oc_devicepwMailbox, &mb ) != LDAP_SUCCESS ) {
		mb = NULL;
	}
	if ( exists ) *exists = mb != NULL;
	actor = devicepw_actor_on( op, di, global, mb, mailbox_ndn );
	if ( mb ) devicepw_entry_release( op, on, mb );
	return actor;
}

/* Log a refusal and answer it. */
static int
devicepw_refuse( Operation *op, SlapReply *rs, int err, const char *text, const char *what,
	dpw_actor actor )
{
	Debug( LDAP_DEBUG_STATS, "%s devicepw %s dn=\"%s\" by=\"%s\" as=%s refused: %s\n",
		op->o_log_prefix, what, op->o_req_dn.bv_val, op->o_dn.bv_val,
		dpw_actor_name( actor ), text );
	send_ldap_error( op, rs, err, text );
	return rs->sr_err;
}

/* ---- modifications as the policy sees them --------------------------------------- */

/* The attribute class of a description: by its type (so options and OID forms of a
 * protected attribute are the same attribute), classified by the core. */
static dpw_attr_class
devicepw_ad_class( AttributeDescription *ad )
{
	struct berval *name;
	if ( !ad || !ad->ad_type ) return DPW_ATTR_OTHER;
	name = &ad->ad_type->sat_cname;
	return dpw_attr_classify( name->bv_val, name->bv_len );
}

/* Values of a berval array as dpw_values in op memory (NULL when there are none). */
static dpw_value *
devicepw_values( Operation *op, BerVarray vals, size_t *n )
{
	dpw_value *v;
	size_t i, count = 0;
	*n = 0;
	if ( !vals ) return NULL;
	while ( !BER_BVISNULL( &vals[count] ) ) count++;
	if ( count == 0 ) return NULL;
	v = op->o_tmpalloc( count * sizeof(dpw_value), op->o_tmpmemctx );
	for ( i = 0; i < count; i++ ) {
		v[i].val = vals[i].bv_val;
		v[i].len = vals[i].bv_len;
	}
	*n = count;
	return v;
}

/* A modification list as dpw_mods in op memory; free with devicepw_mods_free. For
 * devicepwRevoked and devicepwUser the normalised values are used (booleanMatch has
 * no normaliser: then the values). */
static dpw_mod *
devicepw_mods_of( Operation *op, Modifications *ml, size_t *n )
{
	Modifications *m;
	dpw_mod *mods;
	size_t count = 0, i = 0;

	for ( m = ml; m; m = m->sml_next ) count++;
	*n = count;
	if ( count == 0 ) return NULL;
	mods = op->o_tmpcalloc( count, sizeof(dpw_mod), op->o_tmpmemctx );
	for ( m = ml; m; m = m->sml_next, i++ ) {
		BerVarray v = m->sml_values;
		mods[i].cls = devicepw_ad_class( m->sml_desc );
		if ( ( mods[i].cls == DPW_ATTR_REVOKED || mods[i].cls == DPW_ATTR_USERS ) &&
				m->sml_nvalues ) {
			v = m->sml_nvalues;
		}
		switch ( m->sml_op & LDAP_MOD_OP ) {
		case LDAP_MOD_DELETE:
		case SLAP_MOD_SOFTDEL:
			mods[i].kind = DPW_MOD_DELETE;
			break;
		case LDAP_MOD_REPLACE:
			mods[i].kind = DPW_MOD_REPLACE;
			break;
		default:	/* add, soft add, increment */
			mods[i].kind = DPW_MOD_ADD;
		}
		mods[i].values = devicepw_values( op, v, &mods[i].nvalues );
		mods[i].server_internal = ( m->sml_flags & SLAP_MOD_INTERNAL ) != 0;
	}
	return mods;
}

/* The attributes of an entry as dpw_mods (kind ADD). */
static dpw_mod *
devicepw_attrs_of( Operation *op, Entry *e, size_t *n )
{
	Attribute *a;
	dpw_mod *mods;
	size_t count = 0, i = 0;

	for ( a = e->e_attrs; a; a = a->a_next ) count++;
	*n = count;
	if ( count == 0 ) return NULL;
	mods = op->o_tmpcalloc( count, sizeof(dpw_mod), op->o_tmpmemctx );
	for ( a = e->e_attrs; a; a = a->a_next, i++ ) {
		mods[i].cls = devicepw_ad_class( a->a_desc );
		mods[i].kind = DPW_MOD_ADD;
		mods[i].values = devicepw_values( op, a->a_vals, &mods[i].nvalues );
	}
	return mods;
}

static void
devicepw_mods_free( Operation *op, dpw_mod *mods, size_t n )
{
	size_t i;
	if ( !mods ) return;
	for ( i = 0; i < n; i++ ) {
		if ( mods[i].values ) op->o_tmpfree( (void *)mods[i].values, op->o_tmpmemctx );
	}
	op->o_tmpfree( mods, op->o_tmpmemctx );
}

/* ---- response callbacks (defined after the handlers that push them) ------------- */

/* State carried from a modify, add or delete to its result. */
typedef struct devicepw_post {
	slap_overinst *on;
	struct berval target;	/* normalised DN of the modified/deleted entry */
	BerVarray removed;	/* people removed from the mailbox (modify) */
	struct berval uuid;	/* entryUUID of a deleted device (delete) */
} devicepw_post;

static void devicepw_push_post( Operation *op, slap_overinst *on, slap_response *response,
	BerVarray removed );
static slap_response devicepw_modify_result, devicepw_delete_result, devicepw_device_deleted,
	devicepw_readd_result, devicepw_revocation_merged_result, devicepw_suspension_result;
static int devicepw_mods_suspend( Modifications *ml );

/* ---- bind --------------------------------------------------------------------- */

/* A successful simple bind with an entry's own password: remember the connection as
 * bound with a primary password (the only way a mailbox keeps the right to set its
 * credentials). */
static int
devicepw_primary_bind_result( Operation *op, SlapReply *rs )
{
	devicepw_info *di = op->o_callback->sc_private;
	if ( rs->sr_type == REP_RESULT && rs->sr_err == LDAP_SUCCESS ) {
		dpw_sessions_set_primary( di->sessions, (uint64_t)op->o_connid,
			op->o_req_ndn.bv_val, op->o_req_ndn.bv_len );
	}
	return SLAP_CB_CONTINUE;
}

static int
devicepw_primary_bind_cleanup( Operation *op, SlapReply *rs )
{
	slap_callback *sc = op->o_callback;
	if ( rs->sr_type == REP_RESULT || op->o_abandon || rs->sr_err == SLAPD_ABANDON ) {
		op->o_callback = sc->sc_next;
		op->o_tmpfree( sc, op->o_tmpmemctx );
	}
	return SLAP_CB_CONTINUE;
}

/* When the password does not name a device: a mailbox's own userPassword binds
 * only if devicepw-primary-password is on; anything else binds as stock slapd. */
static int
devicepw_bind_primary( Operation *op, SlapReply *rs, slap_overinst *on, devicepw_info *di )
{
	slap_callback *sc;
	if ( !di->primary_password ) {
		Entry *e = NULL;
		if ( devicepw_entry_get( op, on, &op->o_req_ndn, oc_devicepwMailbox, &e ) == LDAP_SUCCESS
				&& e ) {
			devicepw_entry_release( op, on, e );
			Debug( LDAP_DEBUG_STATS, "%s devicepw BIND mailbox=\"%s\" outcome=primary-password-off\n",
				op->o_log_prefix, op->o_req_dn.bv_val );
			send_ldap_error( op, rs, LDAP_INVALID_CREDENTIALS, NULL );
			return rs->sr_err;
		}
	}
	sc = op->o_tmpcalloc( 1, sizeof(slap_callback), op->o_tmpmemctx );
	sc->sc_response = devicepw_primary_bind_result;
	sc->sc_cleanup = devicepw_primary_bind_cleanup;
	sc->sc_private = di;
	sc->sc_next = op->o_callback;
	op->o_callback = sc;
	return SLAP_CB_CONTINUE;
}

/* A scoped bind DN with a password that names no device: the same 49 as any other
 * failure (there is no entry to fall back to). */
static int
devicepw_bind_refuse_scoped( Operation *op, SlapReply *rs, const char *why )
{
	Debug( LDAP_DEBUG_STATS, "%s devicepw BIND dn=\"%s\" outcome=%s\n",
		op->o_log_prefix, op->o_req_dn.bv_val, why );
	send_ldap_error( op, rs, LDAP_INVALID_CREDENTIALS, NULL );
	return rs->sr_err;
}

/* Whether device e may be used for service (normalised; NULL: a bind to the plain
 * mailbox DN, for no particular service, which only unscoped devices allow). */
static int
devicepw_service_allowed( Entry *e, struct berval *service )
{
	Attribute *a = ad_devicepwService ? attr_find( e->e_attrs, ad_devicepwService ) : NULL;
	unsigned i;
	if ( !a || a->a_numvals == 0 ) return 1;	/* unscoped: every service */
	if ( !service ) return 0;
	for ( i = 0; i < a->a_numvals; i++ ) {
		struct berval *v = &a->a_nvals[i];
		if ( v->bv_len == service->bv_len &&
				strncasecmp( v->bv_val, service->bv_val, v->bv_len ) == 0 ) {
			return 1;
		}
	}
	return 0;
}

/* Whether the mailbox is suspended (devicepwSuspended: TRUE) or locked by slapo-ppolicy
 * (pwdAccountLockedTime present). A mailbox that cannot be read counts as suspended. */
static int
devicepw_entry_suspended( Entry *mb )
{
	return ( ad_devicepwSuspended && devicepw_attr_is_true( mb, ad_devicepwSuspended ) ) ||
		( ad_pwdAccountLockedTime && attr_find( mb->e_attrs, ad_pwdAccountLockedTime ) );
}

/* Once the suspended mailboxes are loaded (devicepw_suspension_load), the bind asks the
 * set in memory, which takes no lock while no mailbox is suspended; until then it reads
 * the mailbox entry. */
static int
devicepw_mailbox_suspended( Operation *op, slap_overinst *on, struct berval *mailbox_ndn )
{
	devicepw_info *di = on->on_bi.bi_private;
	Entry *mb = NULL;
	int suspended;
	if ( dpw_nameset_ready( di->suspended ) ) {
		return dpw_nameset_has( di->suspended, mailbox_ndn->bv_val, mailbox_ndn->bv_len );
	}
	if ( devicepw_entry_get( op, on, mailbox_ndn, NULL, &mb ) != LDAP_SUCCESS || !mb ) return 1;
	suspended = devicepw_entry_suspended( mb );
	devicepw_entry_release( op, on, mb );
	return suspended;
}

/* Read the mailbox at ndn again and put it in or out of the suspended set. Serialised,
 * so that of two re-reads racing the one that read the later state writes last. */
static void
devicepw_suspension_refresh( Operation *op, slap_overinst *on, struct berval *ndn )
{
	devicepw_info *di = on->on_bi.bi_private;
	BackendInfo *bi = op->o_bd->bd_info;
	Entry *mb = NULL;
	int in = 0;
	ldap_pvt_thread_mutex_lock( &di->suspended_mutex );
	if ( devicepw_entry_get( op, on, ndn, oc_devicepwMailbox, &mb ) == LDAP_SUCCESS && mb ) {
		in = devicepw_entry_suspended( mb );
		devicepw_entry_release( op, on, mb );
	}
	if ( dpw_nameset_set( di->suspended, ndn->bv_val, ndn->bv_len, in ) != 0 ) {
		/* out of memory: binds read the entries again, always right */
		Debug( LDAP_DEBUG_ANY, "devicepw: cannot record the suspension of \"%s\"\n", ndn->bv_val );
	}
	ldap_pvt_thread_mutex_unlock( &di->suspended_mutex );
	op->o_bd->bd_info = bi;
}

/* A successful scoped bind is a bind as the mailbox: the request DN becomes the
 * mailbox's, which slapd then records as the connection's identity. The operation's
 * own DN strings are replaced in its memory context, where slapd frees them. */
static void
devicepw_bind_as_mailbox( Operation *op )
{
	struct berval pdn, pndn, dn, ndn;
	dnParent( &op->o_req_dn, &pdn );
	dnParent( &op->o_req_ndn, &pndn );
	ber_dupbv_x( &dn, &pdn, op->o_tmpmemctx );
	ber_dupbv_x( &ndn, &pndn, op->o_tmpmemctx );
	op->o_tmpfree( op->o_req_dn.bv_val, op->o_tmpmemctx );
	op->o_tmpfree( op->o_req_ndn.bv_val, op->o_tmpmemctx );
	op->o_req_dn = dn;
	op->o_req_ndn = ndn;
}

/* The keyed digest of the offered secret, compared with a value it cannot match: a
 * device that decides without its digest (revoked, no secret) then costs what a wrong
 * secret costs, so that the time of a 49 does not tell a revoked device's right secret
 * from a wrong one (bench/README.md, "Timing of failed binds"). */
static void
devicepw_digest_anyway( dpw_keyring *ring, const char *canon, size_t len )
{
	char dummy[DPW_STORED_MAX];
	const char *kid = dpw_keyring_current_id( ring );
	size_t kl = strlen( kid );
	memcpy( dummy, "dpw1$", 5 );
	memcpy( dummy + 5, kid, kl );
	dummy[5 + kl] = '$';
	memset( dummy + 6 + kl, '0', 64 );
	(void)dpw_stored_verify( ring, dummy, 6 + kl + 64, canon, len );
}

static int
devicepw_op_bind( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	char canon[DPW_CANONICAL_MAX + 1];
	size_t id_len;
	struct berval device_ndn;
	char ndn_buf[512];
	int ndn_allocated;
	Entry *e = NULL;
	Attribute *a;
	dpw_bind_outcome outcome;
	int record_use = 0;
	unsigned long stored_failures = 0;
	dpw_keyring *ring = di->ring;
	char keyid[DPW_KEYID_MAX + 1] = "";
	/* A scoped bind: devicepwService=<service>,<mailbox DN> binds as the mailbox for
	 * that service (DESIGN.md, "Service scopes"). */
	struct berval mailbox_ndn = op->o_req_ndn, service = BER_BVNULL;
	int scoped = 0;

	if ( op->orb_method != LDAP_AUTH_SIMPLE ) return SLAP_CB_CONTINUE;
	/* A new bind ends whatever the connection was bound as. */
	dpw_sessions_forget( di->sessions, (uint64_t)op->o_connid );
	if ( BER_BVISEMPTY( &op->orb_cred ) || !ring || BER_BVISNULL( &devicepw_rdn_prefix ) ) {
		return SLAP_CB_CONTINUE;
	}
	if ( !BER_BVISNULL( &devicepw_service_prefix ) ) {
		struct berval rdn;
		dnRdn( &op->o_req_ndn, &rdn );
		if ( rdn.bv_len > devicepw_service_prefix.bv_len &&
				strncasecmp( rdn.bv_val, devicepw_service_prefix.bv_val,
					devicepw_service_prefix.bv_len ) == 0 ) {
			scoped = 1;
			service.bv_val = rdn.bv_val + devicepw_service_prefix.bv_len;
			service.bv_len = rdn.bv_len - devicepw_service_prefix.bv_len;
			dnParent( &op->o_req_ndn, &mailbox_ndn );
		}
	}
	if ( dpw_secret_canonical( op->orb_cred.bv_val, op->orb_cred.bv_len,
			canon, &id_len ) != DPW_OK ) {
		/* a scoped DN is no entry: only a device password binds there */
		if ( scoped ) return devicepw_bind_refuse_scoped( op, rs, "not-a-device-secret" );
		return devicepw_bind_primary( op, rs, on, di );
	}

	ndn_allocated = devicepw_device_ndn( op, canon, id_len, &mailbox_ndn, &device_ndn,
		ndn_buf, sizeof(ndn_buf) );
	/* No object class check here (it costs): only devices may be named devicepwId=
	 * (the add and modrdn rules) and only devicepwDevice allows devicepwSecret. */
	if ( devicepw_entry_get( op, on, &device_ndn, NULL, &e ) != LDAP_SUCCESS
			|| !e ) {
		/* No such device of this mailbox: the password is not a device secret. */
		if ( ndn_allocated ) op->o_tmpfree( device_ndn.bv_val, op->o_tmpmemctx );
		explicit_bzero( canon, sizeof(canon) );
		if ( scoped ) return devicepw_bind_refuse_scoped( op, rs, "no-such-device" );
		return devicepw_bind_primary( op, rs, on, di );
	}

	/* The device decides. */
	{
		int revoked = devicepw_attr_is_true( e, ad_devicepwRevoked );
		int has_secret = 0, verify = DPW_INVALID, expiry = 0, expired = 0;
		int64_t expires = 0;
		a = attr_find( e->e_attrs, ad_devicepwSecret );
		if ( !revoked && a && a->a_numvals > 0 ) {
			has_secret = 1;
			verify = dpw_stored_verify( ring, a->a_vals[0].bv_val, a->a_vals[0].bv_len,
				canon, id_len + DPW_RANDOM_CHARS );
			if ( verify == DPW_UNKNOWN_KEY ) {
				/* name the key in the log: a key missing on this server */
				const char *k = a->a_vals[0].bv_val + 5, *end = memchr( k, '$',
					a->a_vals[0].bv_len > 5 ? a->a_vals[0].bv_len - 5 : 0 );
				if ( end && (size_t)( end - k ) <= DPW_KEYID_MAX ) {
					memcpy( keyid, k, end - k );
					keyid[end - k] = '\0';
				}
			}
			if ( verify == DPW_OK ) {
				expiry = devicepw_attr_time( e, ad_devicepwExpires, &expires );
				expired = expiry > 0 && (int64_t)op->o_time >= expires;
			}
		} else {
			devicepw_digest_anyway( ring, canon, id_len + DPW_RANDOM_CHARS );
		}
		outcome = dpw_bind_decide( revoked, has_secret, verify, expiry, expired );
		if ( outcome == DPW_BIND_OK && !devicepw_service_allowed( e, scoped ? &service : NULL ) ) {
			outcome = DPW_BIND_WRONG_SERVICE;
		}
		if ( outcome == DPW_BIND_OK ) {
			record_use = devicepw_lastused_stale( op, e, di->lastused_precision );
		}
		if ( ( a = attr_find( e->e_attrs, ad_devicepwFailureCount ) ) && a->a_numvals ) {
			stored_failures = strtoul( a->a_vals[0].bv_val, NULL, 10 );
		}
	}
	devicepw_entry_release( op, on, e );
	explicit_bzero( canon, sizeof(canon) );
	/* A suspended (or password-policy locked) mailbox stops every device: the one
	 * read of the mailbox a successful device bind makes. */
	if ( outcome == DPW_BIND_OK && devicepw_mailbox_suspended( op, on, &mailbox_ndn ) ) {
		outcome = DPW_BIND_SUSPENDED;
		record_use = 0;
	}

	if ( outcome == DPW_BIND_OK ) {
		if ( record_use ) {
			/* Telemetry: remembered in memory, written by the flush task in one
			 * transaction with others, never replicated (DESIGN.md, "Truth and
			 * telemetry"). Nothing here waits for a disk. */
			dpw_telemetry_use( di->telemetry, device_ndn.bv_val, device_ndn.bv_len,
				(int64_t)op->o_time, 0, di->lastused_precision );
		}
		{
			/* slapd's own RESULT line carries the device id: no extra log line
			 * per bind (DESIGN.md, "Bind cost"). */
			static const char pfx[] = "devicepw device=";
			size_t idl = id_len;
			char *text = op->o_tmpalloc( sizeof(pfx) + idl, op->o_tmpmemctx );
			memcpy( text, pfx, sizeof(pfx) - 1 );
			memcpy( text + sizeof(pfx) - 1,
				device_ndn.bv_val + devicepw_rdn_prefix.bv_len, idl );
			text[sizeof(pfx) - 1 + idl] = '\0';
			rs->sr_text = text;
		}
		if ( ndn_allocated ) op->o_tmpfree( device_ndn.bv_val, op->o_tmpmemctx );
		if ( scoped ) devicepw_bind_as_mailbox( op );
		rs->sr_err = LDAP_SUCCESS;
		return LDAP_SUCCESS;	/* slapd sets the bound DN and sends the result */
	}

	{
		unsigned long failures = dpw_telemetry_failure( di->telemetry, device_ndn.bv_val,
			device_ndn.bv_len, (int64_t)op->o_time, stored_failures );
		char id[DPW_ID_MAX + 1];
		memcpy( id, device_ndn.bv_val + devicepw_rdn_prefix.bv_len, id_len );
		id[id_len] = '\0';
		if ( outcome == DPW_BIND_UNKNOWN_KEY ) {
			Debug( LDAP_DEBUG_ANY, "%s devicepw BIND mailbox=\"%s\" device=%s outcome=%s "
				"key=%s failures=%lu: the stored hash names a key this server's key file "
				"lacks\n", op->o_log_prefix, op->o_req_dn.bv_val, id,
				dpw_bind_outcome_name( outcome ), keyid, failures );
		} else {
			Debug( LDAP_DEBUG_STATS, "%s devicepw BIND mailbox=\"%s\" device=%s outcome=%s "
				"failures=%lu\n", op->o_log_prefix, op->o_req_dn.bv_val, id,
				dpw_bind_outcome_name( outcome ), failures );
		}
	}
	if ( ndn_allocated ) op->o_tmpfree( device_ndn.bv_val, op->o_tmpmemctx );
	send_ldap_error( op, rs, LDAP_INVALID_CREDENTIALS, NULL );
	return rs->sr_err;
}

/* ---- extended: Password Modify on a device generates its secret ---------------- */

/* Send an extended result ourselves and stop slapd's passwd_extop from sending its
 * own (which would carry the password slapd generated before calling us). */
static int
devicepw_passmod_result( Operation *op, SlapReply *rs, int err, const char *text )
{
	rs->sr_err = err;
	rs->sr_text = text;
	rs->sr_rspoid = NULL;
	rs->sr_rspdata = NULL;
	send_ldap_extended( op, rs );
	rs->sr_text = NULL;
	return SLAPD_ABANDON;
}

static int
devicepw_passmod_refuse( Operation *op, SlapReply *rs, dpw_decision d, dpw_actor actor )
{
	Debug( LDAP_DEBUG_STATS, "%s devicepw PASSMOD dn=\"%s\" by=\"%s\" as=%s refused: %s\n",
		op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val, dpw_actor_name( actor ),
		d.text );
	return devicepw_passmod_result( op, rs, d.code, d.text );
}

/* Password Modify on an entry that is not a device: a mailbox's userPassword is a
 * credential only administrators and the mailbox with its own password may set. */
static int
devicepw_passmod_plain( Operation *op, SlapReply *rs, slap_overinst *on, devicepw_info *di )
{
	dpw_target t = { DPW_PLACE_PLAIN };
	dpw_actor actor;
	dpw_decision d;
	int is_mailbox = 0;

	actor = devicepw_actor_for( op, on, di, &op->o_req_ndn, &is_mailbox );
	if ( !is_mailbox ) return SLAP_CB_CONTINUE;
	t.exists = 1;
	t.is_mailbox = 1;
	t.primary_allowed = di->primary_password;
	d = dpw_policy_passmod( actor, &t, 0 );
	if ( d.code != DPW_R_ALLOW ) return devicepw_passmod_refuse( op, rs, d, actor );
	return SLAP_CB_CONTINUE;
}

static int
devicepw_op_extended( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	struct berval id = BER_BVNULL, oldpw = BER_BVNULL, newpw = BER_BVNULL;
	struct berval devid, mailbox;
	const char *text = NULL;
	char secret[DPW_DISPLAY_MAX];
	char stored[DPW_STORED_MAX];
	dpw_actor actor;
	dpw_decision d;
	dpw_target t = { DPW_PLACE_DEVICE };
	dpw_place place;
	Entry *e = NULL;
	Modifications *m;
	struct berval *rsp;
	struct berval secret_bv;
	int rc;

	if ( ber_bvcmp( &slap_EXOP_MODIFY_PASSWD, &op->ore_reqoid ) != 0 ||
			BER_BVISNULL( &devicepw_rdn_prefix ) || BER_BVISEMPTY( &op->o_req_ndn ) ) {
		return SLAP_CB_CONTINUE;
	}
	place = devicepw_dn_place( &op->o_req_ndn, &mailbox );
	if ( place == DPW_PLACE_PLAIN ) return devicepw_passmod_plain( op, rs, on, di );

	/* Who asks is decided from the mailbox first, so that the answer to someone
	 * who may not manage its devices says nothing about which devices exist. */
	actor = devicepw_actor_for( op, on, di, &mailbox, NULL );
	d = dpw_policy_gate( actor, DPW_OP_PASSMOD, place );
	if ( d.code != DPW_R_ALLOW ) return devicepw_passmod_refuse( op, rs, d, actor );
	if ( place != DPW_PLACE_DEVICE ||
			devicepw_entry_get( op, on, &op->o_req_ndn, oc_devicepwDevice, &e ) != LDAP_SUCCESS
			|| !e ) {
		/* no such device: refuse without letting slapd write a password there */
		return devicepw_passmod_result( op, rs, LDAP_NO_SUCH_OBJECT, NULL );
	}
	t.exists = 1;
	t.is_device = 1;
	t.device_revoked = devicepw_attr_is_true( e, ad_devicepwRevoked );
	t.device_owned = devicepw_entry_has_dn( e, ad_devicepwOwner, &op->o_ndn );
	devicepw_entry_release( op, on, e );

	/* passwd_extop has already replaced a missing new password by one of its own;
	 * only the request itself says whether the client supplied one. */
	if ( slap_passwd_parse( op->ore_reqdata, &id, &oldpw, &newpw, &text ) != LDAP_SUCCESS ) {
		return devicepw_passmod_result( op, rs, LDAP_PROTOCOL_ERROR, text );
	}
	d = dpw_policy_passmod( actor, &t, !BER_BVISEMPTY( &newpw ) );
	if ( d.code != DPW_R_ALLOW ) return devicepw_passmod_refuse( op, rs, d, actor );
	if ( !devicepw_ndn_device_id( &op->o_req_ndn, &devid ) || !di->ring ) {
		return devicepw_passmod_result( op, rs, LDAP_OTHER, "device entry has no valid devicepwId" );
	}

	if ( dpw_secret_generate( devid.bv_val, devid.bv_len, secret ) != DPW_OK ||
			dpw_stored_from_secret( di->ring, secret, strlen( secret ), stored ) != DPW_OK ) {
		explicit_bzero( secret, sizeof(secret) );
		return devicepw_passmod_result( op, rs, LDAP_OTHER, "could not generate a device secret" );
	}
	m = devicepw_mod_replace( ad_devicepwSecret, stored, strlen( stored ) );
	rc = devicepw_internal_modify( op, on, &op->o_req_dn, &op->o_req_ndn, m );
	slap_mods_free( m, 1 );
	if ( rc != LDAP_SUCCESS ) {
		explicit_bzero( secret, sizeof(secret) );
		Debug( LDAP_DEBUG_ANY, "%s devicepw PASSMOD device=\"%s\": storing the hash failed (%d)\n",
			op->o_log_prefix, op->o_req_dn.bv_val, rc );
		return devicepw_passmod_result( op, rs, rc, "could not store the device secret" );
	}
	Debug( LDAP_DEBUG_STATS, "%s devicepw PASSMOD device=\"%s\" by=\"%s\" as=%s "
		"outcome=secret-generated\n", op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val,
		dpw_actor_name( actor ) );

	/* The only place the secret ever leaves the server. */
	secret_bv.bv_val = secret;
	secret_bv.bv_len = strlen( secret );
	rsp = slap_passwd_return( &secret_bv );
	explicit_bzero( secret, sizeof(secret) );
	rs->sr_err = LDAP_SUCCESS;
	rs->sr_text = NULL;
	rs->sr_rspoid = NULL;
	rs->sr_rspdata = rsp;
	send_ldap_extended( op, rs );
	rs->sr_rspdata = NULL;
	if ( rsp ) {
		explicit_bzero( rsp->bv_val, rsp->bv_len );
		ber_bvfree( rsp );
	}
	return SLAPD_ABANDON;
}

/* ---- add ---------------------------------------------------------------------- */

static int
devicepw_op_add( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	Entry *e = op->ora_e;
	Attribute *a;
	struct berval mailbox = BER_BVNULL, devid;
	dpw_add_facts f = { 0 };
	dpw_add_outcome out;
	dpw_actor actor;
	dpw_decision d;
	dpw_mod *attrs;
	size_t nattrs;
	int is_mailbox = 0;

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;

	f.place = devicepw_dn_place( &op->o_req_ndn, &mailbox );
	if ( f.place == DPW_PLACE_PLAIN ) {
		actor = devicepw_actor_global( op, di );
	} else {
		/* Decided from the mailbox first: nothing about its devices leaks to others. */
		actor = devicepw_actor_for( op, on, di, &mailbox, &is_mailbox );
		d = dpw_policy_gate( actor, DPW_OP_ADD, f.place );
		if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "ADD", actor );
	}
	f.parent_is_mailbox = is_mailbox;
	f.has_device_class = is_entry_objectclass( e, oc_devicepwDevice, 0 );
	f.classes_only_device = 1;
	if ( ( a = attr_find( e->e_attrs, slap_schema.si_ad_objectClass ) ) != NULL ) {
		unsigned i;
		for ( i = 0; i < a->a_numvals; i++ ) {
			ObjectClass *oc = oc_bvfind( &a->a_nvals[i] );
			if ( oc != oc_devicepwDevice && oc != slap_schema.si_oc_top ) f.classes_only_device = 0;
		}
	}
	f.id_ok = devicepw_ndn_device_id( &op->o_req_ndn, &devid ) &&
		( a = attr_find( e->e_attrs, ad_devicepwId ) ) != NULL && a->a_numvals == 1 &&
		dpw_id_valid( a->a_vals[0].bv_val, a->a_vals[0].bv_len ) &&
		a->a_vals[0].bv_len == devid.bv_len &&
		memcmp( a->a_vals[0].bv_val, devid.bv_val, devid.bv_len ) == 0;
	f.device_count = -1;
	f.max_devices = di->max_devices;
	f.has_owner = attr_find( e->e_attrs, ad_devicepwOwner ) != NULL;
	f.has_revoked_true = devicepw_attr_is_true( e, ad_devicepwRevoked );
	f.has_revoked_at = attr_find( e->e_attrs, ad_devicepwRevokedAt ) != NULL;

	attrs = devicepw_attrs_of( op, e, &nattrs );
	out = dpw_policy_add( actor, &f, attrs, nattrs );
	if ( out.decision.code == DPW_R_ALLOW && out.needs_count ) {
		if ( devicepw_count_devices( op, on, &mailbox, &f.device_count ) != LDAP_SUCCESS ) {
			devicepw_mods_free( op, attrs, nattrs );
			return devicepw_refuse( op, rs, LDAP_OTHER, "could not count the mailbox's devices",
				"ADD", actor );
		}
		out = dpw_policy_add( actor, &f, attrs, nattrs );
	}
	devicepw_mods_free( op, attrs, nattrs );
	if ( out.decision.code != DPW_R_ALLOW ) {
		return devicepw_refuse( op, rs, out.decision.code, out.decision.text, "ADD", actor );
	}
	if ( f.place == DPW_PLACE_PLAIN ) {
		if ( devicepw_entry_suspended( e ) ) devicepw_push_post( op, on, devicepw_suspension_result, NULL );
		return SLAP_CB_CONTINUE;
	}

	if ( actor == DPW_ACTOR_REPLICATION ) {
		/* Deletion wins: replication bringing back a device deleted here. Accepted
		 * (replication is never refused) but revoked, and, on a provider, deleted again
		 * once added, with this server's CSN. */
		Attribute *u = attr_find( e->e_attrs, slap_schema.si_ad_entryUUID );
		if ( u && u->a_numvals && dpw_tombstones_has( di->tombstones, u->a_nvals[0].bv_val,
				u->a_nvals[0].bv_len, (int64_t)op->o_time ) ) {
			struct berval t = BER_BVC( "TRUE" );
			attr_delete( &e->e_attrs, ad_devicepwRevoked );
			attr_merge_one( e, ad_devicepwRevoked, &t, &t );
			if ( !SLAP_SINGLE_SHADOW( op->o_bd ) ) {
				devicepw_push_post( op, on, devicepw_readd_result, NULL );
			}
			Debug( LDAP_DEBUG_STATS, "%s devicepw ADD device=\"%s\" merged: deleted here, "
				"accepted revoked\n", op->o_log_prefix, op->o_req_dn.bv_val );
		}
		return SLAP_CB_CONTINUE;
	}

	/* The entry being added is this operation's own: the owner and the revocation
	 * time are set on it. */
	if ( out.owner == DPW_OWNER_FORCE ) {
		attr_delete( &e->e_attrs, ad_devicepwOwner );
		attr_merge_one( e, ad_devicepwOwner, &op->o_dn, &op->o_ndn );
	} else if ( out.owner == DPW_OWNER_DEFAULT ) {
		attr_merge_one( e, ad_devicepwOwner, &op->o_dn, &op->o_ndn );
	}
	if ( out.add_revoked_at ) {
		char now[16];
		struct berval bv;
		dpw_gentime_format( (int64_t)op->o_time, now );
		ber_str2bv( now, 15, 0, &bv );
		attr_merge_one( e, ad_devicepwRevokedAt, &bv, &bv );
	}
	if ( actor != DPW_ACTOR_REPLICATION && actor != DPW_ACTOR_INTERNAL ) {
		Debug( LDAP_DEBUG_STATS, "%s devicepw ADD device=\"%s\" by=\"%s\" as=%s\n",
			op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val, dpw_actor_name( actor ) );
	}
	return SLAP_CB_CONTINUE;
}

/* ---- modify ------------------------------------------------------------------- */

/* Whether a modification leaves objectClass without devicepwMailbox. */
static int
devicepw_mod_drops_mailbox( Modifications *ml )
{
	int i, has = 0;
	if ( ml->sml_desc != slap_schema.si_ad_objectClass ) return 0;
	switch ( ml->sml_op & LDAP_MOD_OP ) {
	case LDAP_MOD_DELETE:
		if ( !ml->sml_values ) return 1;
		/* fallthrough */
	case LDAP_MOD_REPLACE:
		for ( i = 0; ml->sml_values && !BER_BVISNULL( &ml->sml_values[i] ); i++ ) {
			ObjectClass *oc = oc_bvfind( &ml->sml_values[i] );
			if ( oc == oc_devicepwMailbox ) has = 1;
		}
		return ( ml->sml_op & LDAP_MOD_OP ) == LDAP_MOD_DELETE ? has : !has;
	}
	return 0;
}

/* Log a list of DNs as "a; b; c" (bounded). */
static void
devicepw_join( const dpw_value *const *dns, const size_t *idx, const dpw_value *base,
	size_t n, char *buf, size_t len )
{
	size_t used = 0, i;
	buf[0] = '\0';
	for ( i = 0; i < n && used + 1 < len; i++ ) {
		const dpw_value *v = dns ? dns[i] : &base[idx[i]];
		int k = snprintf( buf + used, len - used, "%s%.*s", i ? "; " : "", (int)v->len, v->val );
		if ( k < 0 ) break;
		used += (size_t)k;
	}
}

/* Append a modification to the operation's own modification list. */
static void
devicepw_mods_append( Operation *op, Modifications *m )
{
	Modifications **tail;
	for ( tail = &op->orm_modlist; *tail; tail = &(*tail)->sml_next )
		;
	*tail = m;
}

static int
devicepw_op_modify( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	Modifications *ml;
	Entry *e = NULL;
	dpw_target t = { DPW_PLACE_PLAIN };
	dpw_modify_outcome out;
	dpw_actor actor = DPW_ACTOR_ANONYMOUS;
	dpw_decision d;
	dpw_mod *mods;
	size_t nmods;
	struct berval mailbox = BER_BVNULL;
	BerVarray removed = NULL;
	char revoked_at[32] = "";

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;
	if ( devicepw_op_is_internal( op ) ) {
		/* The overlay's own writes (secrets, last use) need nothing, except that a
		 * revocation gets its time. */
		for ( ml = op->orm_modlist; ml; ml = ml->sml_next )
			if ( ml->sml_desc == ad_devicepwRevoked ) break;
		if ( !ml ) return SLAP_CB_CONTINUE;
	}

	t.place = devicepw_dn_place( &op->o_req_ndn, &mailbox );
	t.primary_allowed = di->primary_password;
	if ( t.place != DPW_PLACE_PLAIN ) {
		/* Decided from the mailbox first: nothing about its devices leaks to others. */
		actor = devicepw_actor_for( op, on, di, &mailbox, NULL );
		d = dpw_policy_gate( actor, DPW_OP_MODIFY, t.place );
		if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "MODIFY", actor );
	}
	for ( ml = op->orm_modlist; ml; ml = ml->sml_next ) {
		if ( devicepw_mod_drops_mailbox( ml ) ) {
			/* counted before the entry is held: an internal search of its own */
			int count = 0;
			if ( devicepw_count_devices( op, on, &op->o_req_ndn, &count ) != LDAP_SUCCESS )
				count = 1;	/* fail closed */
			t.mailbox_has_devices = count > 0;
			break;
		}
	}
	if ( devicepw_entry_get( op, on, &op->o_req_ndn, NULL, &e ) != LDAP_SUCCESS || !e ) {
		return SLAP_CB_CONTINUE;	/* the backend reports noSuchObject */
	}
	t.exists = 1;
	t.is_device = is_entry_objectclass( e, oc_devicepwDevice, 0 );
	t.is_mailbox = is_entry_objectclass( e, oc_devicepwMailbox, 0 );
	if ( t.place == DPW_PLACE_PLAIN ) {
		/* the entry is its own mailbox when it is one */
		actor = devicepw_actor_on( op, di, devicepw_actor_global( op, di ),
			t.is_mailbox ? e : NULL, &op->o_req_ndn );
	}
	if ( t.is_device ) {
		Attribute *a = attr_find( e->e_attrs, ad_devicepwRevokedAt );
		Attribute *sv = ad_devicepwService ? attr_find( e->e_attrs, ad_devicepwService ) : NULL;
		t.device_revoked = devicepw_attr_is_true( e, ad_devicepwRevoked );
		t.device_owned = devicepw_entry_has_dn( e, ad_devicepwOwner, &op->o_ndn );
		if ( sv ) {
			size_t nsv;
			t.services = devicepw_values( op, sv->a_nvals, &nsv );
			t.nservices = nsv;
		}
		if ( a && a->a_numvals && a->a_vals[0].bv_len < sizeof(revoked_at) ) {
			memcpy( revoked_at, a->a_vals[0].bv_val, a->a_vals[0].bv_len );
			revoked_at[a->a_vals[0].bv_len] = '\0';
		}
	}

	mods = devicepw_mods_of( op, op->orm_modlist, &nmods );
	out = dpw_policy_modify( actor, &t, mods, nmods );
	if ( out.decision.code == DPW_R_ALLOW && t.is_mailbox &&
			actor != DPW_ACTOR_REPLICATION && actor != DPW_ACTOR_INTERNAL ) {
		/* People leaving the mailbox: their devices here are revoked afterwards. */
		Attribute *cur = attr_find( e->e_attrs, ad_devicepwUser );
		size_t ncur = cur ? cur->a_numvals : 0, nremoved = 0, nadded = 0, i, cap = 0;
		dpw_value *current = ncur ? op->o_tmpalloc( ncur * sizeof(dpw_value), op->o_tmpmemctx ) : NULL;
		size_t *ridx = ncur ? op->o_tmpalloc( ncur * sizeof(size_t), op->o_tmpmemctx ) : NULL;
		const dpw_value **added;
		int touches = 0;
		for ( i = 0; i < nmods; i++ ) {
			if ( mods[i].cls == DPW_ATTR_USERS ) { touches = 1; cap += mods[i].nvalues; }
		}
		added = op->o_tmpalloc( ( cap + 1 ) * sizeof(dpw_value *), op->o_tmpmemctx );
		for ( i = 0; i < ncur; i++ ) {
			current[i].val = cur->a_nvals[i].bv_val;
			current[i].len = cur->a_nvals[i].bv_len;
		}
		if ( touches && dpw_users_diff( current, ncur, mods, nmods, ridx, &nremoved,
				added, &nadded, cap ) == 0 && ( nremoved || nadded ) ) {
			char rbuf[512], abuf[512];
			devicepw_join( NULL, ridx, current, nremoved, rbuf, sizeof(rbuf) );
			devicepw_join( added, NULL, NULL, nadded, abuf, sizeof(abuf) );
			Debug( LDAP_DEBUG_STATS, "%s devicepw USERS mailbox=\"%s\" added=\"%s\" "
				"removed=\"%s\" by=\"%s\"\n", op->o_log_prefix, op->o_req_dn.bv_val, abuf,
				rbuf, op->o_dn.bv_val );
			for ( i = 0; i < nremoved; i++ ) value_add_one( &removed, &cur->a_nvals[ridx[i]] );
		}
		if ( current ) op->o_tmpfree( current, op->o_tmpmemctx );
		if ( ridx ) op->o_tmpfree( ridx, op->o_tmpmemctx );
		op->o_tmpfree( added, op->o_tmpmemctx );
	}
	devicepw_mods_free( op, mods, nmods );
	if ( t.services ) op->o_tmpfree( (void *)t.services, op->o_tmpmemctx );
	devicepw_entry_release( op, on, e );

	if ( out.decision.code != DPW_R_ALLOW ) {
		ber_bvarray_free( removed );
		return devicepw_refuse( op, rs, out.decision.code, out.decision.text, "MODIFY", actor );
	}
	if ( out.revoking ) {
		char now[16];
		dpw_gentime_format( (int64_t)op->o_time, now );
		devicepw_mods_append( op, devicepw_mod_replace( ad_devicepwRevokedAt, now, 15 ) );
		if ( actor != DPW_ACTOR_INTERNAL && actor != DPW_ACTOR_REPLICATION ) {
			/* (the overlay's own revocations are logged by the code that makes them) */
			Debug( LDAP_DEBUG_STATS, "%s devicepw REVOKE device=\"%s\" by=\"%s\" as=%s\n",
				op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val, dpw_actor_name( actor ) );
		}
	}
	if ( out.drop_unrevoke ) {
		/* Revocation wins: a replicated change that would un-revoke is merged, the
		 * device stays revoked, and the result replicates onward. */
		devicepw_mods_append( op, devicepw_mod_replace( ad_devicepwRevoked, "TRUE", 4 ) );
		if ( revoked_at[0] ) {
			devicepw_mods_append( op, devicepw_mod_replace( ad_devicepwRevokedAt, revoked_at,
				strlen( revoked_at ) ) );
		}
		Debug( LDAP_DEBUG_STATS, "%s devicepw REVOKE device=\"%s\" merged: a replicated change "
			"would have un-revoked it\n", op->o_log_prefix, op->o_req_dn.bv_val );
		/* The merged entry still carries the other server's CSN, which every server
		 * already has: write the revocation again with a CSN of this server, so that
		 * it replicates onward (a read-only consumer only follows). */
		if ( !SLAP_SINGLE_SHADOW( op->o_bd ) ) {
			devicepw_push_post( op, on, devicepw_revocation_merged_result, NULL );
		}
	}
	if ( removed ) devicepw_push_post( op, on, devicepw_modify_result, removed );
	if ( t.is_mailbox && devicepw_mods_suspend( op->orm_modlist ) ) {
		devicepw_push_post( op, on, devicepw_suspension_result, NULL );
	}
	return SLAP_CB_CONTINUE;
}

/* ---- modrdn and delete -------------------------------------------------------- */

static int
devicepw_op_modrdn( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	struct berval mailbox = BER_BVNULL, newmailbox = BER_BVNULL;
	dpw_place place, new_parent = DPW_PLACE_PLAIN;
	dpw_actor actor;
	dpw_decision d;
	int newrdn_is_device;

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;
	place = devicepw_dn_place( &op->o_req_ndn, &mailbox );
	if ( op->orr_nnewSup ) {
		new_parent = devicepw_dn_place( op->orr_nnewSup, &newmailbox );
		/* the new superior itself being a device puts the entry below one */
		if ( new_parent == DPW_PLACE_DEVICE ) new_parent = DPW_PLACE_BELOW_DEVICE;
	}
	newrdn_is_device = devicepw_rdn_is_device( &op->orr_nnewrdn );

	if ( place != DPW_PLACE_PLAIN ) {
		actor = devicepw_actor_for( op, on, di, &mailbox, NULL );
		d = dpw_policy_gate( actor, DPW_OP_MODRDN, place );
		if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "MODRDN", actor );
	} else if ( new_parent != DPW_PLACE_PLAIN ) {
		/* moving below a device: decided from that device's mailbox first */
		actor = devicepw_actor_for( op, on, di, &newmailbox, NULL );
		d = dpw_policy_gate( actor, DPW_OP_MODRDN, new_parent );
		if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "MODRDN", actor );
	} else {
		actor = devicepw_actor_global( op, di );
	}
	d = dpw_policy_modrdn( actor, place, newrdn_is_device, new_parent );
	if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "MODRDN", actor );
	if ( dpw_nameset_has( di->suspended, op->o_req_ndn.bv_val, op->o_req_ndn.bv_len ) ) {
		devicepw_push_post( op, on, devicepw_suspension_result, NULL );
	}
	return SLAP_CB_CONTINUE;
}

/* Deleting a device is for administrators (people revoke theirs: the record stays).
 * Deleting any other entry, once it succeeds, takes that DN off every mailbox's
 * users and revokes the devices it owned (on the server where the client deleted:
 * replication carries the results). */
static int
devicepw_op_delete( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	Entry *e = NULL;
	struct berval mailbox, uuid = BER_BVNULL;
	dpw_target t = { DPW_PLACE_PLAIN };
	dpw_actor actor;
	dpw_decision d;

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;
	t.place = devicepw_dn_place( &op->o_req_ndn, &mailbox );
	actor = t.place != DPW_PLACE_PLAIN ? devicepw_actor_for( op, on, di, &mailbox, NULL )
		: devicepw_actor_global( op, di );
	d = dpw_policy_gate( actor, DPW_OP_DELETE, t.place );
	if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "DELETE", actor );
	if ( devicepw_entry_get( op, on, &op->o_req_ndn, NULL, &e ) != LDAP_SUCCESS || !e ) {
		return SLAP_CB_CONTINUE;
	}
	t.exists = 1;
	t.is_device = is_entry_objectclass( e, oc_devicepwDevice, 0 );
	if ( t.is_device ) {
		Attribute *u = attr_find( e->e_attrs, slap_schema.si_ad_entryUUID );
		if ( u && u->a_numvals ) ber_dupbv( &uuid, &u->a_nvals[0] );
	}
	devicepw_entry_release( op, on, e );
	d = dpw_policy_delete( actor, &t );
	if ( d.code != DPW_R_ALLOW ) {
		ch_free( uuid.bv_val );
		return devicepw_refuse( op, rs, d.code, d.text, "DELETE", actor );
	}
	if ( t.is_device ) {
		if ( actor != DPW_ACTOR_REPLICATION ) {
			Debug( LDAP_DEBUG_STATS, "%s devicepw DELETE device=\"%s\" by=\"%s\" as=%s\n",
				op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val, dpw_actor_name( actor ) );
		}
		devicepw_push_post( op, on, devicepw_device_deleted, NULL );
		((devicepw_post *)op->o_callback->sc_private)->uuid = uuid;
		return SLAP_CB_CONTINUE;
	}
	/* Side effects run once, where the client's delete happened. */
	if ( actor != DPW_ACTOR_REPLICATION && actor != DPW_ACTOR_INTERNAL ) {
		devicepw_push_post( op, on, devicepw_delete_result, NULL );
	}
	if ( dpw_nameset_has( di->suspended, op->o_req_ndn.bv_val, op->o_req_ndn.bv_len ) ) {
		devicepw_push_post( op, on, devicepw_suspension_result, NULL );
	}
	return SLAP_CB_CONTINUE;
}

/* ---- response callbacks: what happens after a write succeeded -------------------- */

/* Revoke (devicepwRevoked: TRUE, through the whole overlay stack so that it
 * replicates) every unrevoked device owned by owner_ndn under base (one level under
 * a mailbox, or the whole subtree). */
static void
devicepw_revoke_owned( Operation *op, slap_overinst *on, struct berval *base, int scope,
	struct berval *owner_ndn, const char *why )
{
	devicepw_found found = { NULL, 0, 1, 1 };
	AttributeAssertion ava_oc = ATTRIBUTEASSERTION_INIT, ava_owner = ATTRIBUTEASSERTION_INIT;
	Filter fand = { 0 }, foc = { 0 }, fowner = { 0 };
	AttributeName attrs[2];
	int i;

	ava_oc.aa_desc = slap_schema.si_ad_objectClass;
	ava_oc.aa_value = oc_devicepwDevice->soc_cname;
	foc.f_choice = LDAP_FILTER_EQUALITY;
	foc.f_ava = &ava_oc;
	ava_owner.aa_desc = ad_devicepwOwner;
	ava_owner.aa_value = *owner_ndn;
	fowner.f_choice = LDAP_FILTER_EQUALITY;
	fowner.f_ava = &ava_owner;
	foc.f_next = &fowner;
	fand.f_choice = LDAP_FILTER_AND;
	fand.f_and = &foc;
	memset( attrs, 0, sizeof(attrs) );
	attrs[0].an_desc = ad_devicepwRevoked;
	attrs[0].an_name = ad_devicepwRevoked->ad_cname;

	if ( devicepw_internal_search( op, on, base, scope, &fand,
			"(&(objectClass=devicepwDevice)(devicepwOwner=*))", attrs,
			devicepw_collect_cb, &found ) != LDAP_SUCCESS ) {
		Debug( LDAP_DEBUG_ANY, "%s devicepw: could not find the devices of \"%s\" under \"%s\"\n",
			op->o_log_prefix, owner_ndn->bv_val, base->bv_val );
	}
	for ( i = 0; found.dns && !BER_BVISNULL( &found.dns[i] ); i++ ) {
		Modifications *m = devicepw_mod_replace( ad_devicepwRevoked, "TRUE", 4 );
		int rc = devicepw_internal_modify( op, on, &found.dns[i], &found.dns[i], m );
		slap_mods_free( m, 1 );
		Debug( LDAP_DEBUG_STATS, "%s devicepw REVOKE device=\"%s\" owner=\"%s\" reason=%s "
			"by=\"%s\" rc=%d\n", op->o_log_prefix, found.dns[i].bv_val, owner_ndn->bv_val, why,
			op->o_dn.bv_val, rc );
	}
	ber_bvarray_free( found.dns );
}

static int
devicepw_post_cleanup( Operation *op, SlapReply *rs )
{
	slap_callback *sc = op->o_callback;
	devicepw_post *p = sc->sc_private;

	if ( rs->sr_type == REP_RESULT || op->o_abandon || rs->sr_err == SLAPD_ABANDON ) {
		op->o_callback = sc->sc_next;
		ber_bvarray_free( p->removed );
		ch_free( p->target.bv_val );
		ch_free( p->uuid.bv_val );
		op->o_tmpfree( sc, op->o_tmpmemctx );
	}
	return SLAP_CB_CONTINUE;
}

/* After a successful modify that removed people from a mailbox: revoke the devices
 * they own on that mailbox (and nothing else). */
static int
devicepw_modify_result( Operation *op, SlapReply *rs )
{
	devicepw_post *p = op->o_callback->sc_private;
	int i;

	if ( rs->sr_type != REP_RESULT || rs->sr_err != LDAP_SUCCESS ) return SLAP_CB_CONTINUE;
	for ( i = 0; p->removed && !BER_BVISNULL( &p->removed[i] ); i++ ) {
		devicepw_revoke_owned( op, p->on, &p->target, LDAP_SCOPE_ONELEVEL,
			&p->removed[i], "user-removed" );
	}
	return SLAP_CB_CONTINUE;
}

/* The mailboxes that list person_ndn in devicepwUser (internal search on the
 * backend, as the rootdn; wants `index devicepwUser eq`). */
static int
devicepw_find_mailboxes_of( Operation *op, slap_overinst *on, struct berval *person_ndn,
	BerVarray *out )
{
	devicepw_found found = { NULL, 0, 1, 0 };
	AttributeAssertion ava = ATTRIBUTEASSERTION_INIT;
	Filter f = { 0 };
	int rc;

	ava.aa_desc = ad_devicepwUser;
	ava.aa_value = *person_ndn;
	f.f_choice = LDAP_FILTER_EQUALITY;
	f.f_ava = &ava;
	rc = devicepw_internal_search( op, on, &op->o_bd->be_nsuffix[0], LDAP_SCOPE_SUBTREE, &f,
		"(devicepwUser=*)", slap_anlist_no_attrs, devicepw_collect_cb, &found );
	*out = found.dns;
	return rc;
}

/* After a successful delete of a person: take them off every mailbox (which revokes
 * their devices there through the modify path) and revoke every device they own. */
static int
devicepw_delete_result( Operation *op, SlapReply *rs )
{
	devicepw_post *p = op->o_callback->sc_private;
	slap_overinst *on = p->on;
	BerVarray mailboxes = NULL;
	int i;

	if ( rs->sr_type != REP_RESULT || rs->sr_err != LDAP_SUCCESS ) return SLAP_CB_CONTINUE;

	devicepw_find_mailboxes_of( op, on, &p->target, &mailboxes );
	for ( i = 0; mailboxes && !BER_BVISNULL( &mailboxes[i] ); i++ ) {
		Modifications *m = devicepw_mod_values( ad_devicepwUser, LDAP_MOD_DELETE,
			p->target.bv_val, p->target.bv_len );
		int rc = devicepw_internal_modify( op, on, &mailboxes[i], &mailboxes[i], m );
		slap_mods_free( m, 1 );
		Debug( LDAP_DEBUG_STATS, "%s devicepw USERS mailbox=\"%s\" removed=\"%s\" "
			"reason=person-deleted by=\"%s\" rc=%d\n", op->o_log_prefix, mailboxes[i].bv_val,
			p->target.bv_val, op->o_dn.bv_val, rc );
	}
	ber_bvarray_free( mailboxes );
	/* Every device they own: on those mailboxes, and anywhere an administrator
	 * named them owner. */
	devicepw_revoke_owned( op, on, &op->o_bd->be_nsuffix[0], LDAP_SCOPE_SUBTREE,
		&p->target, "owner-deleted" );
	return SLAP_CB_CONTINUE;
}

/* After a device was deleted (by a client or by replication): remember it, so that a
 * replicated add of it does not bring it back, and drop its pending telemetry. */
static int
devicepw_device_deleted( Operation *op, SlapReply *rs )
{
	devicepw_post *p = op->o_callback->sc_private;
	devicepw_info *di = p->on->on_bi.bi_private;

	if ( rs->sr_type != REP_RESULT || rs->sr_err != LDAP_SUCCESS ) return SLAP_CB_CONTINUE;
	if ( p->uuid.bv_val ) {
		dpw_tombstones_add( di->tombstones, p->uuid.bv_val, p->uuid.bv_len, (int64_t)op->o_time );
	}
	dpw_telemetry_forget( di->telemetry, p->target.bv_val, p->target.bv_len );
	return SLAP_CB_CONTINUE;
}

/* Run an internal delete of ndn through the whole overlay stack (so that it
 * replicates, with a CSN of this server), as the rootdn. */
static int
devicepw_internal_delete( Operation *op, slap_overinst *on, struct berval *ndn )
{
	Operation op2;
	void *controls[SLAP_MAX_CIDS];
	SlapReply rs2 = { REP_RESULT };
	slap_callback cb = { NULL, slap_null_cb, NULL, &devicepw_internal_marker };
	BackendInfo *bi = op->o_bd->bd_info;
	int rc;

	devicepw_internal_op( op, &op2, LDAP_REQ_DELETE, &cb, controls );
	op2.o_req_dn = *ndn;
	op2.o_req_ndn = *ndn;
	op2.o_bd->bd_info = (BackendInfo *)on->on_info;
	rc = op2.o_bd->be_delete( &op2, &rs2 );
	op->o_bd->bd_info = bi;
	if ( rc == LDAP_SUCCESS ) rc = rs2.sr_err;
	return rc;
}

/* After a replicated change that would have un-revoked a device was merged: the
 * revocation again, with this server's CSN, so that every server ends revoked. */
static int
devicepw_revocation_merged_result( Operation *op, SlapReply *rs )
{
	devicepw_post *p = op->o_callback->sc_private;
	Modifications *m;
	int rc;

	if ( rs->sr_type != REP_RESULT || rs->sr_err != LDAP_SUCCESS ) return SLAP_CB_CONTINUE;
	m = devicepw_mod_replace( ad_devicepwRevoked, "TRUE", 4 );
	rc = devicepw_internal_modify( op, p->on, &p->target, &p->target, m );
	slap_mods_free( m, 1 );
	Debug( LDAP_DEBUG_STATS, "%s devicepw REVOKE device=\"%s\" re-asserted after a merge rc=%d\n",
		op->o_log_prefix, p->target.bv_val, rc );
	return SLAP_CB_CONTINUE;
}

/* After a replicated add of a device deleted here (accepted revoked): delete it again,
 * with a CSN of this server, so that the deletion reaches every server. */
static int
devicepw_readd_result( Operation *op, SlapReply *rs )
{
	devicepw_post *p = op->o_callback->sc_private;
	int rc;

	if ( rs->sr_type != REP_RESULT || rs->sr_err != LDAP_SUCCESS ) return SLAP_CB_CONTINUE;
	rc = devicepw_internal_delete( op, p->on, &p->target );
	Debug( LDAP_DEBUG_STATS, "%s devicepw DELETE device=\"%s\" merged: replication brought back "
		"a device deleted here; deleted again rc=%d\n", op->o_log_prefix, p->target.bv_val, rc );
	return SLAP_CB_CONTINUE;
}

/* After a write that may change whether a mailbox is suspended (devicepwSuspended,
 * pwdAccountLockedTime, an added, deleted or renamed mailbox): the set follows the entry. */
static int
devicepw_suspension_result( Operation *op, SlapReply *rs )
{
	devicepw_post *p = op->o_callback->sc_private;
	devicepw_info *di = p->on->on_bi.bi_private;

	if ( rs->sr_type != REP_RESULT || rs->sr_err != LDAP_SUCCESS ) return SLAP_CB_CONTINUE;
	if ( op->o_tag == LDAP_REQ_MODRDN ) {
		struct berval parent, newndn;
		dpw_nameset_set( di->suspended, p->target.bv_val, p->target.bv_len, 0 );
		if ( op->orr_nnewSup ) parent = *op->orr_nnewSup;
		else dnParent( &p->target, &parent );
		build_new_dn( &newndn, &parent, &op->orr_nnewrdn, op->o_tmpmemctx );
		devicepw_suspension_refresh( op, p->on, &newndn );
		op->o_tmpfree( newndn.bv_val, op->o_tmpmemctx );
	} else {
		devicepw_suspension_refresh( op, p->on, &p->target );
	}
	return SLAP_CB_CONTINUE;
}

/* Whether a modification list touches what suspends a mailbox. */
static int
devicepw_mods_suspend( Modifications *ml )
{
	for ( ; ml; ml = ml->sml_next ) {
		if ( ml->sml_desc == ad_devicepwSuspended ||
				( ad_pwdAccountLockedTime && ml->sml_desc == ad_pwdAccountLockedTime ) ||
				ml->sml_desc == slap_schema.si_ad_objectClass ) {
			return 1;
		}
	}
	return 0;
}

/* The suspended mailboxes, loaded once (by the flush task, after startup): an internal
 * search for devicepwSuspended=TRUE and pwdAccountLockedTime=*, each found mailbox then
 * re-read under the lock like any other change. */
static void
devicepw_suspension_load( Operation *op, devicepw_info *di )
{
	slap_overinst *on = di->on;
	devicepw_found found = { NULL, 0, 1, 0 };
	AttributeAssertion ava = ATTRIBUTEASSERTION_INIT;
	Filter any = { 0 }, susp = { 0 }, lock = { 0 };
	struct berval t = BER_BVC( "TRUE" );
	int i, rc;

	if ( dpw_nameset_ready( di->suspended ) || !ad_devicepwSuspended ) return;
	ava.aa_desc = ad_devicepwSuspended;
	ava.aa_value = t;
	susp.f_choice = LDAP_FILTER_EQUALITY;
	susp.f_ava = &ava;
	any.f_choice = LDAP_FILTER_OR;
	any.f_or = &susp;
	if ( ad_pwdAccountLockedTime ) {
		lock.f_choice = LDAP_FILTER_PRESENT;
		lock.f_desc = ad_pwdAccountLockedTime;
		susp.f_next = &lock;
	}
	rc = devicepw_internal_search( op, on, &di->suffix, LDAP_SCOPE_SUBTREE, &any,
		"(|(devicepwSuspended=TRUE)(pwdAccountLockedTime=*))", slap_anlist_no_attrs,
		devicepw_collect_cb, &found );
	if ( rc != LDAP_SUCCESS ) {
		Debug( LDAP_DEBUG_ANY, "devicepw: cannot load the suspended mailboxes (%d); binds read "
			"the mailbox entries\n", rc );
		ber_bvarray_free( found.dns );
		return;
	}
	for ( i = 0; found.dns && !BER_BVISNULL( &found.dns[i] ); i++ ) {
		devicepw_suspension_refresh( op, on, &found.dns[i] );
	}
	ber_bvarray_free( found.dns );
	dpw_nameset_set_ready( di->suspended );
	Debug( LDAP_DEBUG_STATS, "devicepw: %lu suspended or locked mailboxes\n",
		(unsigned long)dpw_nameset_size( di->suspended ) );
}

static void
devicepw_push_post( Operation *op, slap_overinst *on, slap_response *response,
	BerVarray removed )
{
	slap_callback *sc = op->o_tmpcalloc( 1, sizeof(slap_callback) + sizeof(devicepw_post),
		op->o_tmpmemctx );
	devicepw_post *p = (devicepw_post *)( sc + 1 );
	p->on = on;
	ber_dupbv( &p->target, &op->o_req_ndn );
	p->removed = removed;
	sc->sc_response = response;
	sc->sc_cleanup = devicepw_post_cleanup;
	sc->sc_private = p;
	sc->sc_next = op->o_callback;
	op->o_callback = sc;
}

/* ---- visibility: who sees stored hashes and devices ----------------------------- */

/* The rootdn, replication, the overlay itself and the configured secret readers may
 * see stored hashes. */
static int
devicepw_may_read_secret( Operation *op, devicepw_info *di )
{
	return be_isroot( op ) || be_shadow_update( op ) || devicepw_op_is_internal( op ) ||
		devicepw_dn_in( di->nreaders, &op->o_ndn );
}

/* Per-thread memory of the last visibility decision, for one operation: the access
 * hook runs for every attribute of every entry a search looks at, and the decision
 * needs the administrator check (group lookups) and the mailbox entry. */
typedef struct devicepw_seen {
	Operation *op;
	unsigned long connid, opid;
	int global;		/* -1 unknown, else 0/1: sees every mailbox's devices */
	int last_ok;		/* decision for last_mailbox */
	ber_len_t last_len;	/* 0: none */
	char last_mailbox[256];
} devicepw_seen;

static __thread devicepw_seen devicepw_seen_cache;

/* Whether the requester may see the devices of the mailbox at mailbox_ndn (their
 * entries, every attribute of them, the mailbox's hasSubordinates): the server,
 * secret readers (replication identities), administrators, the mailbox itself and
 * its people. */
static int
devicepw_sees_devices( Operation *op, slap_overinst *on, devicepw_info *di,
	struct berval *mailbox_ndn )
{
	devicepw_seen *c = &devicepw_seen_cache;
	Entry *mb = NULL;
	int ok;

	if ( c->op != op || c->connid != op->o_connid || c->opid != op->o_opid ) {
		c->op = op;
		c->connid = op->o_connid;
		c->opid = op->o_opid;
		c->global = -1;
		c->last_len = 0;
	}
	if ( c->global < 0 ) {
		dpw_actor g = devicepw_actor_global( op, di );
		c->global = dpw_policy_may_read_secret( g, devicepw_dn_in( di->nreaders, &op->o_ndn ) ) ||
			g == DPW_ACTOR_ADMIN;
	}
	if ( c->global ) return 1;
	if ( BER_BVISEMPTY( &op->o_ndn ) ) return 0;
	if ( dn_match( &op->o_ndn, mailbox_ndn ) ) return 1;	/* the mailbox itself */
	if ( c->last_len && c->last_len == mailbox_ndn->bv_len &&
			memcmp( c->last_mailbox, mailbox_ndn->bv_val, c->last_len ) == 0 ) {
		return c->last_ok;
	}
	ok = 0;
	if ( devicepw_entry_get( op, on, mailbox_ndn, oc_devicepwMailbox, &mb ) == LDAP_SUCCESS && mb ) {
		ok = devicepw_entry_has_dn( mb, ad_devicepwUser, &op->o_ndn );
		devicepw_entry_release( op, on, mb );
	}
	if ( mailbox_ndn->bv_len < sizeof(c->last_mailbox) ) {
		memcpy( c->last_mailbox, mailbox_ndn->bv_val, mailbox_ndn->bv_len );
		c->last_len = mailbox_ndn->bv_len;
		c->last_ok = ok;
	}
	return ok;
}

/* Whether e is an entry the requester may not know of: a device of a mailbox whose
 * devices they may not see. */
static int
devicepw_entry_hidden( Operation *op, slap_overinst *on, devicepw_info *di, Entry *e )
{
	struct berval parent;
	if ( !devicepw_entry_is_device( e ) ) return 0;
	dnParent( &e->e_nname, &parent );
	return !devicepw_sees_devices( op, on, di, &parent );
}

/* Whether a Server Side Sorting request (RFC 2891; VLV sorts through it) names
 * devicepwSecret in any form: the order of entries by a hash is an oracle on it. */
static int
devicepw_sorts_on_secret( Operation *op )
{
	int i;
	for ( i = 0; op->o_ctrls && op->o_ctrls[i]; i++ ) {
		LDAPControl *c = op->o_ctrls[i];
		BerElementBuffer berbuf;
		BerElement *ber = (BerElement *)&berbuf;
		ber_tag_t tag;
		ber_len_t len;
		char *last;

		if ( strcmp( c->ldctl_oid, LDAP_CONTROL_SORTREQUEST ) != 0 ||
				BER_BVISNULL( &c->ldctl_value ) ) {
			continue;
		}
		ber_init2( ber, &c->ldctl_value, 0 );
		for ( tag = ber_first_element( ber, &len, &last ); tag != LBER_DEFAULT;
				tag = ber_next_element( ber, &len, last ) ) {
			struct berval key, type;
			BerElementBuffer kbuf;
			BerElement *kber = (BerElement *)&kbuf;
			AttributeDescription *ad = NULL;
			const char *text;
			if ( ber_scanf( ber, "m", &key ) == LBER_ERROR ) return 1;	/* malformed: refuse */
			ber_init2( kber, &key, 0 );
			if ( ber_scanf( kber, "m", &type ) == LBER_ERROR ) return 1;
			if ( slap_bv2ad( &type, &ad, &text ) == LDAP_SUCCESS && ad &&
					ad->ad_type == ad_devicepwSecret->ad_type ) {
				return 1;
			}
		}
	}
	return 0;
}

/* Read-entry controls (RFC 4527) on a device, and sync or persistent searches, would
 * send entries past this overlay's result handling: they are for the server and
 * secret readers only. Decided in the frontend's control check, before any
 * overlay's operation handler (syncprov's included) runs. */
static int
devicepw_compare_hassubordinates( Operation *op, SlapReply *rs, slap_overinst *on,
	devicepw_info *di );

static int
devicepw_chk_controls( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	struct berval mailbox;
	const char *text = NULL;
	int i;

	if ( op->o_tag == LDAP_REQ_COMPARE && op->orc_ava &&
			op->orc_ava->aa_desc == slap_schema.si_ad_hasSubordinates && ad_devicepwSecret ) {
		int rc = devicepw_compare_hassubordinates( op, rs, on, di );
		if ( rc != SLAP_CB_CONTINUE ) return rc;
	}
	if ( !ad_devicepwSecret || !op->o_ctrls || devicepw_may_read_secret( op, di ) ) {
		return SLAP_CB_CONTINUE;
	}
	for ( i = 0; op->o_ctrls[i]; i++ ) {
		const char *oid = op->o_ctrls[i]->ldctl_oid;
		if ( strcmp( oid, LDAP_CONTROL_SYNC ) == 0 ||
				strcmp( oid, LDAP_CONTROL_PERSIST_REQUEST ) == 0 ) {
			text = "sync and persistent searches are for replication identities "
				"(devicepw-secret-reader)";
			break;
		}
		if ( ( strcmp( oid, LDAP_CONTROL_PRE_READ ) == 0 ||
				strcmp( oid, LDAP_CONTROL_POST_READ ) == 0 ) &&
				devicepw_dn_place( &op->o_req_ndn, &mailbox ) != DPW_PLACE_PLAIN ) {
			text = "read-entry controls are not available on device entries";
			break;
		}
	}
	if ( !text && op->o_tag == LDAP_REQ_SEARCH && devicepw_sorts_on_secret( op ) ) {
		text = "devicepwSecret cannot be a sort key";
	}
	if ( !text ) return SLAP_CB_CONTINUE;
	Debug( LDAP_DEBUG_STATS, "%s devicepw CONTROLS dn=\"%s\" by=\"%s\" refused: %s\n",
		op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val, text );
	rs->sr_err = LDAP_UNWILLING_TO_PERFORM;
	rs->sr_text = text;
	return rs->sr_err;
}

/* What a search's filter needs from the overlay (flags of devicepw_filter_scan):
 *  DPW_F_SECRET   a component on devicepwSecret, with any option: the search runs with
 *                 a copy of the filter in which those components are Undefined (the
 *                 client's filter may be shared: syncprov keeps filters across
 *                 operations, so it is never changed);
 *  DPW_F_EXT_ANY  an extensible match without an attribute, which tries every attribute
 *                 of an entry, devicepwSecret included: it is answered for an entry as
 *                 if the entry had no stored hash (see below);
 *  DPW_F_HASSUB   an assertion on hasSubordinates, for everyone but administrators:
 *                 a mailbox whose devices the requester may not see answers as if it
 *                 had no devices (whether a mailbox has children is whether it has
 *                 devices); other entries as always.
 * For the last two the backend runs a broadened copy (each such assertion TRUE where it
 * is not negated, FALSE where it is), and every entry it finds is tested against the
 * real filter — without its stored hash, and for such a mailbox as if it had no
 * devices. No clause is added: nothing depends on the requester's rights on other
 * attributes, and negations answer right. */
enum { DPW_F_SECRET = 1, DPW_F_EXT_ANY = 2, DPW_F_HASSUB = 4 };

/* The attribute a simple filter component asserts on; NULL for a composite, a computed
 * component or an extensible match without an attribute. */
static AttributeDescription *
devicepw_filter_desc( Filter *f )
{
	switch ( f->f_choice ) {
	case LDAP_FILTER_PRESENT: return f->f_desc;
	case LDAP_FILTER_EQUALITY:
	case LDAP_FILTER_GE:
	case LDAP_FILTER_LE:
	case LDAP_FILTER_APPROX: return f->f_ava ? f->f_ava->aa_desc : NULL;
	case LDAP_FILTER_SUBSTRINGS: return f->f_sub ? f->f_sub->sa_desc : NULL;
	case LDAP_FILTER_EXT: return f->f_mra ? f->f_mra->ma_desc : NULL;
	default: return NULL;
	}
}

static int
devicepw_filter_scan( Filter *f )
{
	int flags = 0;
	for ( ; f; f = f->f_next ) {
		AttributeDescription *ad;
		if ( f->f_choice == LDAP_FILTER_AND || f->f_choice == LDAP_FILTER_OR ||
				f->f_choice == LDAP_FILTER_NOT ) {
			flags |= devicepw_filter_scan( f->f_list );
			continue;
		}
		if ( f->f_choice == LDAP_FILTER_EXT && ( !f->f_mra || !f->f_mra->ma_desc ) ) flags |= DPW_F_EXT_ANY;
		ad = devicepw_filter_desc( f );
		if ( ad && ad->ad_type == ad_devicepwSecret->ad_type ) flags |= DPW_F_SECRET;
		if ( ad == slap_schema.si_ad_hasSubordinates ) flags |= DPW_F_HASSUB;
	}
	return flags;
}

/* In a copy of a filter: every hasSubordinates equality and every extensible match
 * without an attribute becomes TRUE where it is not negated and FALSE where it is, so
 * that the copy matches at least every entry the filter matches, whatever they say. */
static void
devicepw_filter_broaden( Filter *f, int negated )
{
	for ( ; f; f = f->f_next ) {
		switch ( f->f_choice ) {
		case LDAP_FILTER_AND:
		case LDAP_FILTER_OR:
			devicepw_filter_broaden( f->f_list, negated );
			break;
		case LDAP_FILTER_NOT:
			devicepw_filter_broaden( f->f_list, !negated );
			break;
		case LDAP_FILTER_EQUALITY:
		case LDAP_FILTER_APPROX:
			if ( f->f_ava && f->f_ava->aa_desc == slap_schema.si_ad_hasSubordinates ) {
				f->f_choice = SLAPD_FILTER_COMPUTED;
				f->f_result = negated ? LDAP_COMPARE_FALSE : LDAP_COMPARE_TRUE;
			}
			break;
		case LDAP_FILTER_EXT:
			if ( f->f_mra && !f->f_mra->ma_desc ) {
				f->f_choice = SLAPD_FILTER_COMPUTED;
				f->f_result = negated ? LDAP_COMPARE_FALSE : LDAP_COMPARE_TRUE;
			}
			break;
		}
	}
}

/* In a copy of a filter (ours to change): components on devicepwSecret become
 * Undefined; with no_devices, hasSubordinates assertions answer for a mailbox as
 * if it had no devices (DPW_F_HASSUB). */
static void
devicepw_filter_rewrite( Filter *f, int secret, int no_devices )
{
	for ( ; f; f = f->f_next ) {
		AttributeDescription *ad;
		if ( f->f_choice == LDAP_FILTER_AND || f->f_choice == LDAP_FILTER_OR ||
				f->f_choice == LDAP_FILTER_NOT ) {
			devicepw_filter_rewrite( f->f_list, secret, no_devices );
			continue;
		}
		if ( !( ad = devicepw_filter_desc( f ) ) ) continue;
		if ( secret && ad->ad_type == ad_devicepwSecret->ad_type ) {
			/* the copy's own component: dropped from evaluation, freed with the copy */
			f->f_choice = SLAPD_FILTER_COMPUTED;
			f->f_result = SLAPD_COMPARE_UNDEFINED;
		} else if ( no_devices && ad == slap_schema.si_ad_hasSubordinates &&
				( f->f_choice == LDAP_FILTER_EQUALITY || f->f_choice == LDAP_FILTER_APPROX ) ) {
			/* a mailbox without devices has no children: hasSubordinates is FALSE */
			int is_false = bvmatch( &f->f_ava->aa_value, (struct berval *)&slap_false_bv );
			f->f_choice = SLAPD_FILTER_COMPUTED;
			f->f_result = is_false ? LDAP_COMPARE_TRUE : LDAP_COMPARE_FALSE;
		}
	}
}

/* Whether an entry of class devicepwDevice (which has no other class: see the add
 * and modify rules) could match the filter. Conservative: 1 unless the filter
 * plainly needs an attribute or class a device cannot have, as the lookups of mail
 * services do ("(mail=...)", "(objectClass=inetOrgPerson)"), so that those searches
 * pay for none of the device hiding. Reads the filter only. */
static int
devicepw_attr_on_device( AttributeDescription *ad )
{
	AttributeType **at;
	if ( !ad || ad == slap_schema.si_ad_objectClass || is_at_operational( ad->ad_type ) ) return 1;
	for ( at = oc_devicepwDevice->soc_required; at && *at; at++ )
		if ( is_at_subtype( ad->ad_type, *at ) ) return 1;
	for ( at = oc_devicepwDevice->soc_allowed; at && *at; at++ )
		if ( is_at_subtype( ad->ad_type, *at ) ) return 1;
	return 0;
}

static int
devicepw_filter_may_match_device( Filter *f )
{
	Filter *g;
	switch ( f->f_choice ) {
	case LDAP_FILTER_AND:
		for ( g = f->f_list; g; g = g->f_next )
			if ( !devicepw_filter_may_match_device( g ) ) return 0;
		return 1;
	case LDAP_FILTER_OR:
		for ( g = f->f_list; g; g = g->f_next )
			if ( devicepw_filter_may_match_device( g ) ) return 1;
		return 0;
	case LDAP_FILTER_PRESENT:
		return devicepw_attr_on_device( f->f_desc );
	case LDAP_FILTER_EQUALITY:
		if ( f->f_ava && f->f_ava->aa_desc == slap_schema.si_ad_objectClass ) {
			ObjectClass *oc = oc_bvfind( &f->f_ava->aa_value );
			return !oc || is_object_subclass( oc, oc_devicepwDevice );
		}
		/* fallthrough */
	case LDAP_FILTER_GE:
	case LDAP_FILTER_LE:
	case LDAP_FILTER_APPROX:
		return f->f_ava ? devicepw_attr_on_device( f->f_ava->aa_desc ) : 1;
	case LDAP_FILTER_SUBSTRINGS:
		return f->f_sub ? devicepw_attr_on_device( f->f_sub->sa_desc ) : 1;
	default:	/* NOT, extensible, computed: assume it may */
		return 1;
	}
}

/* Per-search state. Broad searches by people who may not see every device: hidden
 * devices are dropped before slapd counts them against the size limit, so that
 * neither entries nor sizeLimitExceeded tell whether a mailbox has devices. The
 * operation's own size limit is set aside for the search and applied here to the
 * entries that are not hidden, as slapd would; a mailbox's hasSubordinates is
 * dropped for those who may not see its devices. Both the size limit and the
 * client's filter (when a rewritten copy ran instead) are put back when the search
 * ends. */
typedef struct devicepw_search_state {
	slap_overinst *on;
	int hide;		/* drop hidden devices, apply the size limit */
	int slimit;		/* the operation's size limit (when hide) */
	int flags;		/* DPW_F_*: rechecks of matched entries */
	Filter *orig_filter;	/* the client's filter, when copy runs instead */
	Filter *copy;		/* what the backend runs */
	Filter *real;		/* DPW_F_HASSUB: the filter entries are tested against */
	Filter *nodev;		/* DPW_F_HASSUB: the same for a mailbox without devices */
} devicepw_search_state;

/* Whether entry e, which matched, still matches with its devicepwSecret removed (an
 * extensible match without an attribute tries every attribute). */
static int
devicepw_recheck_without_secret( Operation *op, Entry *e, Filter *f )
{
	Entry *copy = entry_dup( e );
	int rc;
	attr_delete( &copy->e_attrs, ad_devicepwSecret );
	rc = test_filter( op, copy, f );
	entry_free( copy );
	return rc == LDAP_COMPARE_TRUE;
}

static int
devicepw_search_entry( Operation *op, SlapReply *rs )
{
	devicepw_search_state *st = op->o_callback->sc_private;
	devicepw_info *di = st->on->on_bi.bi_private;
	BackendInfo *bi = op->o_bd->bd_info;
	int hidden;

	if ( rs->sr_type != REP_SEARCH || !rs->sr_entry ) return SLAP_CB_CONTINUE;
	hidden = devicepw_entry_hidden( op, st->on, di, rs->sr_entry );
	op->o_bd->bd_info = bi;
	if ( hidden ) return LDAP_SUCCESS;	/* not sent, not counted */
	if ( st->real ) {
		/* the backend ran a broadened filter: the real answer for this entry, without
		 * its stored hash, and for a hidden mailbox as if it had no devices */
		Filter *f = st->nodev && is_entry_objectclass( rs->sr_entry, oc_devicepwMailbox, 0 ) &&
			!devicepw_sees_devices( op, st->on, di, &rs->sr_entry->e_nname ) ? st->nodev : st->real;
		int match = ( st->flags & DPW_F_EXT_ANY ) && attr_find( rs->sr_entry->e_attrs, ad_devicepwSecret )
			? devicepw_recheck_without_secret( op, rs->sr_entry, f )
			: test_filter( op, rs->sr_entry, f ) == LDAP_COMPARE_TRUE;
		op->o_bd->bd_info = bi;
		if ( !match ) return LDAP_SUCCESS;
	}
	op->o_bd->bd_info = bi;
	if ( st->slimit >= 0 && rs->sr_nentries >= st->slimit ) return LDAP_SIZELIMIT_EXCEEDED;
	if ( rs->sr_operational_attrs &&
			attr_find( rs->sr_operational_attrs, slap_schema.si_ad_hasSubordinates ) &&
			is_entry_objectclass( rs->sr_entry, oc_devicepwMailbox, 0 ) &&
			!devicepw_sees_devices( op, st->on, di, &rs->sr_entry->e_nname ) ) {
		/* this response's own operational attributes */
		attr_delete( &rs->sr_operational_attrs, slap_schema.si_ad_hasSubordinates );
	}
	op->o_bd->bd_info = bi;
	return SLAP_CB_CONTINUE;
}

static int
devicepw_search_cleanup( Operation *op, SlapReply *rs )
{
	slap_callback *sc = op->o_callback;
	devicepw_search_state *st = sc->sc_private;
	if ( rs->sr_type == REP_RESULT || op->o_abandon || rs->sr_err == SLAPD_ABANDON ) {
		if ( st->hide ) op->ors_slimit = st->slimit;
		if ( st->copy ) {
			op->ors_filter = st->orig_filter;
			filter_free_x( op, st->copy, 1 );
		}
		if ( st->real ) filter_free_x( op, st->real, 1 );
		if ( st->nodev ) filter_free_x( op, st->nodev, 1 );
		op->o_callback = sc->sc_next;
		op->o_tmpfree( sc, op->o_tmpmemctx );
	}
	return SLAP_CB_CONTINUE;
}

/* A read aimed at a mailbox or a device by its DN (a search based there, or a
 * compare): for the mailbox, its people and administrators only, decided from the
 * mailbox alone so that the answer says nothing about which devices exist.
 * Returns the decision; *direct says whether it was such a read. */
static dpw_decision
devicepw_direct_read( Operation *op, slap_overinst *on, devicepw_info *di, int *direct )
{
	struct berval mailbox;
	dpw_decision d = { DPW_R_ALLOW, NULL };
	dpw_place place = devicepw_dn_place( &op->o_req_ndn, &mailbox );
	dpw_actor actor;
	int is_mailbox = 0;

	*direct = 0;
	if ( place != DPW_PLACE_PLAIN ) {
		*direct = 1;
		return dpw_policy_gate( devicepw_actor_for( op, on, di, &mailbox, NULL ), DPW_OP_READ,
			place );
	}
	/* One read of the base tells both whether it is a mailbox and who asks. */
	actor = devicepw_actor_for( op, on, di, &op->o_req_ndn, &is_mailbox );
	if ( !is_mailbox ) return d;
	*direct = 1;
	if ( !dpw_policy_may_see_devices( actor ) ) {
		d.code = DPW_R_INSUFFICIENT;
		d.text = "only the people of a mailbox may read it and its devices";
	}
	return d;
}

static int
devicepw_op_search( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	slap_callback *sc;
	devicepw_search_state *st;
	dpw_actor actor;
	dpw_decision d;
	int direct = 0, hide = 0, flags;

	if ( !ad_devicepwSecret || devicepw_may_read_secret( op, di ) ) return SLAP_CB_CONTINUE;
	actor = devicepw_actor_global( op, di );
	if ( actor != DPW_ACTOR_ADMIN ) {
		/* A direct read (based at a device or at a mailbox): the mailbox's people only. */
		d = devicepw_direct_read( op, on, di, &direct );
		if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "SEARCH", actor );
		hide = ( op->ors_filter && devicepw_filter_may_match_device( op->ors_filter ) ) ||
			( slap_attr_flags( op->ors_attrs ) & SLAP_OPATTRS_YES ) ||
			ad_inlist( slap_schema.si_ad_hasSubordinates, op->ors_attrs );
	}
	flags = op->ors_filter ? devicepw_filter_scan( op->ors_filter ) : 0;
	if ( actor == DPW_ACTOR_ADMIN ) flags &= ~DPW_F_HASSUB;	/* admins see every device */
	if ( !hide && !flags ) return SLAP_CB_CONTINUE;

	sc = op->o_tmpcalloc( 1, sizeof(slap_callback) + sizeof(devicepw_search_state),
		op->o_tmpmemctx );
	st = (devicepw_search_state *)( sc + 1 );
	st->on = on;
	st->flags = flags;
	st->slimit = SLAP_NO_LIMIT;
	if ( flags ) {
		st->orig_filter = op->ors_filter;
		st->copy = filter_dup( op->ors_filter, op->o_tmpmemctx );
		devicepw_filter_rewrite( st->copy, 1, 0 );
		if ( flags & ( DPW_F_HASSUB | DPW_F_EXT_ANY ) ) {
			st->real = st->copy;
			if ( flags & DPW_F_HASSUB ) {
				st->nodev = filter_dup( st->real, op->o_tmpmemctx );
				devicepw_filter_rewrite( st->nodev, 0, 1 );
			}
			st->copy = filter_dup( st->real, op->o_tmpmemctx );
			devicepw_filter_broaden( st->copy, 0 );
			hide = 1;	/* entries are dropped: the size limit is applied here */
		}
		op->ors_filter = st->copy;
	}
	if ( hide ) {
		st->hide = 1;
		st->slimit = op->ors_slimit;
		op->ors_slimit = SLAP_NO_LIMIT;
	}
	sc->sc_response = devicepw_search_entry;
	sc->sc_cleanup = devicepw_search_cleanup;
	sc->sc_private = st;
	sc->sc_next = op->o_callback;
	op->o_callback = sc;
	return SLAP_CB_CONTINUE;
}

/* A compare of hasSubordinates is answered by slapd's frontend itself, before any
 * overlay's compare handler: decided here, in the control check that precedes it.
 * Aimed at a device, or at a mailbox by someone who may not see its devices, it gets
 * the answer of a direct read (50, whether the device exists or not). And the
 * frontend's own refusal (the ACLs deny compare) is given here instead: slapd 2.5.13
 * keeps the entry it fetched in that case, and the connection's next operation aborts
 * slapd (an mdb_opinfo_get assertion), so the overlay answers it the same way stock
 * slapd does (50, or 32 without disclose) without fetching through the frontend. */
static int
devicepw_compare_hassubordinates( Operation *op, SlapReply *rs, slap_overinst *on,
	devicepw_info *di )
{
	dpw_actor actor = devicepw_actor_global( op, di );
	Entry *e = NULL;
	int allowed;

	if ( actor == DPW_ACTOR_ROOT || actor == DPW_ACTOR_INTERNAL || actor == DPW_ACTOR_REPLICATION )
		return SLAP_CB_CONTINUE;
	if ( actor != DPW_ACTOR_ADMIN && !devicepw_may_read_secret( op, di ) ) {
		int direct = 0;
		dpw_decision d = devicepw_direct_read( op, on, di, &direct );
		if ( d.code != DPW_R_ALLOW ) {
			Debug( LDAP_DEBUG_STATS, "%s devicepw COMPARE dn=\"%s\" by=\"%s\" as=%s refused: %s\n",
				op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val, dpw_actor_name( actor ),
				d.text );
			rs->sr_err = d.code;
			rs->sr_text = d.text;
			return rs->sr_err;
		}
	}
	if ( devicepw_entry_get( op, on, &op->o_req_ndn, NULL, &e ) != LDAP_SUCCESS || !e ) {
		return SLAP_CB_CONTINUE;	/* no entry: slapd answers, nothing is kept */
	}
	allowed = access_allowed( op, e, op->orc_ava->aa_desc, &op->orc_ava->aa_value,
		ACL_COMPARE, NULL );
	devicepw_entry_release( op, on, e );
	if ( allowed ) return SLAP_CB_CONTINUE;
	rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
	if ( backend_access( op, NULL, &op->o_req_ndn, slap_schema.si_ad_entry, NULL, ACL_DISCLOSE,
			NULL ) == LDAP_INSUFFICIENT_ACCESS ) {
		rs->sr_err = LDAP_NO_SUCH_OBJECT;
	}
	return rs->sr_err;
}

static int
devicepw_op_compare( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	dpw_actor actor;
	dpw_decision d;
	int direct = 0;

	if ( !ad_devicepwSecret || devicepw_may_read_secret( op, di ) ) return SLAP_CB_CONTINUE;
	actor = devicepw_actor_global( op, di );
	if ( op->orc_ava && op->orc_ava->aa_desc->ad_type == ad_devicepwSecret->ad_type ) {
		return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
			"devicepwSecret cannot be compared", "COMPARE", actor );
	}
	if ( actor == DPW_ACTOR_ADMIN ) return SLAP_CB_CONTINUE;
	d = devicepw_direct_read( op, on, di, &direct );
	if ( d.code != DPW_R_ALLOW ) return devicepw_refuse( op, rs, d.code, d.text, "COMPARE", actor );
	return SLAP_CB_CONTINUE;
}

/* Every entry this database sends passes here: strip devicepwSecret unless the
 * reader may see it (the access hook already keeps it out of every result; this
 * also covers an entry another overlay sends without an access check). Cheap when
 * the entry has no secret (one attr_find). */
static int
devicepw_response( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;

	if ( rs->sr_type != REP_SEARCH || !rs->sr_entry || !ad_devicepwSecret ||
			!attr_find( rs->sr_entry->e_attrs, ad_devicepwSecret ) ||
			devicepw_may_read_secret( op, di ) ) {
		return SLAP_CB_CONTINUE;
	}
	rs_entry2modifiable( op, rs, on );
	attr_delete( &rs->sr_entry->e_attrs, ad_devicepwSecret );
	return SLAP_CB_CONTINUE;
}

/* devicepwHasSecret on device entries sent to those who may see them (the others
 * never get a device entry): whether a secret was generated, never what it is. */
/* Whether an attribute list names ad itself (not through "+" or "*"). */
static int
devicepw_attrs_name( AttributeName *an, AttributeDescription *ad )
{
	for ( ; an && !BER_BVISNULL( &an->an_name ); an++ ) {
		if ( an->an_desc == ad ) return 1;
	}
	return 0;
}

/* devicepwKey on the suffix entry, for administrators and secret readers: the ids and
 * fingerprints of the keys this server holds, the active one marked, so that the tool
 * can compare servers before a key is missing where a bind needs it. */
static int
devicepw_operational_keys( SlapReply *rs, devicepw_info *di )
{
	Attribute **ap;
	size_t i, n = dpw_keyring_count( di->ring );
	const char *active = dpw_keyring_current_id( di->ring );

	for ( ap = &rs->sr_operational_attrs; *ap; ap = &(*ap)->a_next ) {
		if ( (*ap)->a_desc == ad_devicepwKey ) return SLAP_CB_CONTINUE;
	}
	*ap = attr_alloc( ad_devicepwKey );
	(*ap)->a_vals = ch_calloc( n + 1, sizeof(struct berval) );
	for ( i = 0; i < n; i++ ) {
		char buf[DPW_KEYID_MAX + DPW_FINGERPRINT_CHARS + 16];
		const char *id = dpw_keyring_id( di->ring, i );
		int len = snprintf( buf, sizeof(buf), "%s %s%s", id, dpw_keyring_fingerprint( di->ring, i ),
			strcmp( id, active ) == 0 ? " active" : "" );
		(*ap)->a_vals[i].bv_val = ch_strdup( buf );
		(*ap)->a_vals[i].bv_len = len;
	}
	(*ap)->a_numvals = n;
	(*ap)->a_nvals = (*ap)->a_vals;
	return SLAP_CB_CONTINUE;
}

static int
devicepw_operational( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	Entry *e = rs->sr_entry;
	Attribute **ap;

	if ( e && ad_devicepwKey && di && di->ring && di->suffix.bv_val &&
			dn_match( &e->e_nname, &di->suffix ) &&
			devicepw_attrs_name( rs->sr_attrs, ad_devicepwKey ) &&	/* by name only: "+" stays as stock */
			devicepw_sees_devices( op, on, di, &di->suffix ) ) {
		return devicepw_operational_keys( rs, di );
	}
	if ( !e || !ad_devicepwHasSecret || !ad_devicepwSecret || !devicepw_entry_is_device( e ) ) {
		return SLAP_CB_CONTINUE;
	}
	if ( !SLAP_OPATTRS( rs->sr_attr_flags ) && !ad_inlist( ad_devicepwHasSecret, rs->sr_attrs ) ) {
		return SLAP_CB_CONTINUE;
	}
	for ( ap = &rs->sr_operational_attrs; *ap; ap = &(*ap)->a_next ) {
		if ( (*ap)->a_desc == ad_devicepwHasSecret ) return SLAP_CB_CONTINUE;
	}
	*ap = attr_alloc( ad_devicepwHasSecret );
	(*ap)->a_numvals = 1;
	(*ap)->a_vals = ch_malloc( 2 * sizeof(struct berval) );
	ber_dupbv( &(*ap)->a_vals[0], attr_find( e->e_attrs, ad_devicepwSecret )
		? (struct berval *)&slap_true_bv : (struct berval *)&slap_false_bv );
	BER_BVZERO( &(*ap)->a_vals[1] );
	(*ap)->a_nvals = (*ap)->a_vals;
	return SLAP_CB_CONTINUE;
}

/* A connection closes: it is bound as nothing any more. */
static int
devicepw_connection_destroy( BackendDB *be, Connection *conn )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	if ( di && conn ) dpw_sessions_forget( di->sessions, (uint64_t)conn->c_connid );
	return 0;
}

/* ---- proxied authorization: a mailbox's people may act as the mailbox ----------- */

/* slapd checks a Proxied Authorization control (RFC 4370) against the target's
 * authzFrom under `authz-policy from`, reading it with an entry fetch that names
 * authzFrom. For a mailbox without authzFrom of its own, devicepw answers that
 * fetch with a copy of the entry carrying one "dn:<person>" per devicepwUser, so
 * that the mailbox's people may act as the mailbox and nobody else may. Nothing is
 * stored: searches, replication and backups never see these values. */
static char devicepw_synthetic_entry;	/* e_private of the copies made here */

static int
devicepw_entry_get_rw( Operation *op, struct berval *ndn, ObjectClass *oc,
	AttributeDescription *at, int rw, Entry **ep )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	BackendInfo *orig = on->on_info->oi_orig;
	Entry *e = NULL, *copy;
	Attribute *users;
	BerVarray vals = NULL;
	unsigned i;
	int rc;

	if ( at != slap_schema.si_ad_saslAuthzFrom || rw || !oc_devicepwMailbox ||
			!orig->bi_entry_get_rw ) {
		return SLAP_CB_CONTINUE;
	}
	/* Fetch without naming the attribute: the backend refuses entries without it. */
	op->o_bd->bd_info = orig;
	rc = orig->bi_entry_get_rw( op, ndn, oc, NULL, 0, &e );
	if ( rc != LDAP_SUCCESS || !e ) {
		op->o_bd->bd_info = (BackendInfo *)on;
		return SLAP_CB_CONTINUE;
	}
	if ( !is_entry_objectclass( e, oc_devicepwMailbox, 0 ) ||
			attr_find( e->e_attrs, slap_schema.si_ad_saslAuthzFrom ) ||
			attr_find( e->e_attrs, ad_devicepwUser ) == NULL ) {
		/* Not ours to answer: the normal fetch runs. */
		orig->bi_entry_release_rw( op, e, 0 );
		op->o_bd->bd_info = (BackendInfo *)on;
		return SLAP_CB_CONTINUE;
	}
	copy = entry_dup( e );
	orig->bi_entry_release_rw( op, e, 0 );
	op->o_bd->bd_info = (BackendInfo *)on;
	users = attr_find( copy->e_attrs, ad_devicepwUser );	/* e is gone: use the copy */

	for ( i = 0; i < users->a_numvals; i++ ) {
		struct berval v;
		v.bv_len = STRLENOF( "dn:" ) + users->a_nvals[i].bv_len;
		v.bv_val = ch_malloc( v.bv_len + 1 );
		memcpy( v.bv_val, "dn:", STRLENOF( "dn:" ) );
		memcpy( v.bv_val + STRLENOF( "dn:" ), users->a_nvals[i].bv_val,
			users->a_nvals[i].bv_len + 1 );
		ber_bvarray_add( &vals, &v );
	}
	attr_merge( copy, slap_schema.si_ad_saslAuthzFrom, vals, vals );
	ber_bvarray_free( vals );
	copy->e_private = &devicepw_synthetic_entry;
	*ep = copy;
	return LDAP_SUCCESS;
}

static int
devicepw_entry_release_rw( Operation *op, Entry *e, int rw )
{
	if ( e && e->e_private == &devicepw_synthetic_entry ) {
		e->e_private = NULL;
		entry_free( e );
		return LDAP_SUCCESS;
	}
	return SLAP_CB_CONTINUE;
}

/* ---- telemetry: written off the bind path ---------------------------------------- */

/* One pending device, copied out of the pending set for the write. */
typedef struct devicepw_flush_item {
	struct berval ndn;
	dpw_telemetry_item item;
} devicepw_flush_item;

typedef struct devicepw_flush_batch {
	devicepw_flush_item *items;
	size_t n, cap;
} devicepw_flush_batch;

static void
devicepw_flush_collect( void *ctx, const char *ndn, size_t len, const dpw_telemetry_item *item )
{
	devicepw_flush_batch *b = ctx;
	if ( b->n == b->cap ) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		devicepw_flush_item *p = ch_realloc( b->items, cap * sizeof(*p) );
		b->items = p;
		b->cap = cap;
	}
	b->items[b->n].ndn.bv_len = len;
	b->items[b->n].ndn.bv_val = ch_malloc( len + 1 );
	memcpy( b->items[b->n].ndn.bv_val, ndn, len );
	b->items[b->n].ndn.bv_val[len] = '\0';
	b->items[b->n].item = *item;
	b->n++;
}

/* The telemetry modifications of one device: devicepwLastUsed replaced; the failure
 * count created at 0 when absent, then incremented; devicepwLastFailure replaced. */
static Modifications *
devicepw_flush_mods( const dpw_telemetry_item *it )
{
	Modifications *head = NULL, **tail = &head;
	char buf[32];
	if ( it->last_used > 0 ) {
		dpw_gentime_format( it->last_used, buf );
		*tail = devicepw_mod_replace( ad_devicepwLastUsed, buf, 15 );
		tail = &(*tail)->sml_next;
	}
	if ( it->failures > 0 ) {
		*tail = devicepw_mod_values( ad_devicepwFailureCount, SLAP_MOD_ADD_IF_NOT_PRESENT, "0", 1 );
		/* values only: the increment below works on the normalised values, which must
		 * then be the values themselves */
		ber_bvarray_free( (*tail)->sml_nvalues );
		(*tail)->sml_nvalues = NULL;
		tail = &(*tail)->sml_next;
		snprintf( buf, sizeof(buf), "%lu", it->failures );
		*tail = devicepw_mod_values( ad_devicepwFailureCount, LDAP_MOD_INCREMENT, buf, strlen( buf ) );
		tail = &(*tail)->sml_next;
		dpw_gentime_format( it->last_failure, buf );
		*tail = devicepw_mod_replace( ad_devicepwLastFailure, buf, 15 );
		tail = &(*tail)->sml_next;
	}
	return head;
}

/* Write everything pending into the device entries: straight to the backend under
 * this overlay (no other overlay sees it: syncprov neither replicates it nor gives it
 * a CSN), without operational attributes (entryCSN, modifyTimestamp stay), marked
 * not to be replicated, and in one transaction for all devices where the backend has
 * transactions (back-mdb). op is a clean internal operation of the database. */
static void
devicepw_flush( Operation *op, devicepw_info *di )
{
	slap_overinst *on = di->on;
	BackendInfo *orig = on->on_info->oi_orig;
	devicepw_flush_batch batch = { NULL, 0, 0 };
	slap_callback cb = { NULL, slap_null_cb, NULL, &devicepw_internal_marker };
	OpExtra *txn = NULL;
	size_t i, written = 0, gone = 0, failed = 0;
	int rc, in_txn = 0;

	if ( !dpw_telemetry_drain( di->telemetry, devicepw_flush_collect, &batch ) ) return;

	op->o_bd->bd_info = orig;
	op->o_tag = LDAP_REQ_MODIFY;
	op->o_callback = &cb;
	op->o_dn = op->o_bd->be_rootdn;
	op->o_ndn = op->o_bd->be_rootndn;
	op->o_dont_replicate = 1;
	op->orm_no_opattrs = 1;
	op->orm_increment = 0;
	if ( orig->bi_op_txn && orig->bi_op_txn( op, SLAP_TXN_BEGIN, &txn ) == 0 ) in_txn = 1;

	for ( i = 0; i < batch.n; i++ ) {
		devicepw_flush_item *fi = &batch.items[i];
		SlapReply rs = { REP_RESULT };
		Entry *e = NULL;
		/* a device deleted since its bind has nothing to record */
		if ( orig->bi_entry_get_rw( op, &fi->ndn, oc_devicepwDevice, NULL, 0, &e ) != LDAP_SUCCESS
				|| !e ) {
			gone++;
			continue;
		}
		orig->bi_entry_release_rw( op, e, 0 );
		op->o_req_dn = fi->ndn;
		op->o_req_ndn = fi->ndn;
		op->orm_modlist = devicepw_flush_mods( &fi->item );
		rc = orig->bi_op_modify( op, &rs );
		if ( rc == LDAP_SUCCESS ) rc = rs.sr_err;
		slap_mods_free( op->orm_modlist, 1 );
		op->orm_modlist = NULL;
		if ( rc == LDAP_SUCCESS ) {
			written++;
		} else {
			failed++;
			dpw_telemetry_restore( di->telemetry, fi->ndn.bv_val, fi->ndn.bv_len, &fi->item );
			Debug( LDAP_DEBUG_ANY, "devicepw: could not record telemetry of \"%s\" (%d)\n",
				fi->ndn.bv_val, rc );
		}
	}
	if ( in_txn ) {
		rc = orig->bi_op_txn( op, SLAP_TXN_COMMIT, &txn );
		if ( rc ) {
			/* nothing of this batch was written: put it all back for the next flush */
			for ( i = 0; i < batch.n; i++ )
				dpw_telemetry_restore( di->telemetry, batch.items[i].ndn.bv_val,
					batch.items[i].ndn.bv_len, &batch.items[i].item );
			Debug( LDAP_DEBUG_ANY, "devicepw: telemetry commit failed (%d); %lu devices kept "
				"for the next flush\n", rc, (unsigned long)batch.n );
			written = 0;
		}
	}
	Debug( LDAP_DEBUG_STATS, "devicepw TELEMETRY written=%lu gone=%lu failed=%lu\n",
		(unsigned long)written, (unsigned long)gone, (unsigned long)failed );
	for ( i = 0; i < batch.n; i++ ) ch_free( batch.items[i].ndn.bv_val );
	ch_free( batch.items );
}

/* A clean internal operation on the database of this overlay instance, on a fake
 * connection of the calling thread (a run queue task, or slapd shutting down). */
static int
devicepw_flush_now( devicepw_info *di, void *thrctx )
{
	Connection conn = { 0 };
	OperationBuffer opbuf;
	Operation *op;
	BackendDB *be, db;

	if ( !di->suffix.bv_val ) return 0;
	if ( dpw_nameset_ready( di->suspended ) && !dpw_telemetry_pending( di->telemetry ) ) return 0;
	be = select_backend( &di->suffix, 0 );
	if ( !be ) return 0;
	connection_fake_init2( &conn, &opbuf, thrctx, 0 );
	op = &opbuf.ob_op;
	db = *be;		/* our own copy: bd_info changes for the backend's calls */
	op->o_bd = &db;
	op->o_dn = be->be_rootdn;
	op->o_ndn = be->be_rootndn;
	if ( !dpw_nameset_ready( di->suspended ) ) devicepw_suspension_load( op, di );
	db.bd_info = (BackendInfo *)di->on->on_info;
	devicepw_flush( op, di );
	return 0;
}

static void *
devicepw_flush_task( void *ctx, void *arg )
{
	struct re_s *rtask = arg;
	devicepw_info *di = rtask->arg;

	devicepw_flush_now( di, ctx );
	ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
	ldap_pvt_runqueue_stoptask( &slapd_rq, rtask );
	ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
	return NULL;
}

/* The flush interval; takes effect for the next run of a task already scheduled. */
static void
devicepw_set_interval( devicepw_info *di, int seconds )
{
	di->telemetry_interval = seconds;
	if ( di->flush_task ) {
		ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
		di->flush_task->interval.tv_sec = seconds;
		if ( !ldap_pvt_runqueue_isrunning( &slapd_rq, di->flush_task ) )
			ldap_pvt_runqueue_resched( &slapd_rq, di->flush_task, 0 );
		ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
	}
}

/* ---- configuration: the directives above, in slapd.conf and cn=config ----------- */

static int
devicepw_dn_list_delete( BerVarray *vals, BerVarray *nvals, int valx )
{
	int i, n;
	if ( valx < 0 ) {
		ber_bvarray_free( *vals );
		ber_bvarray_free( *nvals );
		*vals = *nvals = NULL;
		return 0;
	}
	for ( n = 0; *vals && !BER_BVISNULL( &(*vals)[n] ); n++ )
		;
	if ( valx >= n ) return 1;
	ch_free( (*vals)[valx].bv_val );
	ch_free( (*nvals)[valx].bv_val );
	for ( i = valx; i < n; i++ ) {
		(*vals)[i] = (*vals)[i + 1];
		(*nvals)[i] = (*nvals)[i + 1];
	}
	if ( n == 1 ) {
		ch_free( *vals );
		ch_free( *nvals );
		*vals = *nvals = NULL;
	}
	return 0;
}

static int
devicepw_load_keyring( ConfigArgs *c, devicepw_info *di, const char *path )
{
	char err[192];
	dpw_keyring *ring = NULL;
	dpw_status st = dpw_keyring_load( path, &ring, err, sizeof(err) );
	if ( st != DPW_OK ) {
		snprintf( c->cr_msg, sizeof(c->cr_msg), "%s: %s", c->argv[0], err );
		Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
		return ARG_BAD_CONF;
	}
	if ( di->active_key &&
			dpw_keyring_set_active( ring, di->active_key, strlen( di->active_key ) ) != DPW_OK ) {
		snprintf( c->cr_msg, sizeof(c->cr_msg), "%s: devicepw-active-key \"%s\" is not in %s: "
			"add the key to the key file first", c->argv[0], di->active_key, path );
		Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
		dpw_keyring_free( ring );
		return ARG_BAD_CONF;
	}
	/* Safe to free: slapd is paused (cn=config) or not yet serving (slapd.conf). */
	dpw_keyring_free( di->ring );
	di->ring = ring;
	return 0;
}

static int
devicepw_cf_gen( ConfigArgs *c )
{
	slap_overinst *on = (slap_overinst *)c->bi;
	devicepw_info *di = on->on_bi.bi_private;
	int rc = 0;

	switch ( c->op ) {
	case SLAP_CONFIG_EMIT:
		switch ( c->type ) {
		case DPW_CF_KEYFILE:
			if ( di->keyfile ) c->value_string = ch_strdup( di->keyfile );
			else rc = 1;
			break;
		case DPW_CF_PRECISION:
			c->value_int = di->lastused_precision;
			break;
		case DPW_CF_PRIMARY:
			c->value_int = di->primary_password;
			break;
		case DPW_CF_MAXDEV:
			c->value_int = di->max_devices;
			break;
		case DPW_CF_INTERVAL:
			c->value_int = di->telemetry_interval;
			break;
		case DPW_CF_ACTIVE:
			if ( di->active_key ) c->value_string = ch_strdup( di->active_key );
			else rc = 1;
			break;
		case DPW_CF_READER:
		case DPW_CF_ADMIN: {
			BerVarray vals = c->type == DPW_CF_READER ? di->readers : di->admins;
			BerVarray nvals = c->type == DPW_CF_READER ? di->nreaders : di->nadmins;
			int i;
			if ( !vals ) { rc = 1; break; }
			for ( i = 0; !BER_BVISNULL( &vals[i] ); i++ ) {
				value_add_one( &c->rvalue_vals, &vals[i] );
				value_add_one( &c->rvalue_nvals, &nvals[i] );
			}
			break;
		}
		default:
			rc = 1;
		}
		return rc;

	case LDAP_MOD_DELETE:
		switch ( c->type ) {
		case DPW_CF_KEYFILE:
			/* The key file is required; without it no device authenticates. */
			ch_free( di->keyfile );
			di->keyfile = NULL;
			dpw_keyring_free( di->ring );
			di->ring = NULL;
			break;
		case DPW_CF_PRECISION:
			di->lastused_precision = DPW_LASTUSED_PRECISION;
			break;
		case DPW_CF_PRIMARY:
			di->primary_password = 1;
			break;
		case DPW_CF_MAXDEV:
			di->max_devices = 100;
			break;
		case DPW_CF_INTERVAL:
			devicepw_set_interval( di, DPW_TELEMETRY_INTERVAL );
			break;
		case DPW_CF_ACTIVE:
			ch_free( di->active_key );
			di->active_key = NULL;
			if ( di->ring ) dpw_keyring_set_active( di->ring, NULL, 0 );
			break;
		case DPW_CF_READER:
			rc = devicepw_dn_list_delete( &di->readers, &di->nreaders, c->valx );
			break;
		case DPW_CF_ADMIN:
			rc = devicepw_dn_list_delete( &di->admins, &di->nadmins, c->valx );
			break;
		default:
			rc = 1;
		}
		return rc;

	case SLAP_CONFIG_ADD:
	case LDAP_MOD_ADD:
		switch ( c->type ) {
		case DPW_CF_KEYFILE:
			rc = devicepw_load_keyring( c, di, c->value_string );
			if ( rc == 0 ) {
				ch_free( di->keyfile );
				di->keyfile = c->value_string;
			} else {
				ch_free( c->value_string );
			}
			c->value_string = NULL;
			break;
		case DPW_CF_PRECISION:
			if ( c->value_int < 0 ) {
				snprintf( c->cr_msg, sizeof(c->cr_msg),
					"%s must be 0 or more seconds", c->argv[0] );
				Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
				return ARG_BAD_CONF;
			}
			di->lastused_precision = c->value_int;
			break;
		case DPW_CF_PRIMARY:
			di->primary_password = c->value_int ? 1 : 0;
			break;
		case DPW_CF_MAXDEV:
			if ( c->value_int < 1 ) {
				snprintf( c->cr_msg, sizeof(c->cr_msg),
					"%s must be at least 1", c->argv[0] );
				Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
				return ARG_BAD_CONF;
			}
			di->max_devices = c->value_int;
			break;
		case DPW_CF_INTERVAL:
			if ( c->value_int < 1 || c->value_int > 3600 ) {
				snprintf( c->cr_msg, sizeof(c->cr_msg),
					"%s must be 1 to 3600 seconds", c->argv[0] );
				Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
				return ARG_BAD_CONF;
			}
			devicepw_set_interval( di, c->value_int );
			break;
		case DPW_CF_ACTIVE:
			if ( !dpw_id_valid( c->value_string, strlen( c->value_string ) ) ) {
				snprintf( c->cr_msg, sizeof(c->cr_msg),
					"%s: a key id is 1-16 characters from a-z and 0-9", c->argv[0] );
				Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
				ch_free( c->value_string );
				c->value_string = NULL;
				return ARG_BAD_CONF;
			}
			if ( di->ring && dpw_keyring_set_active( di->ring, c->value_string,
					strlen( c->value_string ) ) != DPW_OK ) {
				snprintf( c->cr_msg, sizeof(c->cr_msg), "%s: key \"%s\" is not in the key "
					"file %s: add it there first", c->argv[0], c->value_string,
					di->keyfile ? di->keyfile : "" );
				Debug( LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg );
				ch_free( c->value_string );
				c->value_string = NULL;
				return ARG_BAD_CONF;
			}
			ch_free( di->active_key );
			di->active_key = c->value_string;
			c->value_string = NULL;
			break;
		case DPW_CF_READER:
			ber_bvarray_add( &di->readers, &c->value_dn );
			ber_bvarray_add( &di->nreaders, &c->value_ndn );
			BER_BVZERO( &c->value_dn );
			BER_BVZERO( &c->value_ndn );
			break;
		case DPW_CF_ADMIN:
			ber_bvarray_add( &di->admins, &c->value_dn );
			ber_bvarray_add( &di->nadmins, &c->value_ndn );
			BER_BVZERO( &c->value_dn );
			BER_BVZERO( &c->value_ndn );
			break;
		default:
			rc = 1;
		}
		return rc;
	}
	return 1;
}

/* ---- database lifecycle ------------------------------------------------------- */

static int
devicepw_db_init( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	devicepw_info *di;

	if ( dpw_init() != DPW_OK ) {
		snprintf( cr->msg, sizeof(cr->msg), "devicepw: libsodium failed to initialise" );
		Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
		return 1;
	}
	di = ch_calloc( 1, sizeof(devicepw_info) );
	di->lastused_precision = DPW_LASTUSED_PRECISION;
	di->primary_password = 1;
	di->max_devices = 100;
	di->telemetry_interval = DPW_TELEMETRY_INTERVAL;
	di->on = on;
	di->telemetry = dpw_telemetry_new();
	di->sessions = dpw_sessions_new();
	di->tombstones = dpw_tombstones_new( 100000, 7 * 24 * 3600 );
	di->suspended = dpw_nameset_new();
	ldap_pvt_thread_mutex_init( &di->suspended_mutex );
	if ( !di->telemetry || !di->sessions || !di->tombstones || !di->suspended ) {
		dpw_nameset_free( di->suspended );
		ldap_pvt_thread_mutex_destroy( &di->suspended_mutex );
		dpw_telemetry_free( di->telemetry );
		dpw_sessions_free( di->sessions );
		dpw_tombstones_free( di->tombstones );
		ch_free( di );
		return 1;
	}
	on->on_bi.bi_private = di;
	return 0;
}

static int
devicepw_db_open( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	devicepw_info *di = on->on_bi.bi_private;

	if ( !di->ring ) {
		snprintf( cr->msg, sizeof(cr->msg),
			"devicepw: no key file configured (devicepw-keyfile / olcDevicepwKeyFile "
			"is required; create one with: devicepw keygen > FILE; chmod 600 FILE)" );
		Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
		return 1;
	}
	if ( BER_BVISEMPTY( &be->be_rootndn ) ) {
		/* The overlay's own writes (secrets, last use, revocations) run as the
		 * rootdn; a rootdn without a rootpw is enough and cannot bind. */
		snprintf( cr->msg, sizeof(cr->msg),
			"devicepw: the database needs a rootdn for the overlay's own writes "
			"(a rootdn without rootpw is enough)" );
		Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
		return 1;
	}
	if ( devicepw_schema_lookup( cr ) ) return 1;
	if ( !di->suffix.bv_val ) ber_dupbv( &di->suffix, &be->be_nsuffix[0] );
	if ( !( slapMode & SLAP_TOOL_MODE ) && !di->flush_task ) {
		ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
		di->flush_task = ldap_pvt_runqueue_insert( &slapd_rq, di->telemetry_interval,
			devicepw_flush_task, di, "devicepw_flush", be->be_suffix[0].bv_val );
		ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
	}
	return 0;
}

/* A clean stop writes every pending last use and failure. */
static int
devicepw_db_close( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	devicepw_info *di = on->on_bi.bi_private;

	(void)cr;
	if ( !di ) return 0;
	if ( di->flush_task ) {
		struct re_s *re = di->flush_task;
		di->flush_task = NULL;
		ldap_pvt_thread_mutex_lock( &slapd_rq.rq_mutex );
		if ( ldap_pvt_runqueue_isrunning( &slapd_rq, re ) )
			ldap_pvt_runqueue_stoptask( &slapd_rq, re );
		ldap_pvt_runqueue_remove( &slapd_rq, re );
		ldap_pvt_thread_mutex_unlock( &slapd_rq.rq_mutex );
	}
	if ( !( slapMode & SLAP_TOOL_MODE ) ) {
		devicepw_flush_now( di, ldap_pvt_thread_pool_context() );
	}
	return 0;
}

static int
devicepw_db_destroy( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	devicepw_info *di = on->on_bi.bi_private;

	if ( di ) {
		ch_free( di->keyfile );
		ch_free( di->active_key );
		dpw_keyring_free( di->ring );
		ber_bvarray_free( di->readers );
		ber_bvarray_free( di->nreaders );
		ber_bvarray_free( di->admins );
		ber_bvarray_free( di->nadmins );
		dpw_telemetry_free( di->telemetry );
		dpw_sessions_free( di->sessions );
		dpw_tombstones_free( di->tombstones );
		dpw_nameset_free( di->suspended );
		ldap_pvt_thread_mutex_destroy( &di->suspended_mutex );
		ch_free( di->suffix.bv_val );
		ch_free( di );
		on->on_bi.bi_private = NULL;
	}
	return 0;
}

/* ---- the one entry point ------------------------------------------------------ */

static int
devicepw_initialize( void )
{
	int rc;

	devicepw.on_bi.bi_type = "devicepw";
	devicepw.on_bi.bi_flags = SLAPO_BFLAG_SINGLE;
	devicepw.on_bi.bi_db_init = devicepw_db_init;
	devicepw.on_bi.bi_db_open = devicepw_db_open;
	devicepw.on_bi.bi_db_close = devicepw_db_close;
	devicepw.on_bi.bi_db_destroy = devicepw_db_destroy;

	devicepw.on_bi.bi_op_bind = devicepw_op_bind;
	devicepw.on_bi.bi_extended = devicepw_op_extended;
	devicepw.on_bi.bi_op_add = devicepw_op_add;
	devicepw.on_bi.bi_op_modify = devicepw_op_modify;
	devicepw.on_bi.bi_op_modrdn = devicepw_op_modrdn;
	devicepw.on_bi.bi_op_delete = devicepw_op_delete;
	devicepw.on_bi.bi_op_search = devicepw_op_search;
	devicepw.on_bi.bi_op_compare = devicepw_op_compare;
	devicepw.on_response = devicepw_response;
	devicepw.on_bi.bi_entry_get_rw = devicepw_entry_get_rw;
	devicepw.on_bi.bi_entry_release_rw = devicepw_entry_release_rw;
	devicepw.on_bi.bi_chk_controls = devicepw_chk_controls;
	devicepw.on_bi.bi_operational = devicepw_operational;
	devicepw.on_bi.bi_connection_destroy = devicepw_connection_destroy;

	for ( rc = 0; devicepw_operational_ats[rc].def; rc++ ) {
		int code = register_at( devicepw_operational_ats[rc].def, devicepw_operational_ats[rc].ad, 0 );
		if ( code ) {
			Debug( LDAP_DEBUG_ANY, "devicepw: cannot register attribute type (%d)\n", code );
			return code;
		}
	}

	devicepw.on_bi.bi_cf_ocs = devicepw_ocs;
	rc = config_register_schema( devicepw_cfg, devicepw_ocs );
	if ( rc ) return rc;

	return overlay_register( &devicepw );
}

/* The only exported symbol (hidden visibility + devicepw.map). */
__attribute__(( visibility( "default" ) )) int
init_module( int argc, char *argv[] )
{
	(void)argc;
	(void)argv;
	return devicepw_initialize();
}
