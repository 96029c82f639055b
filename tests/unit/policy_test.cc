// The overlay's rules as tables: who may do what (overlay/core/policy.h). Each row is
// one statement of the README's refusal table or of DESIGN.md; the integration tests
// show the glue applies them through a real slapd.
//
// "May a listed person change devicepwExpires of another person's device?" -> the
// modify table below: PERSON, device not owned, devicepwExpires: 50.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "devicepw_core.h"
#include "policy.h"

namespace {

constexpr dpw_actor kAllActors[] = {
    DPW_ACTOR_ANONYMOUS, DPW_ACTOR_STRANGER, DPW_ACTOR_MAILBOX_PRIMARY, DPW_ACTOR_MAILBOX_DEVICE,
    DPW_ACTOR_MAILBOX_PROXIED, DPW_ACTOR_PERSON, DPW_ACTOR_ADMIN, DPW_ACTOR_ROOT,
    DPW_ACTOR_REPLICATION, DPW_ACTOR_INTERNAL};

const dpw_value kTrue{"TRUE", 4};
const dpw_value kFalse{"FALSE", 5};
const dpw_value kLabel{"Phone", 5};
const dpw_value kBidiLabel{"\xe2\x80\xae" "enohP", 8};
const dpw_value kStored{"dpw1$k1$0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 72};
const dpw_value kNotStored{"{SSHA}abc", 9};
const dpw_value kTime{"20300101000000Z", 15};
const dpw_value kDn{"uid=bob,ou=people,dc=example,dc=com", 35};

dpw_mod mod(dpw_attr_class c, dpw_mod_kind k, const dpw_value *v = nullptr) {
    return dpw_mod{c, k, v, v ? 1u : 0u, 0};
}

dpw_target device(bool owned = true, bool revoked = false) {
    dpw_target t{};
    t.place = DPW_PLACE_DEVICE;
    t.exists = 1;
    t.is_device = 1;
    t.device_owned = owned;
    t.device_revoked = revoked;
    t.primary_allowed = 1;
    return t;
}

dpw_target mailbox(bool has_devices = false, bool primary_allowed = true) {
    dpw_target t{};
    t.place = DPW_PLACE_PLAIN;
    t.exists = 1;
    t.is_mailbox = 1;
    t.mailbox_has_devices = has_devices;
    t.primary_allowed = primary_allowed;
    return t;
}

int modify_code(dpw_actor a, dpw_target t, std::vector<dpw_mod> mods) {
    return dpw_policy_modify(a, &t, mods.data(), mods.size()).decision.code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policy)

// ---- stage 1: who may act on a device DN at all (decided before any read) -----------
BOOST_AUTO_TEST_CASE(gate_on_device_dns) {
    struct Row { dpw_actor actor; int read, add, modify, del, modrdn, passmod; };
    const Row rows[] = {
        //                         READ ADD MODIFY DELETE MODRDN PASSMOD
        {DPW_ACTOR_ANONYMOUS,       50,  50,  50,   50,    50,    50},
        {DPW_ACTOR_STRANGER,        50,  50,  50,   50,    50,    50},
        {DPW_ACTOR_MAILBOX_PRIMARY,  0,  50,  50,   50,    50,    50},
        {DPW_ACTOR_MAILBOX_DEVICE,   0,  50,  50,   50,    50,    50},
        {DPW_ACTOR_MAILBOX_PROXIED,  0,  50,  50,   50,    50,    50},
        {DPW_ACTOR_PERSON,           0,   0,   0,   50,     0,     0},
        {DPW_ACTOR_ADMIN,            0,   0,   0,    0,     0,     0},
        {DPW_ACTOR_ROOT,             0,   0,   0,    0,     0,     0},
        {DPW_ACTOR_REPLICATION,      0,   0,   0,    0,     0,     0},
        {DPW_ACTOR_INTERNAL,         0,   0,   0,    0,     0,     0},
    };
    for (const Row &r : rows) {
        const int want[DPW_OP_COUNT] = {r.read, r.add, r.modify, r.del, r.modrdn, r.passmod};
        for (int op = 0; op < DPW_OP_COUNT; ++op) {
            for (dpw_place place : {DPW_PLACE_DEVICE, DPW_PLACE_BELOW_DEVICE}) {
                int expected = want[op];
                // deleting below a device is not deleting a device: the manage rule applies
                if (op == DPW_OP_DELETE && place == DPW_PLACE_BELOW_DEVICE && r.actor == DPW_ACTOR_PERSON)
                    expected = 0;
                BOOST_TEST(dpw_policy_gate(r.actor, static_cast<dpw_operation>(op), place).code == expected,
                           dpw_actor_name(r.actor) << " " << dpw_operation_name(static_cast<dpw_operation>(op))
                                                   << " place " << place);
            }
            // plain DNs are never refused by the gate
            BOOST_TEST(dpw_policy_gate(r.actor, static_cast<dpw_operation>(op), DPW_PLACE_PLAIN).code == 0);
        }
    }
}

// ---- modify of a device: actor x attribute class ------------------------------------
BOOST_AUTO_TEST_CASE(modify_device_by_attribute_class) {
    struct Row { dpw_actor actor; bool owned; dpw_mod m; int code; const char *why; };
    const Row rows[] = {
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_LABEL, DPW_MOD_REPLACE, &kLabel), 0, "own label"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_PERSON_EDITABLE, DPW_MOD_REPLACE, &kTime), 0, "own expiry"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_REVOKED, DPW_MOD_REPLACE, &kTrue), 0, "revoke own"},
        {DPW_ACTOR_PERSON, false, mod(DPW_ATTR_PERSON_EDITABLE, DPW_MOD_REPLACE, &kTime), 50,
         "another person's device's devicepwExpires"},
        {DPW_ACTOR_PERSON, false, mod(DPW_ATTR_REVOKED, DPW_MOD_REPLACE, &kTrue), 50, "revoke another's"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_OWNER, DPW_MOD_REPLACE, &kDn), 50, "give it away"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_OTHER, DPW_MOD_REPLACE, &kLabel), 50, "foreign attribute"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_SECRET, DPW_MOD_REPLACE, &kStored), 53, "set a hash"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_TELEMETRY, DPW_MOD_REPLACE, &kTime), 53, "set last use"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_SERVER, DPW_MOD_REPLACE, &kTime), 53, "set revocation time"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_LABEL, DPW_MOD_REPLACE, &kBidiLabel), 19, "bidi label"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_OBJECTCLASS, DPW_MOD_ADD, &kLabel), 53, "objectClass"},
        {DPW_ACTOR_PERSON, true, mod(DPW_ATTR_CREDENTIAL, DPW_MOD_ADD, &kLabel), 53, "userPassword on a device"},
        {DPW_ACTOR_ADMIN, false, mod(DPW_ATTR_OWNER, DPW_MOD_REPLACE, &kDn), 0, "admin names an owner"},
        {DPW_ACTOR_ADMIN, false, mod(DPW_ATTR_SECRET, DPW_MOD_REPLACE, &kStored), 53, "admin sets a hash"},
        {DPW_ACTOR_ADMIN, false, mod(DPW_ATTR_TELEMETRY, DPW_MOD_REPLACE, &kTime), 53, "admin sets last use"},
        {DPW_ACTOR_ADMIN, false, mod(DPW_ATTR_SERVER, DPW_MOD_REPLACE, &kTime), 53, "admin sets revocation time"},
        {DPW_ACTOR_ROOT, false, mod(DPW_ATTR_SECRET, DPW_MOD_REPLACE, &kStored), 0, "rootdn restores a hash"},
        {DPW_ACTOR_ROOT, false, mod(DPW_ATTR_SECRET, DPW_MOD_REPLACE, &kNotStored), 21, "rootdn, not a hash"},
        {DPW_ACTOR_ROOT, false, mod(DPW_ATTR_SERVER, DPW_MOD_REPLACE, &kTime), 0, "rootdn restores revocation time"},
        {DPW_ACTOR_ROOT, false, mod(DPW_ATTR_TELEMETRY, DPW_MOD_REPLACE, &kTime), 53, "telemetry: never a client"},
        {DPW_ACTOR_REPLICATION, false, mod(DPW_ATTR_TELEMETRY, DPW_MOD_REPLACE, &kTime), 0, "replication"},
        {DPW_ACTOR_ROOT, false, mod(DPW_ATTR_LABEL, DPW_MOD_REPLACE, &kBidiLabel), 19, "rootdn bidi label"},
        {DPW_ACTOR_MAILBOX_DEVICE, false, mod(DPW_ATTR_LABEL, DPW_MOD_REPLACE, &kLabel), 50, "the mailbox"},
        {DPW_ACTOR_STRANGER, false, mod(DPW_ATTR_LABEL, DPW_MOD_REPLACE, &kLabel), 50, "a stranger"},
        {DPW_ACTOR_REPLICATION, false, mod(DPW_ATTR_SECRET, DPW_MOD_REPLACE, &kStored), 0, "replication"},
        {DPW_ACTOR_REPLICATION, false, mod(DPW_ATTR_OBJECTCLASS, DPW_MOD_ADD, &kLabel), 0, "replication oc"},
    };
    for (const Row &r : rows) BOOST_TEST(modify_code(r.actor, device(r.owned), {r.m}) == r.code, r.why);
}

BOOST_AUTO_TEST_CASE(revocation_is_final_for_clients_and_wins_over_replication) {
    for (dpw_actor a : {DPW_ACTOR_PERSON, DPW_ACTOR_ADMIN, DPW_ACTOR_ROOT}) {
        BOOST_TEST(modify_code(a, device(true, true), {mod(DPW_ATTR_REVOKED, DPW_MOD_REPLACE, &kFalse)}) == 19);
        BOOST_TEST(modify_code(a, device(true, true), {mod(DPW_ATTR_REVOKED, DPW_MOD_DELETE)}) == 19);
        BOOST_TEST(modify_code(a, device(true, true), {mod(DPW_ATTR_REVOKED, DPW_MOD_REPLACE, &kTrue)}) == 0);
        dpw_target t = device(true, false);
        dpw_mod m = mod(DPW_ATTR_REVOKED, DPW_MOD_REPLACE, &kTrue);
        BOOST_TEST(dpw_policy_modify(a, &t, &m, 1).revoking == 1);  // the server stamps the time
    }
    // A replicated un-revocation is merged, never refused: the device stays revoked.
    dpw_target t = device(false, true);
    dpw_mod m = mod(DPW_ATTR_REVOKED, DPW_MOD_REPLACE, &kFalse);
    dpw_modify_outcome o = dpw_policy_modify(DPW_ACTOR_REPLICATION, &t, &m, 1);
    BOOST_TEST(o.decision.code == 0);
    BOOST_TEST(o.drop_unrevoke == 1);
}

// ---- modify of a mailbox: its people and its credentials -----------------------------
BOOST_AUTO_TEST_CASE(modify_mailbox) {
    struct Row { dpw_actor actor; dpw_attr_class cls; bool primary_allowed; int code; };
    const Row rows[] = {
        // devicepwUser: administrators only
        {DPW_ACTOR_PERSON, DPW_ATTR_USERS, true, 50},
        {DPW_ACTOR_MAILBOX_PRIMARY, DPW_ATTR_USERS, true, 50},
        {DPW_ACTOR_MAILBOX_DEVICE, DPW_ATTR_USERS, true, 50},
        {DPW_ACTOR_STRANGER, DPW_ATTR_USERS, true, 50},
        {DPW_ACTOR_ADMIN, DPW_ATTR_USERS, true, 0},
        {DPW_ACTOR_ROOT, DPW_ATTR_USERS, true, 0},
        // credentials (userPassword, authzFrom, ...): a device password never mints one
        {DPW_ACTOR_MAILBOX_DEVICE, DPW_ATTR_CREDENTIAL, true, 50},
        {DPW_ACTOR_MAILBOX_PROXIED, DPW_ATTR_CREDENTIAL, true, 50},
        {DPW_ACTOR_PERSON, DPW_ATTR_CREDENTIAL, true, 50},
        {DPW_ACTOR_STRANGER, DPW_ATTR_CREDENTIAL, true, 50},
        {DPW_ACTOR_MAILBOX_PRIMARY, DPW_ATTR_CREDENTIAL, true, 0},
        {DPW_ACTOR_MAILBOX_PRIMARY, DPW_ATTR_CREDENTIAL, false, 50},
        {DPW_ACTOR_ADMIN, DPW_ATTR_CREDENTIAL, true, 0},
        {DPW_ACTOR_ROOT, DPW_ATTR_CREDENTIAL, false, 0},
        // other attributes are the ACLs' business
        {DPW_ACTOR_MAILBOX_DEVICE, DPW_ATTR_OTHER, true, 0},
        {DPW_ACTOR_STRANGER, DPW_ATTR_OTHER, true, 0},
    };
    for (const Row &r : rows)
        BOOST_TEST(modify_code(r.actor, mailbox(false, r.primary_allowed), {mod(r.cls, DPW_MOD_REPLACE, &kDn)}) == r.code,
                   dpw_actor_name(r.actor) << " " << dpw_attr_class_name(r.cls));
    // removing devicepwMailbox while devices remain
    BOOST_TEST(modify_code(DPW_ACTOR_ROOT, mailbox(true), {mod(DPW_ATTR_OBJECTCLASS, DPW_MOD_DELETE, &kLabel)}) == 66);
    BOOST_TEST(modify_code(DPW_ACTOR_ROOT, mailbox(false), {mod(DPW_ATTR_OBJECTCLASS, DPW_MOD_DELETE, &kLabel)}) == 0);
}

// ---- add ------------------------------------------------------------------------------
BOOST_AUTO_TEST_CASE(add_device) {
    auto facts = [] {
        dpw_add_facts f{};
        f.place = DPW_PLACE_DEVICE;
        f.parent_is_mailbox = 1;
        f.has_device_class = 1;
        f.classes_only_device = 1;
        f.id_ok = 1;
        f.device_count = 0;
        f.max_devices = 3;
        return f;
    };
    auto code = [](dpw_actor a, dpw_add_facts f, std::vector<dpw_mod> attrs = {}) {
        return dpw_policy_add(a, &f, attrs.data(), attrs.size()).decision.code;
    };
    dpw_add_facts f = facts();
    BOOST_TEST(code(DPW_ACTOR_PERSON, f) == 0);
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f) == 0);
    f.has_device_class = 0;
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f) == 64);
    f = facts();
    f.classes_only_device = 0;
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f) == 65);
    f = facts();
    f.id_ok = 0;
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f) == 64);
    f = facts();
    f.parent_is_mailbox = 0;
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f) == 64);
    f = facts();
    f.place = DPW_PLACE_BELOW_DEVICE;
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f) == 64);
    f = facts();
    f.device_count = 3;
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f) == 11);
    f = facts();
    BOOST_TEST(code(DPW_ACTOR_PERSON, f, {mod(DPW_ATTR_SECRET, DPW_MOD_ADD, &kStored)}) == 53);
    BOOST_TEST(code(DPW_ACTOR_ROOT, f, {mod(DPW_ATTR_SECRET, DPW_MOD_ADD, &kStored)}) == 0);
    BOOST_TEST(code(DPW_ACTOR_ROOT, f, {mod(DPW_ATTR_SECRET, DPW_MOD_ADD, &kNotStored)}) == 21);
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f, {mod(DPW_ATTR_SERVER, DPW_MOD_ADD, &kTime)}) == 53);
    BOOST_TEST(code(DPW_ACTOR_ROOT, f, {mod(DPW_ATTR_TELEMETRY, DPW_MOD_ADD, &kTime)}) == 53);
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f, {mod(DPW_ATTR_LABEL, DPW_MOD_ADD, &kBidiLabel)}) == 19);
    BOOST_TEST(code(DPW_ACTOR_ADMIN, f, {mod(DPW_ATTR_CREDENTIAL, DPW_MOD_ADD, &kLabel)}) == 53);
    // replication is never refused: a device limit reached on both sides of a partition
    f.device_count = 3;
    BOOST_TEST(code(DPW_ACTOR_REPLICATION, f) == 0);

    // owners: people own what they add; an admin owns it unless they name someone
    f = facts();
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_PERSON, &f, nullptr, 0).owner == DPW_OWNER_FORCE);
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_ADMIN, &f, nullptr, 0).owner == DPW_OWNER_DEFAULT);
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_ROOT, &f, nullptr, 0).owner == DPW_OWNER_KEEP);
    f.has_owner = 1;
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_ADMIN, &f, nullptr, 0).owner == DPW_OWNER_KEEP);
    f.has_revoked_true = 1;
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_ADMIN, &f, nullptr, 0).add_revoked_at == 1);
    // the count is asked for only when everything else allows
    f = facts();
    f.device_count = -1;
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_ADMIN, &f, nullptr, 0).needs_count == 1);
}

BOOST_AUTO_TEST_CASE(add_plain_entries) {
    dpw_add_facts f{};
    f.place = DPW_PLACE_PLAIN;
    dpw_mod users = mod(DPW_ATTR_USERS, DPW_MOD_ADD, &kDn);
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_STRANGER, &f, &users, 1).decision.code == 50);
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_ADMIN, &f, &users, 1).decision.code == 0);
    f.has_device_class = 1;  // a device not named devicepwId=...
    BOOST_TEST(dpw_policy_add(DPW_ACTOR_ADMIN, &f, nullptr, 0).decision.code == 64);
}

// ---- delete, modrdn, Password Modify ---------------------------------------------------
BOOST_AUTO_TEST_CASE(delete_modrdn_passmod) {
    dpw_target d = device();
    BOOST_TEST(dpw_policy_delete(DPW_ACTOR_PERSON, &d).code == 50);
    BOOST_TEST(dpw_policy_delete(DPW_ACTOR_ADMIN, &d).code == 0);

    for (dpw_actor a : {DPW_ACTOR_PERSON, DPW_ACTOR_ADMIN, DPW_ACTOR_ROOT}) {
        BOOST_TEST(dpw_policy_modrdn(a, DPW_PLACE_DEVICE, 1, DPW_PLACE_PLAIN).code == 53);
        BOOST_TEST(dpw_policy_modrdn(a, DPW_PLACE_PLAIN, 0, DPW_PLACE_BELOW_DEVICE).code == 64);
        BOOST_TEST(dpw_policy_modrdn(a, DPW_PLACE_PLAIN, 1, DPW_PLACE_PLAIN).code == 53);
        BOOST_TEST(dpw_policy_modrdn(a, DPW_PLACE_PLAIN, 0, DPW_PLACE_PLAIN).code == 0);  // mailboxes move
    }

    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_PERSON, &d, 0).code == 0);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_PERSON, &d, 1).code == 53);
    dpw_target notmine = device(false);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_PERSON, &notmine, 0).code == 50);
    dpw_target revoked = device(true, true);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_ADMIN, &revoked, 0).code == 53);

    // Password Modify on the mailbox itself: its own password only
    dpw_target mb = mailbox();
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_MAILBOX_DEVICE, &mb, 0).code == 50);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_MAILBOX_PROXIED, &mb, 0).code == 50);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_PERSON, &mb, 0).code == 50);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_MAILBOX_PRIMARY, &mb, 0).code == 0);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_ADMIN, &mb, 0).code == 0);
    dpw_target mb_off = mailbox(false, false);
    BOOST_TEST(dpw_policy_passmod(DPW_ACTOR_MAILBOX_PRIMARY, &mb_off, 0).code == 50);
}

BOOST_AUTO_TEST_CASE(who_reads_hashes_and_devices) {
    for (dpw_actor a : kAllActors) {
        const bool server = a == DPW_ACTOR_ROOT || a == DPW_ACTOR_REPLICATION || a == DPW_ACTOR_INTERNAL;
        BOOST_TEST(dpw_policy_may_read_secret(a, 0) == (server ? 1 : 0), dpw_actor_name(a));
        BOOST_TEST(dpw_policy_may_read_secret(a, 1) == 1);
        const bool sees = a != DPW_ACTOR_ANONYMOUS && a != DPW_ACTOR_STRANGER;
        BOOST_TEST(dpw_policy_may_see_devices(a) == (sees ? 1 : 0), dpw_actor_name(a));
    }
}

// ---- attribute classification: options and OIDs never change the class -------------
BOOST_AUTO_TEST_CASE(classification) {
    struct Row { const char *desc; dpw_attr_class cls; };
    const Row rows[] = {
        {"devicepwSecret", DPW_ATTR_SECRET},
        {"DEVICEPWSECRET", DPW_ATTR_SECRET},
        {"devicepwSecret;lang-en", DPW_ATTR_SECRET},
        {"devicepwSecret;x-foo;binary", DPW_ATTR_SECRET},
        {"2.25.255856649164264369961457662193972977575.1.4", DPW_ATTR_SECRET},
        {"2.25.255856649164264369961457662193972977575.1.4;x-a", DPW_ATTR_SECRET},
        {"devicepwLastUsed;x-y", DPW_ATTR_TELEMETRY},
        {"devicepwRevokedAt", DPW_ATTR_SERVER},
        {"devicepwFailureCount", DPW_ATTR_TELEMETRY},
        {"devicepwLastFailure", DPW_ATTR_TELEMETRY},
        {"devicepwRevoked", DPW_ATTR_REVOKED},
        {"devicepwLabel;lang-fr", DPW_ATTR_LABEL},
        {"devicepwExpires", DPW_ATTR_PERSON_EDITABLE},
        {"description", DPW_ATTR_PERSON_EDITABLE},
        {"devicepwOwner", DPW_ATTR_OWNER},
        {"devicepwUser", DPW_ATTR_USERS},
        {"devicepwId", DPW_ATTR_ID},
        {"objectClass", DPW_ATTR_OBJECTCLASS},
        {"2.5.4.0", DPW_ATTR_OBJECTCLASS},
        {"userPassword", DPW_ATTR_CREDENTIAL},
        {"userPassword;x-other", DPW_ATTR_CREDENTIAL},
        {"2.5.4.35", DPW_ATTR_CREDENTIAL},
        {"authzFrom", DPW_ATTR_CREDENTIAL},
        {"saslAuthzTo", DPW_ATTR_CREDENTIAL},
        {"authPassword", DPW_ATTR_CREDENTIAL},
        {"mail", DPW_ATTR_OTHER},
        {"devicepwSecretX", DPW_ATTR_OTHER},
        {"", DPW_ATTR_OTHER},
        {";lang-en", DPW_ATTR_OTHER},
        {"2.5.4.35.1", DPW_ATTR_OTHER},
    };
    for (const Row &r : rows)
        BOOST_TEST(dpw_attr_classify(r.desc, std::string(r.desc).size()) == r.cls, r.desc);
    BOOST_TEST(dpw_attr_classify(nullptr, 3) == DPW_ATTR_OTHER);
}

// ---- bind outcome -----------------------------------------------------------------------
BOOST_AUTO_TEST_CASE(bind_outcomes) {
    BOOST_TEST(dpw_bind_decide(0, 1, DPW_OK, 0, 0) == DPW_BIND_OK);
    BOOST_TEST(dpw_bind_decide(0, 1, DPW_OK, 1, 0) == DPW_BIND_OK);
    BOOST_TEST(dpw_bind_decide(0, 1, DPW_OK, 1, 1) == DPW_BIND_EXPIRED);
    BOOST_TEST(dpw_bind_decide(0, 1, DPW_OK, -1, 0) == DPW_BIND_EXPIRED);  // unreadable expiry fails closed
    BOOST_TEST(dpw_bind_decide(1, 1, DPW_OK, 0, 0) == DPW_BIND_REVOKED);   // revocation outranks a match
    BOOST_TEST(dpw_bind_decide(0, 0, DPW_OK, 0, 0) == DPW_BIND_NO_SECRET);
    BOOST_TEST(dpw_bind_decide(0, 1, DPW_NO_MATCH, 0, 0) == DPW_BIND_WRONG);
    BOOST_TEST(dpw_bind_decide(0, 1, DPW_UNKNOWN_KEY, 0, 0) == DPW_BIND_UNKNOWN_KEY);
    BOOST_TEST(dpw_bind_decide(0, 1, DPW_INVALID, 0, 0) == DPW_BIND_ERROR);
    BOOST_TEST(std::string(dpw_bind_outcome_name(DPW_BIND_WRONG)) == "wrong-secret");
}

// ---- people leaving a mailbox -----------------------------------------------------------
BOOST_AUTO_TEST_CASE(users_diff) {
    const dpw_value bob{"uid=bob", 7}, carol{"uid=carol", 9}, dave{"uid=dave", 8};
    const dpw_value current[] = {bob, carol};
    size_t removed[2], nremoved = 9, nadded = 9;
    const dpw_value *added[4];

    auto run = [&](std::vector<dpw_mod> mods) {
        return dpw_users_diff(current, 2, mods.data(), mods.size(), removed, &nremoved, added, &nadded, 4);
    };
    // delete one value
    BOOST_TEST(run({mod(DPW_ATTR_USERS, DPW_MOD_DELETE, &bob)}) == 0);
    BOOST_TEST(nremoved == 1u);
    BOOST_TEST(removed[0] == 0u);
    BOOST_TEST(nadded == 0u);
    // delete all values
    BOOST_TEST(run({mod(DPW_ATTR_USERS, DPW_MOD_DELETE)}) == 0);
    BOOST_TEST(nremoved == 2u);
    // a replace that leaves carol out and brings dave
    const dpw_value repl[] = {bob, dave};
    dpw_mod r{DPW_ATTR_USERS, DPW_MOD_REPLACE, repl, 2, 0};
    BOOST_TEST(run({r}) == 0);
    BOOST_TEST(nremoved == 1u);
    BOOST_TEST(removed[0] == 1u);
    BOOST_TEST(nadded == 1u);
    BOOST_TEST(added[0] == &repl[1]);
    // other attributes do not count
    BOOST_TEST(run({mod(DPW_ATTR_LABEL, DPW_MOD_DELETE)}) == 0);
    BOOST_TEST(nremoved == 0u);
    BOOST_TEST(nadded == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
