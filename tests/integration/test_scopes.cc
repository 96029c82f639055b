// Service scopes and suspension (DESIGN.md, "Service scopes", "Suspension"): a device
// limited to some services binds only through devicepwService=<service>,<mailbox DN>;
// a suspended or password-policy locked mailbox stops every device until lifted.
#include "test_util.h"

#include <ldap.h>

#include <string>
#include <vector>

using namespace dpwtest;

namespace {

const std::string kAlice = demo::alice;

std::string svc_dn(const std::string &service, const std::string &mailbox = demo::alice) {
    return "devicepwService=" + service + "," + mailbox;
}

SlapdOptions scope_options() {
    SlapdOptions o;
    // the flush task also loads the suspended mailboxes: within a second of startup
    o.overlay_directives = {"devicepw-admin " + demo::carol, "devicepw-telemetry-interval 1"};
    o.acl = {"access to * by * manage"};
    return o;
}

// Until the suspended mailboxes are loaded binds read the mailbox entry; from then on
// they ask the set the overlay keeps: wait for it, so that the set is what is tested.
void wait_suspensions_loaded(SlapdFixture &s) {
    BOOST_REQUIRE_MESSAGE(poll_until([&] { return contains_ci(s.log(), "suspended or locked mailboxes"); }),
                          "the suspended mailboxes were not loaded");
}

// A device with the given services (none = unscoped), added by the rootdn; returns its secret.
std::string scoped_device(Dpw &d, const std::string &id, const std::vector<std::string> &services) {
    AddAttrs attrs = {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {id}}};
    if (!services.empty()) attrs.push_back({"devicepwService", services});
    REQUIRE_RC(d.slapd.root()->add(demo::device_dn(id), attrs), LDAP_SUCCESS);
    return d.gen_secret(id);
}

std::string whoami_after_bind(Dpw &d, const std::string &dn, const std::string &pw) {
    auto c = d.slapd.conn();
    Result r = c->bind(dn, pw);
    BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "bind " << dn << ": " << r.rc << " " << r.diag);
    return c->whoami();
}

// rootdn modify with the Relax control (pwdAccountLockedTime is NO-USER-MODIFICATION).
int relaxed_delete(Conn &c, const std::string &dn, const std::string &attr) {
    LDAPControl relax = {const_cast<char *>(LDAP_CONTROL_RELAX), {0, nullptr}, 1};
    LDAPControl *ctrls[] = {&relax, nullptr};
    LDAPMod m{};
    m.mod_op = LDAP_MOD_DELETE;
    m.mod_type = const_cast<char *>(attr.c_str());
    LDAPMod *mods[] = {&m, nullptr};
    return ldap_modify_ext_s(c.raw(), dn.c_str(), mods, ctrls, nullptr);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scopes)

BOOST_AUTO_TEST_CASE(a_scoped_device_binds_only_for_its_services) {
    Dpw d(scope_options());
    const std::string imap = scoped_device(d, "imp1", {"imap"});
    const std::string both = scoped_device(d, "two2", {"imap", "smtp"});
    // for its service: a bind as the mailbox
    BOOST_TEST(whoami_after_bind(d, svc_dn("imap"), imap) == "dn:" + kAlice);
    CHECK_RC(d.bind(svc_dn("smtp"), both), LDAP_SUCCESS);
    CHECK_RC(d.bind(svc_dn("imap"), both), LDAP_SUCCESS);
    // another service, and the plain mailbox DN (no particular service): the same 49
    CHECK_RC(d.bind(svc_dn("pop3"), imap), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(svc_dn("submission"), imap), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(kAlice, imap), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(svc_dn("pop3"), both), LDAP_INVALID_CREDENTIALS);
    // counted against the device and logged with the reason
    BOOST_TEST(contains_ci(d.slapd.log(), "device=imp1 outcome=wrong-service"));
}

BOOST_AUTO_TEST_CASE(an_unscoped_device_binds_for_every_service) {
    Dpw d(scope_options());
    const std::string any = scoped_device(d, "any1", {});
    for (const char *svc : {"imap", "pop3", "submission", "smtp", "sieve", "dav", "something-else"})
        CHECK_RC(d.bind(svc_dn(svc), any), LDAP_SUCCESS);
    CHECK_RC(d.bind(kAlice, any), LDAP_SUCCESS);
    BOOST_TEST(whoami_after_bind(d, svc_dn("pop3"), any) == "dn:" + kAlice);
}

BOOST_AUTO_TEST_CASE(service_dns_in_odd_case_and_spacing) {
    Dpw d(scope_options());
    const std::string imap = scoped_device(d, "imp1", {"IMAP"});  // stored in any case
    for (const std::string &dn : {"devicepwService=IMAP," + kAlice, "DEVICEPWSERVICE=imap," + kAlice,
                                  "devicepwService = Imap , " + kAlice,
                                  "2.25.255856649164264369961457662193972977575.1.12=imap," + kAlice})
        BOOST_TEST(whoami_after_bind(d, dn, imap) == "dn:" + kAlice, dn);
    // a multi-valued RDN or a service with other characters is no service
    CHECK_RC(d.bind("devicepwService=imap+cn=x," + kAlice, imap), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind("devicepwService=im ap," + kAlice, imap), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(service_dns_that_are_not_a_mailbox) {
    Dpw d(scope_options());
    const std::string any = scoped_device(d, "any1", {});
    // a person, a missing mailbox, the mailboxes' parent, a device: all 49
    for (const std::string &dn : {svc_dn("imap", demo::bob), svc_dn("imap", demo::frank),
                                  svc_dn("imap", demo::mailboxes), svc_dn("imap", demo::device_dn("any1")),
                                  svc_dn("imap", svc_dn("imap"))})
        CHECK_RC(d.bind(dn, any), LDAP_INVALID_CREDENTIALS);
    // a person's own password never binds through a service DN
    CHECK_RC(d.bind(svc_dn("imap", demo::bob), demo::bobpw), LDAP_INVALID_CREDENTIALS);
    // a bound scoped connection is the mailbox bound with a device: it mints nothing
    auto c = d.slapd.conn();
    REQUIRE_RC(c->bind(svc_dn("imap"), any), LDAP_SUCCESS);
    CHECK_RC(c->add(demo::device_dn("evil"), {{"objectClass", {"devicepwDevice"}},
                                              {"devicepwId", {"evil"}},
                                              {"devicepwLabel", {"x"}}}),
             LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(c->modify(kAlice, {mod_replace("userPassword", {"minted"})}), LDAP_INSUFFICIENT_ACCESS);
}

BOOST_AUTO_TEST_CASE(service_keywords_are_checked) {
    Dpw d(scope_options());
    d.add_device("k3x9");
    auto root = d.slapd.root();
    for (const std::string &bad : std::vector<std::string>{"IMAP!", "-imap", "1imap", "im ap", "", std::string(33, 'a'), "imap\xc3\xa9"}) {
        Result r = root->modify(demo::device_dn("k3x9"), {mod_add("devicepwService", {bad})});
        BOOST_TEST(r.rc != LDAP_SUCCESS, "'" << bad << "' was accepted");
    }
    CHECK_RC(root->modify(demo::device_dn("k3x9"), {mod_add("devicepwService", {"imap", "x-crm-2"})}), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(people_narrow_scopes_and_never_widen_them) {
    SlapdOptions o = scope_options();
    Dpw d(o);
    REQUIRE_RC(d.slapd.root()->modify(kAlice, {mod_add("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    auto bob = d.slapd.conn_as(demo::bob, demo::bobpw);
    // bob adds his own scoped device: any services he likes
    REQUIRE_RC(bob->add(demo::device_dn("b1"), {{"objectClass", {"devicepwDevice"}},
                                                {"devicepwId", {"b1"}},
                                                {"devicepwLabel", {"Printer"}},
                                                {"devicepwService", {"smtp", "imap"}}}),
               LDAP_SUCCESS);
    // narrowing: drop one
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_delete("devicepwService", {"imap"})}), LDAP_SUCCESS);
    // widening: add one back, replace with another, or drop the last (= every service)
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_add("devicepwService", {"imap"})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_replace("devicepwService", {"pop3"})}),
             LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_delete("devicepwService")}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_replace("devicepwService", {"smtp"})}), LDAP_SUCCESS);
    // an unscoped device of his: any scope narrows it
    REQUIRE_RC(bob->add(demo::device_dn("b2"), {{"objectClass", {"devicepwDevice"}},
                                                {"devicepwId", {"b2"}},
                                                {"devicepwLabel", {"Phone"}}}),
               LDAP_SUCCESS);
    CHECK_RC(bob->modify(demo::device_dn("b2"), {mod_add("devicepwService", {"imap"})}), LDAP_SUCCESS);
    // an administrator widens
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    CHECK_RC(carol->modify(demo::device_dn("b1"), {mod_add("devicepwService", {"imap"})}), LDAP_SUCCESS);
    CHECK_RC(carol->modify(demo::device_dn("b2"), {mod_delete("devicepwService")}), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(suspension_stops_every_device_until_lifted) {
    Dpw d(scope_options());
    wait_suspensions_loaded(d.slapd);
    const std::string a = scoped_device(d, "k3x9", {});
    const std::string b = scoped_device(d, "imp1", {"imap"});
    REQUIRE_RC(d.slapd.root()->modify(kAlice, {mod_add("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    REQUIRE_RC(carol->modify(kAlice, {mod_replace("devicepwSuspended", {"TRUE"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(kAlice, a), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(svc_dn("imap"), b), LDAP_INVALID_CREDENTIALS);
    BOOST_TEST(contains_ci(d.slapd.log(), "device=k3x9 outcome=suspended"));
    // the devices are untouched
    BOOST_TEST(d.read_attr(demo::device_dn("k3x9"), "devicepwRevoked") == "");
    // the mailbox's people cannot lift it, nor can the mailbox itself
    auto bob = d.slapd.conn_as(demo::bob, demo::bobpw);
    CHECK_RC(bob->modify(kAlice, {mod_delete("devicepwSuspended")}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(kAlice, {mod_replace("devicepwSuspended", {"FALSE"})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(d.bind(kAlice, a), LDAP_INVALID_CREDENTIALS);
    // lifting it restores them
    REQUIRE_RC(carol->modify(kAlice, {mod_delete("devicepwSuspended")}), LDAP_SUCCESS);
    CHECK_RC(d.bind(kAlice, a), LDAP_SUCCESS);
    CHECK_RC(d.bind(svc_dn("imap"), b), LDAP_SUCCESS);
    // FALSE is not suspended
    REQUIRE_RC(carol->modify(kAlice, {mod_replace("devicepwSuspended", {"FALSE"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(kAlice, a), LDAP_SUCCESS);
    // a device-bound mailbox cannot suspend or resume itself either
    REQUIRE_RC(carol->modify(kAlice, {mod_replace("devicepwSuspended", {"TRUE"})}), LDAP_SUCCESS);
    REQUIRE_RC(carol->modify(kAlice, {mod_delete("devicepwSuspended")}), LDAP_SUCCESS);
    auto self = d.slapd.conn_as(kAlice, a);
    CHECK_RC(self->modify(kAlice, {mod_replace("devicepwSuspended", {"TRUE"})}), LDAP_INSUFFICIENT_ACCESS);
    // a suspension made while slapd was down, or before: loaded at startup
    REQUIRE_RC(carol->modify(kAlice, {mod_replace("devicepwSuspended", {"TRUE"})}), LDAP_SUCCESS);
    d.slapd.restart();
    CHECK_RC(d.bind(kAlice, a), LDAP_INVALID_CREDENTIALS);  // read from the entry, or the set
    wait_suspensions_loaded(d.slapd);
    CHECK_RC(d.bind(kAlice, a), LDAP_INVALID_CREDENTIALS);  // from the set
    // renaming a suspended mailbox keeps it suspended; deleting the suspension lifts it
    auto root = d.slapd.root();
    REQUIRE_RC(root->rename(kAlice, "uid=alice2@example.com"), LDAP_SUCCESS);
    const std::string moved = "uid=alice2@example.com," + demo::mailboxes;
    CHECK_RC(d.bind(moved, a), LDAP_INVALID_CREDENTIALS);
    REQUIRE_RC(root->modify(moved, {mod_delete("devicepwSuspended")}), LDAP_SUCCESS);
    CHECK_RC(d.bind(moved, a), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(a_password_policy_lock_stops_devices_until_lifted) {
    const std::string policy = "cn=default,ou=policies," + demo::base;
    SlapdOptions o;
    o.global_directives = {"moduleload ppolicy"};
    o.db_directives = {"overlay ppolicy", "ppolicy_default \"" + policy + "\""};
    o.acl = {"access to * by * write"};
    o.overlay_directives = {"devicepw-telemetry-interval 1"};
    Dpw d(o);
    wait_suspensions_loaded(d.slapd);
    REQUIRE_RC(d.slapd.root()->add("ou=policies," + demo::base,
                                   {{"objectClass", {"organizationalUnit"}}, {"ou", {"policies"}}}),
               LDAP_SUCCESS);
    REQUIRE_RC(d.slapd.root()->add(policy, {{"objectClass", {"organizationalRole", "pwdPolicy"}},
                                            {"cn", {"default"}},
                                            {"pwdAttribute", {"userPassword"}},
                                            {"pwdLockout", {"TRUE"}},
                                            {"pwdMaxFailure", {"2"}},
                                            {"pwdFailureCountInterval", {"0"}}}),
               LDAP_SUCCESS);
    REQUIRE_RC(d.slapd.root()->modify(kAlice, {mod_replace("userPassword", {"alice-own-pw"})}), LDAP_SUCCESS);
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    CHECK_RC(d.bind(kAlice, secret), LDAP_SUCCESS);
    // wrong primary passwords lock the mailbox through ppolicy
    for (int i = 0; i < 2; ++i) CHECK_RC(d.bind(kAlice, "not-alices-password"), LDAP_INVALID_CREDENTIALS);
    BOOST_REQUIRE(!d.read_attr(kAlice, "pwdAccountLockedTime").empty());
    CHECK_RC(d.bind(kAlice, secret), LDAP_INVALID_CREDENTIALS);
    BOOST_TEST(d.read_attr(demo::device_dn("k3x9"), "devicepwRevoked") == "");
    // an administrator lifts the lock: the device works again
    auto root = d.slapd.root();
    BOOST_REQUIRE_EQUAL(relaxed_delete(*root, kAlice, "pwdAccountLockedTime"), LDAP_SUCCESS);
    CHECK_RC(d.bind(kAlice, secret), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(has_secret_says_whether_a_secret_was_generated) {
    Dpw d(scope_options());
    d.add_device("k3x9");
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    auto e = carol->read(demo::device_dn("k3x9"), {"devicepwHasSecret"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("devicepwhassecret") == "FALSE");
    d.gen_secret("k3x9");
    e = carol->read(demo::device_dn("k3x9"), {"+"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("devicepwhassecret") == "TRUE");
    BOOST_TEST(!e->has("devicepwsecret"));
    // not in "*", never writable
    e = carol->read(demo::device_dn("k3x9"), {"*"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(!e->has("devicepwhassecret"));
    Result r = d.slapd.root()->modify(demo::device_dn("k3x9"), {mod_replace("devicepwHasSecret", {"FALSE"})});
    BOOST_TEST(r.rc != LDAP_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()
