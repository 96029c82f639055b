/* devicepw.c - slapd overlay: per-device passwords for mailbox entries.
 *
 * This file is the C glue between slapd and the devicepw core (core/, through
 * core/devicepw_core.h). It owns everything that touches slapd's structures; all
 * logic about secrets, keys and digests lives in the core.
 *
 * A device is an entry devicepwId=<id>,<mailbox DN> (objectClass devicepwDevice)
 * holding the keyed hash of its secret. A secret is "<id>-xxxx-xxxx-xxxx-xxxx": it
 * names its device, so a simple bind to a mailbox reads exactly one entry (the
 * device, by DN) and computes one keyed hash, however many devices there are.
 *
 * Operations handled, each by the callback named after it:
 *   bind      - a device secret authenticates as the mailbox
 *   extended  - Password Modify on a device generates/rotates its secret
 *   add       - device rules: parent is a mailbox, id syntax, label, limit
 *   modify    - revocation is final, server-maintained attributes, label
 *   modrdn    - devices do not move
 *   delete    - only administrators delete devices
 *   search    - devicepwSecret is readable only by the rootdn and secret readers:
 *   compare     filters and compares on it are refused, and the response
 *               callback strips it from entries
 *
 * Threading: configuration fields change only while slapd is paused (cn=config
 * writes pause the server; slapd.conf is read before threads start), so operation
 * callbacks read them without locks. Per-operation state lives on the stack or in
 * op->o_tmpmemctx. The only shared mutable state is the failure counters, which
 * lock internally.
 */

#include "portable.h"

#include <stdio.h>
#include <ac/string.h>
#include <ac/time.h>

#include "slap.h"
#include "slap-config.h"

#include "devicepw_core.h"
#include "failures.h"

#define DPW_ARC "2.25.255856649164264369961457662193972977575"

/* ---- configuration ----------------------------------------------------------- */

typedef struct devicepw_info {
	char *keyfile;             /* devicepw-keyfile */
	dpw_keyring *ring;         /* loaded from keyfile; NULL until configured */
	int lastused_precision;    /* devicepw-lastused-precision, seconds */
	int primary_password;      /* devicepw-primary-password */
	int max_devices;           /* devicepw-max-devices */
	BerVarray readers;         /* devicepw-secret-reader (pretty / normalised) */
	BerVarray nreaders;
	BerVarray admins;          /* devicepw-admin (pretty / normalised) */
	BerVarray nadmins;
	dpw_failures *failures;    /* failed binds per device */
} devicepw_info;

enum {
	DPW_CF_KEYFILE = 1,
	DPW_CF_PRECISION,
	DPW_CF_PRIMARY,
	DPW_CF_MAXDEV,
	DPW_CF_READER,
	DPW_CF_ADMIN
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
	{ NULL, NULL, 0, 0, 0, ARG_IGNORED }
};

static ConfigOCs devicepw_ocs[] = {
	{ "( " DPW_ARC ".3.2.1 "
	  "NAME 'olcDevicepwConfig' "
	  "DESC 'devicepw overlay configuration' "
	  "SUP olcOverlayConfig "
	  "MAY ( olcDevicepwKeyFile $ olcDevicepwLastUsedPrecision $ "
	  "olcDevicepwPrimaryPassword $ olcDevicepwMaxDevices $ "
	  "olcDevicepwSecretReader $ olcDevicepwAdmin ) )",
	  Cft_Overlay, devicepw_cfg, NULL, NULL },
	{ NULL, 0, NULL }
};

/* ---- schema (from devicepw.schema, looked up when the overlay opens) ---------- */

static AttributeDescription *ad_devicepwId, *ad_devicepwLabel, *ad_devicepwOwner,
	*ad_devicepwSecret, *ad_devicepwRevoked, *ad_devicepwRevokedAt,
	*ad_devicepwExpires, *ad_devicepwLastUsed, *ad_devicepwUser, *ad_member;
static ObjectClass *oc_devicepwMailbox, *oc_devicepwDevice, *oc_groupOfNames;
/* Normalised RDN type of a device, "devicepwid=", to build a device's DN from the
 * already normalised mailbox DN without a second normalisation. */
static struct berval devicepw_rdn_prefix = BER_BVNULL;

static struct berval bv_true = BER_BVC("TRUE");
static slap_overinst devicepw;

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
	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) {
		/* Normalise a sample RDN once and keep what precedes the value. */
		struct berval sample = BER_BVC( "devicepwId=a" ), norm = BER_BVNULL;
		if ( dnNormalize( 0, NULL, NULL, &sample, &norm, NULL ) != LDAP_SUCCESS ||
			norm.bv_len < 2 || norm.bv_val[norm.bv_len - 1] != 'a' ) {
			snprintf( cr->msg, sizeof(cr->msg), "devicepw: cannot normalise a device RDN" );
			Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
			ch_free( norm.bv_val );
			return 1;
		}
		/* Kept in static storage: it is the same for every database and lives as
		 * long as the module. */
		static char prefix[32];
		if ( norm.bv_len > sizeof(prefix) ) {
			snprintf( cr->msg, sizeof(cr->msg), "devicepw: unexpected device RDN form" );
			Debug( LDAP_DEBUG_ANY, "%s\n", cr->msg );
			ch_free( norm.bv_val );
			return 1;
		}
		memcpy( prefix, norm.bv_val, norm.bv_len - 1 );
		prefix[norm.bv_len - 1] = '\0';
		ch_free( norm.bv_val );
		devicepw_rdn_prefix.bv_val = prefix;
		devicepw_rdn_prefix.bv_len = norm.bv_len - 1;
	}
	return 0;
}

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
	if ( be_isroot( op ) || be_isupdate( op ) ) return 1;
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

/* May write stored hashes and server-maintained attributes: the rootdn (restore,
 * and the overlay's own internal writes, which run as the rootdn) and replication. */
static int
devicepw_is_privileged( Operation *op )
{
	return be_isroot( op ) || be_isupdate( op );
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

/* Where a normalised DN stands relative to devices: DPW_DN_PLAIN when no RDN of it
 * is devicepwId=...; DPW_DN_DEVICE when its own (and only) such RDN is the first;
 * DPW_DN_BELOW_DEVICE when it lies below one. For the last two, *mailbox is set to
 * the DN above the topmost devicepwId RDN: the mailbox that decides who may know. */
enum { DPW_DN_PLAIN = 0, DPW_DN_DEVICE, DPW_DN_BELOW_DEVICE };

static int
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
	if ( found < 0 ) return DPW_DN_PLAIN;
	return found == 0 ? DPW_DN_DEVICE : DPW_DN_BELOW_DEVICE;
}

/* The overlay's own internal writes carry this as the private data of their
 * callback, so that its handlers neither log them twice nor act on them again. */
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

/* Run an internal modify of dn through the whole overlay stack of this database
 * (so syncprov and accesslog see it), as the rootdn. mods are freed by the caller. */
static int
devicepw_internal_modify( Operation *op, slap_overinst *on, struct berval *dn,
	struct berval *ndn, Modifications *mods, SlapReply *rs_out )
{
	Operation op2 = *op;
	SlapReply rs2 = { REP_RESULT };
	slap_callback cb = { NULL, slap_null_cb, NULL, &devicepw_internal_marker };
	BackendInfo *bi = op->o_bd->bd_info;
	int rc;

	op2.o_tag = LDAP_REQ_MODIFY;
	op2.o_req_dn = *dn;
	op2.o_req_ndn = *ndn;
	op2.o_callback = &cb;
	op2.orm_modlist = mods;
	op2.orm_no_opattrs = 0;
	op2.orm_increment = 0;
	op2.o_dn = op->o_bd->be_rootdn;
	op2.o_ndn = op->o_bd->be_rootndn;
	op2.o_ctrls = NULL;
	op2.o_managedsait = SLAP_CONTROL_NONE;
	op2.o_relax = SLAP_CONTROL_NONE;
	op2.o_no_schema_check = 0;
	op2.o_bd->bd_info = (BackendInfo *)on->on_info;
	rc = op2.o_bd->be_modify( &op2, &rs2 );
	op->o_bd->bd_info = bi;
	if ( rc == LDAP_SUCCESS ) rc = rs2.sr_err;
	if ( rs_out ) *rs_out = rs2;
	return rc;
}

static Modifications *
devicepw_mod_replace( AttributeDescription *ad, const char *value, size_t len )
{
	Modifications *m = ch_calloc( 1, sizeof(Modifications) );
	m->sml_op = LDAP_MOD_REPLACE;
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

/* Internal search on the backend under this overlay (no other overlay sees it), as
 * the rootdn, with no controls; response handles the entries with private as its
 * sc_private. A base that does not exist counts as nothing found. */
static int
devicepw_internal_search( Operation *op, slap_overinst *on, struct berval *base, int scope,
	Filter *filter, const char *filterstr, AttributeName *attrs,
	slap_response *response, void *private )
{
	Operation op2 = *op;
	SlapReply rs2 = { REP_RESULT };
	slap_callback cb = { NULL, response, NULL, private };
	BackendInfo *bi = op->o_bd->bd_info;
	int rc;

	op2.o_tag = LDAP_REQ_SEARCH;
	op2.o_req_dn = *base;
	op2.o_req_ndn = *base;
	op2.o_callback = &cb;
	op2.o_dn = op->o_bd->be_rootdn;
	op2.o_ndn = op->o_bd->be_rootndn;
	op2.o_ctrls = NULL;
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

/* Count the devices under a mailbox (one-level search on the backend itself). */
typedef struct devicepw_count { int n; } devicepw_count;

static int
devicepw_count_cb( Operation *op, SlapReply *rs )
{
	if ( rs->sr_type == REP_SEARCH ) {
		((devicepw_count *)op->o_callback->sc_private)->n++;
	}
	return 0;
}

static int
devicepw_count_devices( Operation *op, slap_overinst *on, struct berval *mailbox_ndn,
	int *count )
{
	devicepw_count c = { 0 };
	AttributeAssertion ava = ATTRIBUTEASSERTION_INIT;
	Filter f = { 0 };
	int rc;

	ava.aa_desc = slap_schema.si_ad_objectClass;
	ava.aa_value = oc_devicepwDevice->soc_cname;
	f.f_choice = LDAP_FILTER_EQUALITY;
	f.f_ava = &ava;
	rc = devicepw_internal_search( op, on, mailbox_ndn, LDAP_SCOPE_ONELEVEL, &f,
		"(objectClass=devicepwDevice)", slap_anlist_no_attrs, devicepw_count_cb, &c );
	*count = c.n;
	return rc;
}

/* ---- who may do what with a mailbox's devices ---------------------------------- */

/* The relation of the requesting identity to one mailbox. Administrators manage
 * every device; a mailbox's users (devicepwUser) read its devices and manage the
 * ones they own; the mailbox itself (a connection bound with a device password)
 * may read its devices but never manage them: a stolen device password must not
 * mint more. */
typedef enum {
	DPW_ACTOR_NONE = 0,
	DPW_ACTOR_MAILBOX,
	DPW_ACTOR_USER,
	DPW_ACTOR_ADMIN
} devicepw_actor;

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

/* The requester's relation to the mailbox mailbox_ndn. *exists is set to whether
 * that entry is a mailbox (NULL allowed). */
static devicepw_actor
devicepw_actor_for( Operation *op, slap_overinst *on, devicepw_info *di,
	struct berval *mailbox_ndn, int *exists )
{
	Entry *mb = NULL;
	devicepw_actor actor = DPW_ACTOR_NONE;

	if ( exists ) *exists = 0;
	if ( devicepw_is_admin( op, di ) ) {
		actor = DPW_ACTOR_ADMIN;
		if ( !exists ) return actor;
	}
	if ( devicepw_entry_get( op, on, mailbox_ndn, oc_devicepwMailbox, &mb ) != LDAP_SUCCESS
			|| !mb ) {
		return actor;
	}
	if ( exists ) *exists = 1;
	if ( actor == DPW_ACTOR_NONE && !BER_BVISEMPTY( &op->o_ndn ) ) {
		if ( dn_match( &op->o_ndn, mailbox_ndn ) ) {
			actor = DPW_ACTOR_MAILBOX;
		} else if ( devicepw_entry_has_dn( mb, ad_devicepwUser, &op->o_ndn ) ) {
			actor = DPW_ACTOR_USER;
		}
	}
	devicepw_entry_release( op, on, mb );
	return actor;
}

static const char devicepw_text_not_allowed[] = "not allowed to manage this mailbox's devices";
static const char devicepw_text_not_owner[] =
	"people manage only the devices they own; ask an administrator for the others";

/* ---- revoking the devices of people who leave a mailbox ------------------------ */

typedef struct devicepw_dn_list {
	BerVarray dns;		/* device DNs to revoke, ch_malloc'd */
} devicepw_dn_list;

static int
devicepw_collect_cb( Operation *op, SlapReply *rs )
{
	if ( rs->sr_type == REP_SEARCH && rs->sr_entry &&
			!devicepw_attr_is_true( rs->sr_entry, ad_devicepwRevoked ) ) {
		devicepw_dn_list *l = op->o_callback->sc_private;
		value_add_one( &l->dns, &rs->sr_entry->e_nname );
	}
	return 0;
}

/* Internal search on the backend itself, as the rootdn, for devicepwDevice entries
 * owned by owner_ndn under base (one level under a mailbox, or the whole subtree). */
static int
devicepw_find_owned( Operation *op, slap_overinst *on, struct berval *base, int scope,
	struct berval *owner_ndn, devicepw_dn_list *out )
{
	AttributeAssertion ava_oc = ATTRIBUTEASSERTION_INIT, ava_owner = ATTRIBUTEASSERTION_INIT;
	Filter fand = { 0 }, foc = { 0 }, fowner = { 0 };
	AttributeName attrs[2];

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
	return devicepw_internal_search( op, on, base, scope, &fand,
		"(&(objectClass=devicepwDevice)(devicepwOwner=*))", attrs, devicepw_collect_cb, out );
}

/* Revoke (devicepwRevoked: TRUE, through the whole overlay stack so that it
 * replicates) every unrevoked device owned by owner_ndn under base. */
static void
devicepw_revoke_owned( Operation *op, slap_overinst *on, struct berval *base, int scope,
	struct berval *owner_ndn, const char *why )
{
	devicepw_dn_list l = { NULL };
	int i;

	if ( devicepw_find_owned( op, on, base, scope, owner_ndn, &l ) != LDAP_SUCCESS ) {
		Debug( LDAP_DEBUG_ANY, "%s devicepw: could not find the devices of \"%s\" under \"%s\"\n",
			op->o_log_prefix, owner_ndn->bv_val, base->bv_val );
	}
	for ( i = 0; l.dns && !BER_BVISNULL( &l.dns[i] ); i++ ) {
		Modifications *m = devicepw_mod_replace( ad_devicepwRevoked, "TRUE", 4 );
		int rc = devicepw_internal_modify( op, on, &l.dns[i], &l.dns[i], m, NULL );
		slap_mods_free( m, 1 );
		Debug( LDAP_DEBUG_STATS, "%s devicepw REVOKE device=\"%s\" owner=\"%s\" reason=%s "
			"by=\"%s\" rc=%d\n", op->o_log_prefix, l.dns[i].bv_val, owner_ndn->bv_val, why,
			op->o_dn.bv_val, rc );
	}
	ber_bvarray_free( l.dns );
}

/* State carried from a modify or delete to its result. */
typedef struct devicepw_post {
	slap_overinst *on;
	struct berval target;	/* normalised DN of the modified/deleted entry */
	BerVarray removed;	/* people removed from the mailbox (modify) */
} devicepw_post;

static int
devicepw_post_cleanup( Operation *op, SlapReply *rs )
{
	slap_callback *sc = op->o_callback;
	devicepw_post *p = sc->sc_private;

	if ( rs->sr_type == REP_RESULT || op->o_abandon || rs->sr_err == SLAPD_ABANDON ) {
		op->o_callback = sc->sc_next;
		ber_bvarray_free( p->removed );
		ch_free( p->target.bv_val );
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

/* After a successful delete of a person: take them off every mailbox (which revokes
 * their devices there through the modify path) and revoke every device they own. */
typedef struct devicepw_mailboxes {
	BerVarray dns;
} devicepw_mailboxes;

static int
devicepw_mailbox_cb( Operation *op, SlapReply *rs )
{
	if ( rs->sr_type == REP_SEARCH && rs->sr_entry ) {
		devicepw_mailboxes *m = op->o_callback->sc_private;
		value_add_one( &m->dns, &rs->sr_entry->e_nname );
	}
	return 0;
}

/* The mailboxes that list person_ndn in devicepwUser (internal search on the
 * backend, as the rootdn; wants `index devicepwUser eq`). Appends to *out. */
static int
devicepw_find_mailboxes_of( Operation *op, slap_overinst *on, struct berval *person_ndn,
	BerVarray *out )
{
	devicepw_mailboxes mbs = { *out };	/* appended to */
	AttributeAssertion ava = ATTRIBUTEASSERTION_INIT;
	Filter f = { 0 };
	int rc;

	ava.aa_desc = ad_devicepwUser;
	ava.aa_value = *person_ndn;
	f.f_choice = LDAP_FILTER_EQUALITY;
	f.f_ava = &ava;
	rc = devicepw_internal_search( op, on, &op->o_bd->be_nsuffix[0], LDAP_SCOPE_SUBTREE, &f,
		"(devicepwUser=*)", slap_anlist_no_attrs, devicepw_mailbox_cb, &mbs );
	*out = mbs.dns;
	return rc;
}

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
		Modifications *m = ch_calloc( 1, sizeof(Modifications) );
		int rc;
		m->sml_op = LDAP_MOD_DELETE;
		m->sml_flags = SLAP_MOD_INTERNAL;
		m->sml_desc = ad_devicepwUser;
		m->sml_type = ad_devicepwUser->ad_cname;
		m->sml_numvals = 1;
		m->sml_values = ch_calloc( 2, sizeof(struct berval) );
		m->sml_nvalues = ch_calloc( 2, sizeof(struct berval) );
		ber_dupbv( &m->sml_values[0], &p->target );
		ber_dupbv( &m->sml_nvalues[0], &p->target );
		rc = devicepw_internal_modify( op, on, &mailboxes[i], &mailboxes[i], m, NULL );
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

/* ---- bind --------------------------------------------------------------------- */

/* When the password does not name a device: a mailbox's own userPassword binds
 * only if devicepw-primary-password is on; anything else binds as stock slapd. */
static int
devicepw_bind_primary( Operation *op, SlapReply *rs, slap_overinst *on, devicepw_info *di )
{
	Entry *e = NULL;
	if ( di->primary_password ) return SLAP_CB_CONTINUE;
	if ( devicepw_entry_get( op, on, &op->o_req_ndn, oc_devicepwMailbox, &e ) == LDAP_SUCCESS
			&& e ) {
		devicepw_entry_release( op, on, e );
		Debug( LDAP_DEBUG_STATS, "%s devicepw BIND mailbox=\"%s\" outcome=primary-password-off\n",
			op->o_log_prefix, op->o_req_dn.bv_val );
		send_ldap_error( op, rs, LDAP_INVALID_CREDENTIALS, NULL );
		return rs->sr_err;
	}
	return SLAP_CB_CONTINUE;
}

typedef enum {
	DPW_BIND_OK, DPW_BIND_WRONG, DPW_BIND_REVOKED, DPW_BIND_EXPIRED,
	DPW_BIND_NO_SECRET, DPW_BIND_ERROR
} devicepw_bind_outcome;

static const char *const devicepw_outcome_names[] = {
	"ok", "wrong-secret", "revoked", "expired", "no-secret", "error"
};

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
	ID device_id;
	Entry *e = NULL;
	Attribute *a;
	devicepw_bind_outcome outcome;
	int write_lastused = 0;
	dpw_keyring *ring = di->ring;

	if ( op->orb_method != LDAP_AUTH_SIMPLE || BER_BVISEMPTY( &op->orb_cred ) ||
			!ring || BER_BVISNULL( &devicepw_rdn_prefix ) ) {
		return SLAP_CB_CONTINUE;
	}
	if ( dpw_secret_canonical( op->orb_cred.bv_val, op->orb_cred.bv_len,
			canon, &id_len ) != DPW_OK ) {
		return devicepw_bind_primary( op, rs, on, di );
	}

	ndn_allocated = devicepw_device_ndn( op, canon, id_len, &op->o_req_ndn, &device_ndn,
		ndn_buf, sizeof(ndn_buf) );
	/* No object class check here (it costs): only devices may be named devicepwId=
	 * (devicepw_op_add) and only devicepwDevice allows devicepwSecret. */
	if ( devicepw_entry_get( op, on, &device_ndn, NULL, &e ) != LDAP_SUCCESS
			|| !e ) {
		/* No such device of this mailbox: the password is not a device secret. */
		if ( ndn_allocated ) op->o_tmpfree( device_ndn.bv_val, op->o_tmpmemctx );
		explicit_bzero( canon, sizeof(canon) );
		return devicepw_bind_primary( op, rs, on, di );
	}

	/* The device decides. */
	if ( devicepw_attr_is_true( e, ad_devicepwRevoked ) ) {
		outcome = DPW_BIND_REVOKED;
	} else if ( ( a = attr_find( e->e_attrs, ad_devicepwSecret ) ) == NULL || a->a_numvals == 0 ) {
		outcome = DPW_BIND_NO_SECRET;
	} else {
		dpw_status st = dpw_stored_verify( ring, a->a_vals[0].bv_val, a->a_vals[0].bv_len,
			canon, id_len + DPW_RANDOM_CHARS );
		if ( st == DPW_OK ) {
			int64_t expires = 0;
			int has_expiry = devicepw_attr_time( e, ad_devicepwExpires, &expires );
			if ( has_expiry < 0 || ( has_expiry > 0 && (int64_t)op->o_time >= expires ) ) {
				outcome = DPW_BIND_EXPIRED;
			} else {
				outcome = DPW_BIND_OK;
				write_lastused = devicepw_lastused_stale( op, e, di->lastused_precision );
			}
		} else if ( st == DPW_NO_MATCH ) {
			outcome = DPW_BIND_WRONG;
		} else {
			outcome = DPW_BIND_ERROR;
		}
	}
	device_id = e->e_id;
	devicepw_entry_release( op, on, e );
	explicit_bzero( canon, sizeof(canon) );

	if ( outcome == DPW_BIND_OK ) {
		if ( write_lastused ) {
			char now[16];
			Modifications *m;
			struct berval dn;
			int rc;
			dpw_gentime_format( (int64_t)op->o_time, now );
			m = devicepw_mod_replace( ad_devicepwLastUsed, now, 15 );
			/* The device's DN as the client might see it; the normalised one is a
			 * valid DN too and this is an internal operation. */
			dn = device_ndn;
			rc = devicepw_internal_modify( op, on, &dn, &device_ndn, m, NULL );
			slap_mods_free( m, 1 );
			if ( rc != LDAP_SUCCESS ) {
				/* Not fatal: the bind itself succeeded. */
				Debug( LDAP_DEBUG_ANY, "%s devicepw: could not write devicepwLastUsed of "
					"\"%s\" (%d)\n", op->o_log_prefix, device_ndn.bv_val, rc );
			}
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
		rs->sr_err = LDAP_SUCCESS;
		return LDAP_SUCCESS;	/* slapd sets the bound DN and sends the result */
	}

	{
		unsigned long failures = dpw_failures_bump( di->failures, (uint64_t)device_id );
		char id[DPW_ID_MAX + 1];
		memcpy( id, device_ndn.bv_val + devicepw_rdn_prefix.bv_len, id_len );
		id[id_len] = '\0';
		Debug( LDAP_DEBUG_STATS, "%s devicepw BIND mailbox=\"%s\" device=%s outcome=%s "
			"failures=%lu\n", op->o_log_prefix, op->o_req_dn.bv_val, id,
			devicepw_outcome_names[outcome], failures );
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
devicepw_op_extended( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	struct berval id = BER_BVNULL, oldpw = BER_BVNULL, newpw = BER_BVNULL;
	struct berval devid, mailbox;
	const char *text = NULL;
	char secret[DPW_DISPLAY_MAX];
	devicepw_actor actor;
	int owned;
	ID device_id;
	char stored[DPW_STORED_MAX];
	Entry *e = NULL;
	Modifications *m;
	struct berval *rsp;
	struct berval secret_bv;
	int revoked, rc;
	SlapReply rs2 = { REP_RESULT };

	if ( ber_bvcmp( &slap_EXOP_MODIFY_PASSWD, &op->ore_reqoid ) != 0 ||
			BER_BVISNULL( &devicepw_rdn_prefix ) || BER_BVISEMPTY( &op->o_req_ndn ) ) {
		return SLAP_CB_CONTINUE;
	}
	if ( devicepw_dn_place( &op->o_req_ndn, &mailbox ) == DPW_DN_PLAIN ) {
		return SLAP_CB_CONTINUE;	/* not a device: stock Password Modify */
	}
	/* Who asks is decided from the mailbox first, so that the answer to someone
	 * who may not manage its devices says nothing about which devices exist. */
	actor = devicepw_actor_for( op, on, di, &mailbox, NULL );
	if ( actor != DPW_ACTOR_ADMIN && actor != DPW_ACTOR_USER ) {
		Debug( LDAP_DEBUG_STATS, "%s devicepw PASSMOD device=\"%s\" by=\"%s\" outcome=refused\n",
			op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val );
		return devicepw_passmod_result( op, rs, LDAP_INSUFFICIENT_ACCESS,
			devicepw_text_not_allowed );
	}
	if ( devicepw_entry_get( op, on, &op->o_req_ndn, oc_devicepwDevice, &e ) != LDAP_SUCCESS
			|| !e ) {
		return SLAP_CB_CONTINUE;	/* no such device: slapd answers as for any entry */
	}
	revoked = devicepw_attr_is_true( e, ad_devicepwRevoked );
	owned = devicepw_entry_has_dn( e, ad_devicepwOwner, &op->o_ndn );
	device_id = e->e_id;
	devicepw_entry_release( op, on, e );

	if ( actor != DPW_ACTOR_ADMIN && !owned ) {
		Debug( LDAP_DEBUG_STATS, "%s devicepw PASSMOD device=\"%s\" by=\"%s\" outcome=refused\n",
			op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val );
		return devicepw_passmod_result( op, rs, LDAP_INSUFFICIENT_ACCESS,
			devicepw_text_not_owner );
	}
	/* passwd_extop has already replaced a missing new password by one of its own;
	 * only the request itself says whether the client supplied one. */
	if ( slap_passwd_parse( op->ore_reqdata, &id, &oldpw, &newpw, &text ) != LDAP_SUCCESS ) {
		return devicepw_passmod_result( op, rs, LDAP_PROTOCOL_ERROR, text );
	}
	if ( !BER_BVISEMPTY( &newpw ) ) {
		return devicepw_passmod_result( op, rs, LDAP_UNWILLING_TO_PERFORM,
			"device secrets are generated by the server: "
			"run ldappasswd on the device entry without a new password" );
	}
	if ( revoked ) {
		return devicepw_passmod_result( op, rs, LDAP_UNWILLING_TO_PERFORM,
			"device is revoked, and revocation is final: add a new device" );
	}
	if ( !devicepw_ndn_device_id( &op->o_req_ndn, &devid ) || !di->ring ) {
		return devicepw_passmod_result( op, rs, LDAP_OTHER, "device entry has no valid devicepwId" );
	}

	if ( dpw_secret_generate( devid.bv_val, devid.bv_len, secret ) != DPW_OK ||
			dpw_stored_from_secret( di->ring, secret, strlen( secret ), stored ) != DPW_OK ) {
		explicit_bzero( secret, sizeof(secret) );
		return devicepw_passmod_result( op, rs, LDAP_OTHER, "could not generate a device secret" );
	}
	m = devicepw_mod_replace( ad_devicepwSecret, stored, strlen( stored ) );
	rc = devicepw_internal_modify( op, on, &op->o_req_dn, &op->o_req_ndn, m, &rs2 );
	slap_mods_free( m, 1 );
	if ( rc != LDAP_SUCCESS ) {
		explicit_bzero( secret, sizeof(secret) );
		Debug( LDAP_DEBUG_ANY, "%s devicepw PASSMOD device=\"%s\": storing the hash failed (%d)\n",
			op->o_log_prefix, op->o_req_dn.bv_val, rc );
		return devicepw_passmod_result( op, rs, rc, "could not store the device secret" );
	}
	dpw_failures_reset( di->failures, (uint64_t)device_id );
	Debug( LDAP_DEBUG_STATS, "%s devicepw PASSMOD device=\"%s\" by=\"%s\" outcome=secret-generated\n",
		op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val );

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

/* ---- add: device rules -------------------------------------------------------- */

/* Common checks of values written by a client to device attributes: secrets are
 * set by Password Modify, server-maintained attributes by the server, labels
 * must be readable text. Returns an LDAP result code and sets *text. */
static int
devicepw_check_values( Operation *op, AttributeDescription *ad, BerVarray vals,
	const char **text )
{
	int i;
	if ( ad == ad_devicepwSecret ) {
		if ( !devicepw_is_privileged( op ) ) {
			*text = "devicepwSecret is set by the server: generate or rotate a device "
				"secret with ldappasswd (Password Modify) on the device entry";
			return LDAP_UNWILLING_TO_PERFORM;
		}
		for ( i = 0; vals && !BER_BVISNULL( &vals[i] ); i++ ) {
			if ( !dpw_stored_valid( vals[i].bv_val, vals[i].bv_len ) ) {
				*text = "devicepwSecret must be a stored hash (dpw1$<keyid>$<64 hex>); "
					"generate secrets with ldappasswd";
				return LDAP_INVALID_SYNTAX;
			}
		}
	} else if ( ad == ad_devicepwLastUsed || ad == ad_devicepwRevokedAt ) {
		if ( !devicepw_is_privileged( op ) ) {
			*text = ad == ad_devicepwLastUsed
				? "devicepwLastUsed is maintained by the server"
				: "devicepwRevokedAt is maintained by the server: set devicepwRevoked: TRUE";
			return LDAP_UNWILLING_TO_PERFORM;
		}
	} else if ( ad == ad_devicepwLabel ) {
		for ( i = 0; vals && !BER_BVISNULL( &vals[i] ); i++ ) {
			const char *problem = dpw_label_problem( vals[i].bv_val, vals[i].bv_len );
			if ( problem ) {
				*text = problem;
				return LDAP_CONSTRAINT_VIOLATION;
			}
		}
	}
	return LDAP_SUCCESS;
}

static int
devicepw_refuse( Operation *op, SlapReply *rs, int err, const char *text, const char *what )
{
	Debug( LDAP_DEBUG_STATS, "%s devicepw %s dn=\"%s\" by=\"%s\" refused: %s\n",
		op->o_log_prefix, what, op->o_req_dn.bv_val, op->o_dn.bv_val, text );
	send_ldap_error( op, rs, err, text );
	return rs->sr_err;
}

static int
devicepw_op_add( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	Entry *e = op->ora_e;
	Attribute *a;
	struct berval pndn, devid;
	const char *text = NULL;
	int rc, count = 0, is_mailbox = 0, place;
	devicepw_actor actor;

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;

	place = devicepw_dn_place( &op->o_req_ndn, &pndn );
	if ( place == DPW_DN_PLAIN ) {
		if ( is_entry_objectclass( e, oc_devicepwDevice, 0 ) ) {
			return devicepw_refuse( op, rs, LDAP_NAMING_VIOLATION,
				"a device entry is named devicepwId=<id>,<mailbox DN> where <id> is "
				"1-16 characters from a-z and 0-9", "ADD" );
		}
		/* A mailbox's users are managed by administrators. */
		if ( attr_find( e->e_attrs, ad_devicepwUser ) && !devicepw_is_admin( op, di ) ) {
			return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
				"only administrators change the users of a mailbox", "ADD" );
		}
		return SLAP_CB_CONTINUE;
	}

	/* Decided from the mailbox first: nothing about its devices leaks to others. */
	actor = devicepw_actor_for( op, on, di, &pndn, &is_mailbox );
	if ( actor != DPW_ACTOR_ADMIN && actor != DPW_ACTOR_USER ) {
		return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
			devicepw_text_not_allowed, "ADD" );
	}
	if ( place == DPW_DN_BELOW_DEVICE ) {
		if ( be_isupdate( op ) ) return SLAP_CB_CONTINUE;
		return devicepw_refuse( op, rs, LDAP_NAMING_VIOLATION,
			"devices have no child entries", "ADD" );
	}
	if ( !is_entry_objectclass( e, oc_devicepwDevice, 0 ) ) {
		return devicepw_refuse( op, rs, LDAP_NAMING_VIOLATION,
			"an entry named devicepwId=... must be a device (objectClass devicepwDevice)",
			"ADD" );
	}
	if ( ( a = attr_find( e->e_attrs, slap_schema.si_ad_objectClass ) ) != NULL ) {
		unsigned i;
		for ( i = 0; i < a->a_numvals; i++ ) {
			ObjectClass *oc = oc_bvfind( &a->a_nvals[i] );
			if ( oc != oc_devicepwDevice && oc != slap_schema.si_oc_top ) {
				/* What a device may hold is what the overlay hides and checks. */
				return devicepw_refuse( op, rs, LDAP_OBJECT_CLASS_VIOLATION,
					"a device entry has objectClass devicepwDevice only", "ADD" );
			}
		}
	}
	if ( !devicepw_ndn_device_id( &op->o_req_ndn, &devid ) ||
			( a = attr_find( e->e_attrs, ad_devicepwId ) ) == NULL || a->a_numvals != 1 ||
			!dpw_id_valid( a->a_vals[0].bv_val, a->a_vals[0].bv_len ) ) {
		return devicepw_refuse( op, rs, LDAP_NAMING_VIOLATION,
			"a device entry is named devicepwId=<id>,<mailbox DN> where <id> is "
			"1-16 characters from a-z and 0-9", "ADD" );
	}
	for ( a = e->e_attrs; a; a = a->a_next ) {
		rc = devicepw_check_values( op, a->a_desc, a->a_vals, &text );
		if ( rc != LDAP_SUCCESS ) return devicepw_refuse( op, rs, rc, text, "ADD" );
	}
	if ( !is_mailbox ) {
		return devicepw_refuse( op, rs, LDAP_NAMING_VIOLATION,
			"a device must be added directly under a mailbox entry "
			"(objectClass devicepwMailbox)", "ADD" );
	}
	rc = devicepw_count_devices( op, on, &pndn, &count );
	if ( rc != LDAP_SUCCESS ) {
		return devicepw_refuse( op, rs, LDAP_OTHER, "could not count the mailbox's devices", "ADD" );
	}
	if ( count >= di->max_devices ) {
		return devicepw_refuse( op, rs, LDAP_ADMINLIMIT_EXCEEDED,
			"this mailbox has the maximum number of devices (devicepw-max-devices, "
			"revoked devices included): delete a revoked device first", "ADD" );
	}

	/* The owner: a person adding a device owns it, whatever they sent; an
	 * administrator may name any owner and owns it by default. */
	if ( actor == DPW_ACTOR_USER ) {
		attr_delete( &e->e_attrs, ad_devicepwOwner );
		attr_merge_one( e, ad_devicepwOwner, &op->o_dn, &op->o_ndn );
	} else if ( !attr_find( e->e_attrs, ad_devicepwOwner ) && !BER_BVISEMPTY( &op->o_ndn ) &&
			!be_isroot( op ) ) {
		attr_merge_one( e, ad_devicepwOwner, &op->o_dn, &op->o_ndn );
	}
	if ( devicepw_attr_is_true( e, ad_devicepwRevoked ) &&
			!attr_find( e->e_attrs, ad_devicepwRevokedAt ) ) {
		char now[16];
		struct berval bv;
		dpw_gentime_format( (int64_t)op->o_time, now );
		ber_str2bv( now, 15, 0, &bv );
		attr_merge_one( e, ad_devicepwRevokedAt, &bv, &bv );
	}
	Debug( LDAP_DEBUG_STATS, "%s devicepw ADD device=\"%s\" by=\"%s\" as=%s\n",
		op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val,
		actor == DPW_ACTOR_USER ? "user" : "admin" );
	return SLAP_CB_CONTINUE;
}

/* ---- modify: revocation is final, server-maintained attributes ----------------- */

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

/* The people a sequence of devicepwUser modifications removes from a mailbox whose
 * users are now `current` (normalised). Returns a ch_malloc'd array, or NULL. */
static BerVarray
devicepw_users_removed( Modifications *modlist, Attribute *current, BerVarray *added )
{
	BerVarray now = NULL, removed = NULL;
	Modifications *ml;
	unsigned i;
	int j, k;

	if ( current ) {
		for ( i = 0; i < current->a_numvals; i++ ) value_add_one( &now, &current->a_nvals[i] );
	}
	for ( ml = modlist; ml; ml = ml->sml_next ) {
		BerVarray v;
		if ( ml->sml_desc != ad_devicepwUser ) continue;
		v = ml->sml_nvalues ? ml->sml_nvalues : ml->sml_values;
		switch ( ml->sml_op & LDAP_MOD_OP ) {
		case LDAP_MOD_REPLACE:
			ber_bvarray_free( now );
			now = NULL;
			/* fallthrough */
		case LDAP_MOD_ADD:
		case SLAP_MOD_SOFTADD:
			for ( j = 0; v && !BER_BVISNULL( &v[j] ); j++ ) value_add_one( &now, &v[j] );
			break;
		case LDAP_MOD_DELETE:
		case SLAP_MOD_SOFTDEL:
			if ( !v ) {
				ber_bvarray_free( now );
				now = NULL;
				break;
			}
			for ( j = 0; v && !BER_BVISNULL( &v[j] ); j++ ) {
				for ( k = 0; now && !BER_BVISNULL( &now[k] ); k++ ) {
					if ( dn_match( &now[k], &v[j] ) ) {
						ch_free( now[k].bv_val );
						for ( ; !BER_BVISNULL( &now[k] ); k++ ) now[k] = now[k + 1];
						break;
					}
				}
			}
			break;
		}
	}
	/* removed = current - now; added = now - current */
	if ( current ) {
		for ( i = 0; i < current->a_numvals; i++ ) {
			int kept = 0;
			for ( k = 0; now && !BER_BVISNULL( &now[k] ); k++ ) {
				if ( dn_match( &now[k], &current->a_nvals[i] ) ) { kept = 1; break; }
			}
			if ( !kept ) value_add_one( &removed, &current->a_nvals[i] );
		}
	}
	if ( added ) {
		*added = NULL;
		for ( k = 0; now && !BER_BVISNULL( &now[k] ); k++ ) {
			int was = 0;
			for ( i = 0; current && i < current->a_numvals; i++ ) {
				if ( dn_match( &now[k], &current->a_nvals[i] ) ) { was = 1; break; }
			}
			if ( !was ) value_add_one( added, &now[k] );
		}
	}
	ber_bvarray_free( now );
	return removed;
}

/* Log a list of DNs as "a; b; c" (bounded). */
static void
devicepw_join( BerVarray dns, char *buf, size_t len )
{
	size_t used = 0;
	int i;
	buf[0] = '\0';
	for ( i = 0; dns && !BER_BVISNULL( &dns[i] ) && used + 1 < len; i++ ) {
		int n = snprintf( buf + used, len - used, "%s%s", i ? "; " : "", dns[i].bv_val );
		if ( n < 0 ) break;
		used += (size_t)n;
	}
}

static int
devicepw_op_modify( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	Modifications *ml, **tail;
	Entry *e = NULL;
	const char *text = NULL;
	int rc, is_device = 0, is_mailbox = 0, revoked = 0, owned = 0;
	int touches_revoked = 0, drops_mailbox = 0, sets_revoked_at = 0, revoking = 0;
	int touches_users = 0, touches_owner = 0, touches_other = 0;
	BerVarray removed = NULL, added = NULL;
	devicepw_actor actor = DPW_ACTOR_NONE;
	struct berval mailbox = BER_BVNULL;
	int internal, place;

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;

	internal = devicepw_op_is_internal( op );
	place = devicepw_dn_place( &op->o_req_ndn, &mailbox );
	if ( place != DPW_DN_PLAIN ) {
		/* Decided from the mailbox first: nothing about its devices leaks to others. */
		actor = devicepw_actor_for( op, on, di, &mailbox, NULL );
		if ( actor != DPW_ACTOR_ADMIN && actor != DPW_ACTOR_USER ) {
			return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
				devicepw_text_not_allowed, "MODIFY" );
		}
	}

	for ( ml = op->orm_modlist; ml; ml = ml->sml_next ) {
		AttributeDescription *ad = ml->sml_desc;
		if ( ad == ad_devicepwRevoked ) touches_revoked = 1;
		else if ( ad == ad_devicepwRevokedAt ) sets_revoked_at = 1;
		else if ( ad == ad_devicepwUser ) touches_users = 1;
		else if ( ad == ad_devicepwOwner ) touches_owner = 1;
		else if ( ad != ad_devicepwLabel && ad != ad_devicepwExpires &&
				ad != slap_schema.si_ad_description &&
				!( ml->sml_flags & SLAP_MOD_INTERNAL ) ) {
			touches_other = 1;
		}
		if ( devicepw_mod_drops_mailbox( ml ) ) drops_mailbox = 1;
		rc = devicepw_check_values( op, ad, ml->sml_values, &text );
		if ( rc != LDAP_SUCCESS ) return devicepw_refuse( op, rs, rc, text, "MODIFY" );
	}

	if ( place == DPW_DN_DEVICE && !be_isupdate( op ) ) {
		for ( ml = op->orm_modlist; ml; ml = ml->sml_next ) {
			if ( ml->sml_desc == slap_schema.si_ad_objectClass ) {
				return devicepw_refuse( op, rs, LDAP_UNWILLING_TO_PERFORM,
					"a device entry has objectClass devicepwDevice only", "MODIFY" );
			}
		}
	}

	/* The overlay's own writes and the rootdn's restores need nothing more. */
	if ( devicepw_is_privileged( op ) && !touches_revoked && !drops_mailbox && !touches_users ) {
		return SLAP_CB_CONTINUE;
	}

	if ( devicepw_entry_get( op, on, &op->o_req_ndn, NULL, &e ) != LDAP_SUCCESS || !e ) {
		return SLAP_CB_CONTINUE;	/* the backend reports noSuchObject */
	}
	is_device = is_entry_objectclass( e, oc_devicepwDevice, 0 );
	is_mailbox = is_entry_objectclass( e, oc_devicepwMailbox, 0 );
	revoked = is_device && devicepw_attr_is_true( e, ad_devicepwRevoked );
	owned = is_device && devicepw_entry_has_dn( e, ad_devicepwOwner, &op->o_ndn );
	if ( is_mailbox && touches_users ) {
		removed = devicepw_users_removed( op->orm_modlist,
			attr_find( e->e_attrs, ad_devicepwUser ), &added );
	}
	devicepw_entry_release( op, on, e );

	if ( is_device ) {
		if ( place != DPW_DN_DEVICE ) actor = DPW_ACTOR_NONE;	/* cannot happen */
		if ( actor == DPW_ACTOR_USER ) {
			/* People change the label, expiry and revocation of their own devices. */
			if ( !owned ) {
				return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
					devicepw_text_not_owner, "MODIFY" );
			}
			if ( touches_owner || touches_other || touches_users ) {
				return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
					"people may change only devicepwLabel, devicepwExpires and "
					"devicepwRevoked of their own devices", "MODIFY" );
			}
		} else if ( actor != DPW_ACTOR_ADMIN ) {
			return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
				devicepw_text_not_allowed, "MODIFY" );
		}
	} else if ( touches_users && !devicepw_is_admin( op, di ) ) {
		ber_bvarray_free( removed );
		ber_bvarray_free( added );
		return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
			"only administrators change the users of a mailbox", "MODIFY" );
	}

	if ( is_mailbox && drops_mailbox ) {
		int count = 0;
		rc = devicepw_count_devices( op, on, &op->o_req_ndn, &count );
		if ( rc != LDAP_SUCCESS || count > 0 ) {
			ber_bvarray_free( removed );
			ber_bvarray_free( added );
			return devicepw_refuse( op, rs, LDAP_NOT_ALLOWED_ON_NONLEAF,
				"this mailbox still has devices: delete them before removing "
				"objectClass devicepwMailbox", "MODIFY" );
		}
	}
	if ( is_device && touches_revoked ) {
		for ( ml = op->orm_modlist; ml; ml = ml->sml_next ) {
			int op_kind = ml->sml_op & LDAP_MOD_OP;
			/* booleanMatch has no normaliser: values may have no nvalues. */
			BerVarray v = ml->sml_nvalues ? ml->sml_nvalues : ml->sml_values;
			int sets_true;
			if ( ml->sml_desc != ad_devicepwRevoked ) continue;
			sets_true = ( op_kind == LDAP_MOD_ADD || op_kind == LDAP_MOD_REPLACE ) &&
				v && !BER_BVISNULL( &v[0] ) && bvmatch( &v[0], &bv_true );
			if ( !sets_true && revoked ) {
				return devicepw_refuse( op, rs, LDAP_CONSTRAINT_VIOLATION,
					"revocation is final: a revoked device never authenticates again; "
					"add a new device instead", "MODIFY" );
			}
			if ( sets_true && !revoked ) revoking = 1;
		}
	}
	if ( revoking && !sets_revoked_at ) {
		char now[16];
		dpw_gentime_format( (int64_t)op->o_time, now );
		for ( tail = &op->orm_modlist; *tail; tail = &(*tail)->sml_next )
			;
		*tail = devicepw_mod_replace( ad_devicepwRevokedAt, now, 15 );
	}
	if ( revoking && !internal ) {
		/* (the overlay's own revocations are logged by the code that makes them) */
		Debug( LDAP_DEBUG_STATS, "%s devicepw REVOKE device=\"%s\" by=\"%s\"\n",
			op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val );
	}
	if ( internal ) {
		/* Taking a deleted person off a mailbox: the delete revokes their devices
		 * and logs it, as the person who deleted. */
		ber_bvarray_free( removed );
		ber_bvarray_free( added );
		return SLAP_CB_CONTINUE;
	}
	if ( removed || added ) {
		char rbuf[512], abuf[512];
		devicepw_join( removed, rbuf, sizeof(rbuf) );
		devicepw_join( added, abuf, sizeof(abuf) );
		Debug( LDAP_DEBUG_STATS, "%s devicepw USERS mailbox=\"%s\" added=\"%s\" removed=\"%s\" "
			"by=\"%s\"\n", op->o_log_prefix, op->o_req_dn.bv_val, abuf, rbuf, op->o_dn.bv_val );
		ber_bvarray_free( added );
	}
	if ( removed ) {
		/* Their devices on this mailbox are revoked once the modify has succeeded. */
		devicepw_push_post( op, on, devicepw_modify_result, removed );
	}
	return SLAP_CB_CONTINUE;
}

/* ---- modrdn and delete -------------------------------------------------------- */

static int
devicepw_op_modrdn( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	Entry *e = NULL;

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;
	if ( devicepw_entry_get( op, on, &op->o_req_ndn, oc_devicepwDevice, &e ) == LDAP_SUCCESS
			&& e ) {
		devicepw_entry_release( op, on, e );
		return devicepw_refuse( op, rs, LDAP_UNWILLING_TO_PERFORM,
			"devices cannot be renamed or moved: their secret names them "
			"(change devicepwLabel instead)", "MODRDN" );
	}
	return SLAP_CB_CONTINUE;
}

/* Deleting a device is for administrators (people revoke theirs: the record stays).
 * Deleting any other entry, once it succeeds, takes that DN off every mailbox's
 * users and revokes the devices it owned. */
static int
devicepw_op_delete( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	Entry *e = NULL;
	struct berval mailbox;
	int is_device = 0, exists = 0;

	if ( BER_BVISNULL( &devicepw_rdn_prefix ) ) return SLAP_CB_CONTINUE;
	if ( devicepw_dn_place( &op->o_req_ndn, &mailbox ) != DPW_DN_PLAIN &&
			!devicepw_is_admin( op, di ) ) {
		/* The same answer whether or not the device exists. */
		return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
			"only administrators delete devices; revoke it instead "
			"(devicepwRevoked: TRUE)", "DELETE" );
	}
	if ( devicepw_entry_get( op, on, &op->o_req_ndn, NULL, &e ) == LDAP_SUCCESS && e ) {
		exists = 1;
		is_device = is_entry_objectclass( e, oc_devicepwDevice, 0 );
		devicepw_entry_release( op, on, e );
	}
	if ( is_device ) {
		if ( !devicepw_is_admin( op, di ) ) {
			return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
				"only administrators delete devices; revoke it instead "
				"(devicepwRevoked: TRUE)", "DELETE" );
		}
		Debug( LDAP_DEBUG_STATS, "%s devicepw DELETE device=\"%s\" by=\"%s\"\n",
			op->o_log_prefix, op->o_req_dn.bv_val, op->o_dn.bv_val );
		return SLAP_CB_CONTINUE;
	}
	if ( exists ) devicepw_push_post( op, on, devicepw_delete_result, NULL );
	return SLAP_CB_CONTINUE;
}

/* ---- search and compare: devices are the business of their mailbox's people ---- */

/* The rootdn, replication and the configured secret readers may see stored hashes. */
static int
devicepw_may_read_secret( Operation *op, devicepw_info *di )
{
	return be_isroot( op ) || be_isupdate( op ) ||
		devicepw_dn_in( di->nreaders, &op->o_ndn );
}

/* Make every filter component on devicepwSecret Undefined, so that nobody can
 * probe stored hashes through a filter (not even presence). The filter lives in
 * op->o_tmpmemctx, so the components dropped here are reclaimed with the op. */
static void
devicepw_filter_hide_secret( Filter *f )
{
	for ( ; f; f = f->f_next ) {
		AttributeDescription *ad = NULL;
		switch ( f->f_choice ) {
		case LDAP_FILTER_AND:
		case LDAP_FILTER_OR:
		case LDAP_FILTER_NOT:
			devicepw_filter_hide_secret( f->f_list );
			continue;
		case LDAP_FILTER_PRESENT:
			ad = f->f_desc;
			break;
		case LDAP_FILTER_EQUALITY:
		case LDAP_FILTER_GE:
		case LDAP_FILTER_LE:
		case LDAP_FILTER_APPROX:
			ad = f->f_ava ? f->f_ava->aa_desc : NULL;
			break;
		case LDAP_FILTER_SUBSTRINGS:
			ad = f->f_sub ? f->f_sub->sa_desc : NULL;
			break;
		case LDAP_FILTER_EXT:
			ad = f->f_mra ? f->f_mra->ma_desc : NULL;
			break;
		}
		if ( ad == ad_devicepwSecret ) {
			f->f_choice = SLAPD_FILTER_COMPUTED;
			f->f_result = SLAPD_COMPARE_UNDEFINED;
		}
	}
}

/* Whether the requester may read the mailbox at mailbox_ndn and its devices:
 * administrators, its users, and the mailbox itself. */
static int
devicepw_may_read_mailbox( Operation *op, slap_overinst *on, devicepw_info *di,
	struct berval *mailbox_ndn )
{
	devicepw_actor a = devicepw_actor_for( op, on, di, mailbox_ndn, NULL );
	return a != DPW_ACTOR_NONE;
}

/* A direct read: the base is a mailbox, a device, or below a device. Sets *direct.
 * Someone who is not one of the mailbox's people gets 50, decided from the mailbox
 * alone, so that the answer says nothing about which devices exist.
 * Returns LDAP_SUCCESS when the read may go on. */
static int
devicepw_check_direct_read( Operation *op, slap_overinst *on, devicepw_info *di, int *direct )
{
	struct berval mailbox;
	devicepw_actor actor;
	int is_mailbox = 0;

	*direct = 0;
	if ( devicepw_dn_place( &op->o_req_ndn, &mailbox ) != DPW_DN_PLAIN ) {
		*direct = 1;
		return devicepw_may_read_mailbox( op, on, di, &mailbox )
			? LDAP_SUCCESS : LDAP_INSUFFICIENT_ACCESS;
	}
	/* One read of the base tells both whether it is a mailbox and who asks. */
	actor = devicepw_actor_for( op, on, di, &op->o_req_ndn, &is_mailbox );
	if ( !is_mailbox ) return LDAP_SUCCESS;
	*direct = 1;
	return actor != DPW_ACTOR_NONE ? LDAP_SUCCESS : LDAP_INSUFFICIENT_ACCESS;
}

/* Filter components on hasSubordinates become Undefined in broad searches: whether
 * a mailbox has children is whether it has devices. */
static void
devicepw_filter_hide_subordinates( Filter *f )
{
	for ( ; f; f = f->f_next ) {
		switch ( f->f_choice ) {
		case LDAP_FILTER_AND:
		case LDAP_FILTER_OR:
		case LDAP_FILTER_NOT:
			devicepw_filter_hide_subordinates( f->f_list );
			break;
		case LDAP_FILTER_PRESENT:
			if ( f->f_desc == slap_schema.si_ad_hasSubordinates ) {
				f->f_choice = SLAPD_FILTER_COMPUTED;
				f->f_result = SLAPD_COMPARE_UNDEFINED;
			}
			break;
		case LDAP_FILTER_EQUALITY:
		case LDAP_FILTER_GE:
		case LDAP_FILTER_LE:
		case LDAP_FILTER_APPROX:
			if ( f->f_ava && f->f_ava->aa_desc == slap_schema.si_ad_hasSubordinates ) {
				f->f_choice = SLAPD_FILTER_COMPUTED;
				f->f_result = SLAPD_COMPARE_UNDEFINED;
			}
			break;
		}
	}
}

/* Per-search state for broad searches: the mailboxes whose devices the requester
 * may see (normalised DNs, ch_malloc'd). */
typedef struct devicepw_search_state {
	slap_overinst *on;
	int have_readable;	/* readable computed (lazily, when first needed) */
	BerVarray readable;
} devicepw_search_state;

/* The mailboxes whose devices the requester may see: their own DN (a mailbox reads
 * its own devices) and the mailboxes that list them in devicepwUser. */
static BerVarray
devicepw_readable_mailboxes( Operation *op, slap_overinst *on )
{
	BerVarray readable = NULL;
	if ( !BER_BVISEMPTY( &op->o_ndn ) ) {
		value_add_one( &readable, &op->o_ndn );
		devicepw_find_mailboxes_of( op, on, &op->o_ndn, &readable );
	}
	return readable;
}

/* Whether an entry of class devicepwDevice (which has no other class: see the add
 * and modify handlers) could match the filter. Conservative: 1 unless the filter
 * plainly needs an attribute or class a device cannot have, as the lookups of mail
 * services do ("(mail=...)", "(objectClass=inetOrgPerson)"), so that those searches
 * pay for none of the device hiding. */
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

/* In a broad search the filter already keeps devices out; a mailbox's
 * hasSubordinates would still tell whether it has devices: drop it for people who
 * are not the mailbox's. */
static int
devicepw_search_response( Operation *op, SlapReply *rs )
{
	devicepw_search_state *st = op->o_callback->sc_private;

	if ( rs->sr_type != REP_SEARCH || !rs->sr_entry || !rs->sr_operational_attrs ||
			!attr_find( rs->sr_operational_attrs, slap_schema.si_ad_hasSubordinates ) ||
			!is_entry_objectclass( rs->sr_entry, oc_devicepwMailbox, 0 ) ) {
		return SLAP_CB_CONTINUE;
	}
	if ( !st->have_readable ) {
		BackendInfo *bi = op->o_bd->bd_info;
		st->readable = devicepw_readable_mailboxes( op, st->on );
		st->have_readable = 1;
		op->o_bd->bd_info = bi;
	}
	if ( devicepw_dn_in( st->readable, &rs->sr_entry->e_nname ) ) return SLAP_CB_CONTINUE;
	/* Whether a mailbox has children is whether it has devices. */
	attr_delete( &rs->sr_operational_attrs, slap_schema.si_ad_hasSubordinates );
	return SLAP_CB_CONTINUE;
}

static int
devicepw_search_cleanup( Operation *op, SlapReply *rs )
{
	slap_callback *sc = op->o_callback;
	devicepw_search_state *st = sc->sc_private;
	if ( rs->sr_type == REP_RESULT || op->o_abandon || rs->sr_err == SLAPD_ABANDON ) {
		op->o_callback = sc->sc_next;
		ber_bvarray_free( st->readable );
		op->o_tmpfree( sc, op->o_tmpmemctx );
	}
	return SLAP_CB_CONTINUE;
}

/* The filter clause that keeps devices of other people's mailboxes out of a broad
 * search: (|(!(objectClass=devicepwDevice))(entryDN:dnOneLevelMatch:=<mailbox>)...)
 * with one entryDN clause per readable mailbox. In op->o_tmpmemctx. */
static Filter *
devicepw_devices_clause( Operation *op, BerVarray readable )
{
	static const char head[] = "(|(!(objectClass=devicepwDevice))";
	static const char item[] = "(entryDN:dnOneLevelMatch:=";
	struct berval *esc;
	size_t len = sizeof(head) + 1, used;
	char *str;
	Filter *f;
	int i, n;

	for ( n = 0; readable && !BER_BVISNULL( &readable[n] ); n++ )
		;
	esc = op->o_tmpcalloc( n + 1, sizeof(struct berval), op->o_tmpmemctx );
	for ( i = 0; i < n; i++ ) {
		ldap_bv2escaped_filter_value_x( &readable[i], &esc[i], 0, op->o_tmpmemctx );
		len += sizeof(item) + esc[i].bv_len + 1;
	}
	str = op->o_tmpalloc( len, op->o_tmpmemctx );
	used = 0;
	memcpy( str, head, sizeof(head) - 1 );
	used = sizeof(head) - 1;
	for ( i = 0; i < n; i++ ) {
		memcpy( str + used, item, sizeof(item) - 1 );
		used += sizeof(item) - 1;
		memcpy( str + used, esc[i].bv_val, esc[i].bv_len );
		used += esc[i].bv_len;
		str[used++] = ')';
		op->o_tmpfree( esc[i].bv_val, op->o_tmpmemctx );
	}
	str[used++] = ')';
	str[used] = '\0';
	op->o_tmpfree( esc, op->o_tmpmemctx );
	f = str2filter_x( op, str );
	op->o_tmpfree( str, op->o_tmpmemctx );
	return f;
}

static int
devicepw_op_search( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	slap_callback *sc;
	devicepw_search_state *st;
	Filter *clause, *and;
	int rc, direct = 0;

	if ( !ad_devicepwSecret || devicepw_may_read_secret( op, di ) ) return SLAP_CB_CONTINUE;
	if ( op->ors_filter ) devicepw_filter_hide_secret( op->ors_filter );
	if ( devicepw_is_admin( op, di ) ) return SLAP_CB_CONTINUE;

	/* A direct read (based at a device or at a mailbox): the mailbox's people only. */
	rc = devicepw_check_direct_read( op, on, di, &direct );
	if ( rc != LDAP_SUCCESS ) {
		return devicepw_refuse( op, rs, rc,
			"only the people of a mailbox may read it and its devices", "SEARCH" );
	}
	if ( direct || !op->ors_filter ) return SLAP_CB_CONTINUE;

	/* A broad search (an address lookup, a person listing their mailboxes): devices
	 * of mailboxes the requester is not one of the people of are never candidates,
	 * so that neither entries, size limits nor hasSubordinates tell which mailbox has
	 * which devices. A filter no device can match needs no clause. */
	devicepw_filter_hide_subordinates( op->ors_filter );
	sc = op->o_tmpcalloc( 1, sizeof(slap_callback) + sizeof(devicepw_search_state),
		op->o_tmpmemctx );
	st = (devicepw_search_state *)( sc + 1 );
	st->on = on;
	if ( devicepw_filter_may_match_device( op->ors_filter ) ) {
		st->readable = devicepw_readable_mailboxes( op, on );
		st->have_readable = 1;
		clause = devicepw_devices_clause( op, st->readable );
		if ( !clause ) {
			ber_bvarray_free( st->readable );
			op->o_tmpfree( sc, op->o_tmpmemctx );
			return devicepw_refuse( op, rs, LDAP_OTHER, "cannot restrict the search", "SEARCH" );
		}
		and = op->o_tmpcalloc( 1, sizeof(Filter), op->o_tmpmemctx );
		and->f_choice = LDAP_FILTER_AND;
		and->f_and = op->ors_filter;
		op->ors_filter->f_next = clause;
		and->f_next = NULL;
		op->ors_filter = and;
	}
	sc->sc_response = devicepw_search_response;
	sc->sc_cleanup = devicepw_search_cleanup;
	sc->sc_private = st;
	sc->sc_next = op->o_callback;
	op->o_callback = sc;
	return SLAP_CB_CONTINUE;
}

static int
devicepw_op_compare( Operation *op, SlapReply *rs )
{
	slap_overinst *on = (slap_overinst *)op->o_bd->bd_info;
	devicepw_info *di = on->on_bi.bi_private;
	int direct = 0;

	if ( !ad_devicepwSecret || devicepw_may_read_secret( op, di ) ) return SLAP_CB_CONTINUE;
	if ( op->orc_ava && op->orc_ava->aa_desc == ad_devicepwSecret ) {
		return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
			"devicepwSecret cannot be compared", "COMPARE" );
	}
	if ( !devicepw_is_admin( op, di ) &&
			devicepw_check_direct_read( op, on, di, &direct ) != LDAP_SUCCESS ) {
		return devicepw_refuse( op, rs, LDAP_INSUFFICIENT_ACCESS,
			"only the people of a mailbox may read it and its devices", "COMPARE" );
	}
	return SLAP_CB_CONTINUE;
}

/* Every entry this database sends passes here: strip devicepwSecret unless the
 * reader may see it. Cheap when the entry has no secret (one attr_find). */
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

/* ---- configuration ------------------------------------------------------------ */

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
			di->lastused_precision = 300;
			break;
		case DPW_CF_PRIMARY:
			di->primary_password = 1;
			break;
		case DPW_CF_MAXDEV:
			di->max_devices = 100;
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
	di->lastused_precision = 300;
	di->primary_password = 1;
	di->max_devices = 100;
	di->failures = dpw_failures_new();
	if ( !di->failures ) {
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
	return 0;
}

static int
devicepw_db_destroy( BackendDB *be, ConfigReply *cr )
{
	slap_overinst *on = (slap_overinst *)be->bd_info;
	devicepw_info *di = on->on_bi.bi_private;

	if ( di ) {
		ch_free( di->keyfile );
		dpw_keyring_free( di->ring );
		ber_bvarray_free( di->readers );
		ber_bvarray_free( di->nreaders );
		ber_bvarray_free( di->admins );
		ber_bvarray_free( di->nadmins );
		dpw_failures_free( di->failures );
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
