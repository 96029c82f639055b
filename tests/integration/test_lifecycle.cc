// Device lifecycle: revocation, deletion, and the rules on
// where devices live, their ids, labels, number, renames and who may manage them.
#include "test_util.h"

#include <algorithm>

using namespace dpwtest;

namespace {

SlapdOptions managed_options(std::vector<std::string> extra = {}) {
    SlapdOptions o;
    o.acl = {"access to * by * manage"};
    o.overlay_directives = {"devicepw-admin " + demo::carol, "devicepw-admin " + demo::devadmins};
    for (auto &l : extra) o.overlay_directives.push_back(l);
    return o;
}

AddAttrs device_attrs(const std::string &id, const std::string &label = "Phone") {
    return {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}};
}

// |t - now| within a generous bound (the server wrote it during this test).
void check_about_now(const std::string &value, const std::string &what) {
    auto t = parse_gentime(value);
    BOOST_REQUIRE_MESSAGE(t.has_value(), what << " is not a GeneralizedTime: \"" << value << "\"");
    long long diff = *t - now_epoch();
    BOOST_TEST((diff >= -120 && diff <= 5), what << " = " << value << " is " << diff << " s from now");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(revocation_is_immediate_and_final) {
    Dpw d(managed_options());
    d.add_device("k3x9");
    d.add_device("p8w2");
    const std::string secret = d.gen_secret("k3x9");
    const std::string other = d.gen_secret("p8w2");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    REQUIRE_RC(carol->modify(demo::device_dn("k3x9"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, other), LDAP_SUCCESS);  // other devices are untouched
    auto e = d.slapd.root()->read(demo::device_dn("k3x9"));
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("devicepwRevoked") == "TRUE");
    check_about_now(e->one("devicepwRevokedAt"), "devicepwRevokedAt");

    for (auto m : {mod_replace("devicepwRevoked", {"FALSE"}), mod_delete("devicepwRevoked"),
                   mod_delete("devicepwRevoked", {"TRUE"})}) {
        BOOST_TEST_CONTEXT("modify op " << m.op) {
            Result r = carol->modify(demo::device_dn("k3x9"), {m});
            BOOST_TEST(r.rc == LDAP_CONSTRAINT_VIOLATION, "rc " << r.rc << " " << r.diag);
            BOOST_TEST(contains_ci(r.diag, "final"), "diag \"" << r.diag << "\"");
        }
    }
    BOOST_TEST(d.read_attr(demo::device_dn("k3x9"), "devicepwRevoked") == "TRUE");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
    // revoking by an admin via group works too
    auto dave = d.slapd.conn_as(demo::dave, demo::davepw);
    REQUIRE_RC(dave->modify(demo::device_dn("p8w2"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, other), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(deleting_a_device_stops_its_secret) {
    Dpw d(managed_options());
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    REQUIRE_RC(carol->del(demo::device_dn("k3x9")), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
    // a new device with the same id does not revive the old secret
    d.add_device("k3x9");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
    const std::string fresh = d.gen_secret("k3x9");
    CHECK_RC(d.bind(demo::alice, fresh), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
}

// (devicepwLastUsed and its precision: test_telemetry.cc)

BOOST_AUTO_TEST_CASE(devices_live_only_under_mailboxes) {
    Dpw d(managed_options());
    auto root = d.slapd.root();
    for (auto parent : {demo::bob, demo::mailboxes, demo::base}) {
        BOOST_TEST_CONTEXT("parent " << parent) {
            Result r = root->add("devicepwId=k3x9," + parent, device_attrs("k3x9"));
            BOOST_TEST(r.rc == LDAP_NAMING_VIOLATION, "rc " << r.rc << " " << r.diag);
            BOOST_TEST(contains_ci(r.diag, "mailbox"), "diag \"" << r.diag << "\"");
        }
    }
}

BOOST_AUTO_TEST_CASE(device_id_syntax) {
    Dpw d(managed_options());
    auto root = d.slapd.root();
    for (std::string id : {"ABC", "a_b", "abcdefghijkmnpqrs" /* 17 */, "a-b", "a.b"}) {
        BOOST_TEST_CONTEXT("id \"" << id << "\"") {
            Result r = root->add(demo::device_dn(id), device_attrs(id));
            BOOST_TEST(r.rc == LDAP_NAMING_VIOLATION, "rc " << r.rc << " " << r.diag);
            // the message gives the syntax: length and alphabet
            BOOST_TEST(contains_ci(r.diag, "a-z"), "diag \"" << r.diag << "\"");
            BOOST_TEST(r.diag.find("0-9") != std::string::npos, "diag \"" << r.diag << "\"");
            BOOST_TEST(r.diag.find("16") != std::string::npos, "diag \"" << r.diag << "\"");
        }
    }
    for (std::string id : {"a", "0", "abcdefghijkmnpq1" /* 16 */, "l0o1"}) {
        BOOST_TEST_CONTEXT("id \"" << id << "\"") { CHECK_RC(root->add(demo::device_dn(id), device_attrs(id)), LDAP_SUCCESS); }
    }
}

BOOST_AUTO_TEST_CASE(max_devices_counts_revoked_ones) {
    Dpw d(managed_options({"devicepw-max-devices 2"}));
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    REQUIRE_RC(carol->add(demo::device_dn("d1"), device_attrs("d1")), LDAP_SUCCESS);
    REQUIRE_RC(carol->add(demo::device_dn("d2"), device_attrs("d2")), LDAP_SUCCESS);
    REQUIRE_RC(carol->modify(demo::device_dn("d1"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    Result r = carol->add(demo::device_dn("d3"), device_attrs("d3"));
    BOOST_TEST(r.rc == LDAP_ADMINLIMIT_EXCEEDED, "rc " << r.rc << " " << r.diag);
    CHECK_RC(d.slapd.root()->add(demo::device_dn("d3"), device_attrs("d3")), LDAP_ADMINLIMIT_EXCEEDED);
    // the limit is per mailbox
    CHECK_RC(carol->add(demo::device_dn("d3", demo::frank), device_attrs("d3")), LDAP_SUCCESS);
    // deleting one makes room
    REQUIRE_RC(carol->del(demo::device_dn("d1")), LDAP_SUCCESS);
    CHECK_RC(carol->add(demo::device_dn("d3"), device_attrs("d3")), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(label_rules) {
    Dpw d(managed_options());
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    Result empty = carol->add(demo::device_dn("e1"), device_attrs("e1", ""));
    BOOST_TEST((empty.rc == LDAP_CONSTRAINT_VIOLATION || empty.rc == LDAP_INVALID_SYNTAX),
               "empty label: rc " << empty.rc << " " << empty.diag);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"129 characters", std::string(129, 'x')},
        {"129 two-byte characters", [] {
             std::string s;
             for (int i = 0; i < 129; ++i) s += "\xc3\xa9";
             return s;
         }()},
        {"control character \\x01", "Marie\x01s phone"},
        {"tab", "Marie\tphone"},
        {"newline", "Marie\nphone"},
        {"DEL", "Marie\x7fphone"},
    };
    for (auto &[what, label] : bad) {
        BOOST_TEST_CONTEXT(what) {
            Result r = carol->add(demo::device_dn("b1"), device_attrs("b1", label));
            BOOST_TEST(r.rc == LDAP_CONSTRAINT_VIOLATION, "add: rc " << r.rc << " " << r.diag);
        }
    }
    std::string ok128;
    for (int i = 0; i < 128; ++i) ok128 += "\xc3\xa9";  // 128 code points, 256 bytes
    CHECK_RC(carol->add(demo::device_dn("g1"), device_attrs("g1", ok128)), LDAP_SUCCESS);
    CHECK_RC(carol->add(demo::device_dn("g2"), device_attrs("g2", std::string(128, 'x'))), LDAP_SUCCESS);
    CHECK_RC(carol->add(demo::device_dn("g3"), device_attrs("g3", "Marie's iPhone \xe2\x9c\x93")), LDAP_SUCCESS);
    // the same rules on modify
    for (auto &[what, label] : bad) {
        BOOST_TEST_CONTEXT("modify: " << what) {
            Result r = carol->modify(demo::device_dn("g3"), {mod_replace("devicepwLabel", {label})});
            BOOST_TEST(r.rc == LDAP_CONSTRAINT_VIOLATION, "rc " << r.rc << " " << r.diag);
        }
    }
    CHECK_RC(carol->modify(demo::device_dn("g3"), {mod_replace("devicepwLabel", {"Outlook"})}), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(devices_do_not_move) {
    Dpw d(managed_options());
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    auto root = d.slapd.root();
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    for (Conn *c : {root.get(), carol.get()}) {
        CHECK_RC(c->rename(demo::device_dn("k3x9"), "devicepwId=k4x9"), LDAP_UNWILLING_TO_PERFORM);
        CHECK_RC(c->rename(demo::device_dn("k3x9"), "devicepwId=k3x9", demo::frank), LDAP_UNWILLING_TO_PERFORM);
    }
    BOOST_TEST(root->read(demo::device_dn("k3x9")).has_value());
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
}

// A device is devicepwDevice and nothing else (no extensibleObject carrying mail or
// userPassword under a device's name): refused on add (65) and on modify (53), for
// administrators too.
BOOST_AUTO_TEST_CASE(devices_have_one_object_class) {
    Dpw d(managed_options());
    auto root = d.slapd.root();
    CHECK_RC(root->add(demo::device_dn("x1"), {{"objectClass", {"devicepwDevice", "extensibleObject"}},
                                               {"devicepwId", {"x1"}},
                                               {"devicepwLabel", {"Phone"}},
                                               {"mail", {"alice@example.com"}}}),
             LDAP_OBJECT_CLASS_VIOLATION);
    BOOST_TEST(!root->read(demo::device_dn("x1")).has_value());
    d.add_device("k3x9");
    for (auto &m : {mod_add("objectClass", {"extensibleObject"}), mod_delete("objectClass", {"devicepwDevice"})})
        CHECK_RC(root->modify(demo::device_dn("k3x9"), {m}), LDAP_UNWILLING_TO_PERFORM);
    auto e = root->read(demo::device_dn("k3x9"), {"objectClass"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->values("objectClass").size() == 1u);
}

BOOST_AUTO_TEST_CASE(mailbox_keeps_its_class_while_it_has_devices) {
    Dpw d(managed_options());
    d.add_device("k3x9");
    auto root = d.slapd.root();
    CHECK_RC(root->modify(demo::alice, {mod_delete("objectClass", {"devicepwMailbox"})}), LDAP_NOT_ALLOWED_ON_NONLEAF);
    CHECK_RC(root->modify(demo::alice, {mod_replace("objectClass", {"inetOrgPerson"})}), LDAP_NOT_ALLOWED_ON_NONLEAF);
    auto e = root->read(demo::alice, {"objectClass"});
    BOOST_REQUIRE(e.has_value());
    auto oc = e->values("objectClass");
    BOOST_TEST((std::find_if(oc.begin(), oc.end(), [](auto &v) { return lower(v) == "devicepwmailbox"; }) != oc.end()));
    // without devices it may go
    CHECK_RC(root->modify(demo::frank, {mod_delete("objectClass", {"devicepwMailbox"})}), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(non_admin_people_cannot_manage_devices_whatever_the_acls) {
    Dpw d(managed_options());
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    auto bob = d.slapd.conn_as(demo::bob, demo::bobpw);
    auto alice = d.slapd.conn_as(demo::alice, secret);  // the mailbox itself, by device secret
    for (Conn *c : {bob.get(), alice.get()}) {
        CHECK_RC(c->add(demo::device_dn("p8w2"), device_attrs("p8w2")), LDAP_INSUFFICIENT_ACCESS);
        CHECK_RC(c->modify(demo::device_dn("k3x9"), {mod_replace("devicepwLabel", {"Stolen"})}),
                 LDAP_INSUFFICIENT_ACCESS);
        CHECK_RC(c->modify(demo::device_dn("k3x9"), {mod_replace("devicepwRevoked", {"TRUE"})}),
                 LDAP_INSUFFICIENT_ACCESS);
        CHECK_RC(c->del(demo::device_dn("k3x9")), LDAP_INSUFFICIENT_ACCESS);
    }
    auto e = d.slapd.root()->read(demo::device_dn("k3x9"));
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("devicepwLabel") == "Phone");
    BOOST_TEST(!e->has("devicepwRevoked"));
    BOOST_TEST(!d.slapd.root()->read(demo::device_dn("p8w2")).has_value());
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    // while admins can
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    CHECK_RC(carol->add(demo::device_dn("p8w2"), device_attrs("p8w2")), LDAP_SUCCESS);
    CHECK_RC(carol->modify(demo::device_dn("p8w2"), {mod_replace("devicepwLabel", {"Outlook"})}), LDAP_SUCCESS);
    CHECK_RC(carol->del(demo::device_dn("p8w2")), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(renaming_a_mailbox_carries_its_devices) {
    Dpw d(managed_options());
    d.add_device("k3x9");
    d.add_device("p8w2");
    const std::string s1 = d.gen_secret("k3x9");
    const std::string s2 = d.gen_secret("p8w2");
    const std::string renamed = "uid=alice2@example.com," + demo::mailboxes;
    REQUIRE_RC(d.slapd.root()->rename(demo::alice, "uid=alice2@example.com"), LDAP_SUCCESS);
    BOOST_TEST(d.slapd.root()->read(demo::device_dn("k3x9", renamed)).has_value());
    auto c = d.slapd.conn();
    REQUIRE_RC(c->bind(renamed, s1), LDAP_SUCCESS);
    BOOST_TEST(lower(c->whoami()) == "dn:" + lower(renamed));
    CHECK_RC(d.bind(renamed, s2), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
    // rotation works at the new place
    const std::string s3 = Dpw::gen_secret_with(*d.slapd.root(), "k3x9", renamed);
    CHECK_RC(d.bind(renamed, s3), LDAP_SUCCESS);
    CHECK_RC(d.bind(renamed, s1), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_SUITE_END()
