// People who use a mailbox (issue 4): a mailbox's users (devicepwUser) are people with
// their own directory account. Listed people read the mailbox and its devices, add
// devices (which they own), rotate and revoke the devices they own, and act as the
// mailbox through Proxied Authorization; unlisted people get 50 and learn nothing about
// devices; removing or deleting a person revokes exactly their devices; all of it is
// logged with who did it.
//
// Cast: two mailboxes, alice (users bob and erin) and frank (user bob); two people bob
// and erin; mallory, listed nowhere; dave, an administrator through the devadmins group
// (devicepw-admin); cn=dovecot, the mail service account.
//
// Most scenarios run twice: under the ACLs doc/people-and-mailboxes.md recommends (so
// that they are proven), and under `access to * by * manage`, to prove that the overlay
// enforces the rules whatever the ACLs grant.
#include "test_util.h"

#include <algorithm>
#include <memory>
#include <sstream>

using namespace dpwtest;

namespace {

const std::string mallory = "uid=mallory,ou=people,dc=example,dc=com";
const std::string mallorypw = "mallorypw";
const std::string services = "ou=services,dc=example,dc=com";
const std::string dovecot = "cn=dovecot,ou=services,dc=example,dc=com";
const std::string dovecotpw = "dovecotpw";
const std::string admin = demo::dave;  // member of cn=devadmins
const std::string adminpw = demo::davepw;

// The recommended ACLs of the README (test_util.h, shared with the attack matrix).
std::vector<std::string> recommended_acl(bool with_authzfrom_rule = true) {
    return recommended_acls(with_authzfrom_rule);
}

enum class Acls { Recommended, Permissive };

SlapdOptions people_options(Acls acls) {
    SlapdOptions o;
    o.acl = acls == Acls::Recommended ? recommended_acl() : std::vector<std::string>{"access to * by * manage"};
    o.global_directives = {"authz-policy from"};
    o.db_directives = {"index objectClass eq", "index devicepwUser eq", "index devicepwOwner eq"};
    o.overlay_directives = {"devicepw-admin " + demo::devadmins};
    return o;
}

AddAttrs device_attrs(const std::string &id, const std::string &label = "Phone") {
    return {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}};
}

// A started slapd with the demo data, mallory, the dovecot service account, and the
// mailboxes' people: alice -> bob, erin; frank -> bob.
struct People : Dpw {
    explicit People(SlapdOptions o) : Dpw(std::move(o)) {
        auto r = slapd.root();
        REQUIRE_RC(r->add(mallory, {{"objectClass", {"inetOrgPerson"}}, {"uid", {"mallory"}}, {"cn", {"mallory"}},
                                    {"sn", {"Person"}}, {"userPassword", {mallorypw}}}),
                   LDAP_SUCCESS);
        REQUIRE_RC(r->add(services, {{"objectClass", {"organizationalUnit"}}, {"ou", {"services"}}}), LDAP_SUCCESS);
        REQUIRE_RC(r->add(dovecot, {{"objectClass", {"applicationProcess", "simpleSecurityObject"}},
                                    {"cn", {"dovecot"}}, {"userPassword", {dovecotpw}}}),
                   LDAP_SUCCESS);
        REQUIRE_RC(r->modify(demo::alice, {mod_add("devicepwUser", {demo::bob, demo::erin})}), LDAP_SUCCESS);
        REQUIRE_RC(r->modify(demo::frank, {mod_add("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    }
    std::unique_ptr<Conn> bob() { return slapd.conn_as(demo::bob, demo::bobpw); }
    std::unique_ptr<Conn> erin() { return slapd.conn_as(demo::erin, demo::erinpw); }
    std::unique_ptr<Conn> mal() { return slapd.conn_as(mallory, mallorypw); }
    std::unique_ptr<Conn> adm() { return slapd.conn_as(admin, adminpw); }

    // A person adds a device; the add must succeed.
    void person_adds(Conn &c, const std::string &id, const std::string &mailbox, AddAttrs extra = {}) {
        AddAttrs a = device_attrs(id);
        a.insert(a.end(), extra.begin(), extra.end());
        REQUIRE_RC(c.add(demo::device_dn(id, mailbox), a), LDAP_SUCCESS);
    }
    std::vector<std::string> users_of(const std::string &mailbox) {
        auto e = slapd.root()->read(mailbox, {"devicepwUser"});
        BOOST_REQUIRE(e.has_value());
        std::vector<std::string> out;
        for (auto &v : e->values("devicepwUser")) out.push_back(lower(v));
        return out;
    }
    bool revoked(const std::string &id, const std::string &mailbox) {
        auto e = slapd.root()->read(demo::device_dn(id, mailbox), {"devicepwRevoked", "devicepwRevokedAt"});
        BOOST_REQUIRE(e.has_value());
        bool r = e->has("devicepwRevoked") && e->one("devicepwRevoked") == "TRUE";
        if (r) BOOST_CHECK_MESSAGE(e->has("devicepwRevokedAt"), "revoked device " << id << " has no devicepwRevokedAt");
        return r;
    }
};

bool has_dn(const std::vector<std::string> &v, const std::string &dn) {
    for (auto &x : v)
        if (lower(x) == lower(dn)) return true;
    return false;
}

// ---- raw libldap with controls (Proxied Authorization, size limits) ----------------

struct CtrlFree {
    void operator()(LDAPControl *c) const { ldap_control_free(c); }
};
using CtrlPtr = std::unique_ptr<LDAPControl, CtrlFree>;

// RFC 4370 Proxied Authorization, critical, value "dn:<DN>" (what ldapwhoami -e
// '!authzid=dn:<DN>' sends).
CtrlPtr proxy_authz(const std::string &dn) {
    std::string v = "dn:" + dn;
    berval bv{v.size(), v.data()};
    LDAPControl *c = nullptr;
    BOOST_REQUIRE(ldap_control_create(LDAP_CONTROL_PROXY_AUTHZ, 1, &bv, 1, &c) == LDAP_SUCCESS);
    return CtrlPtr(c);
}

// Wait for msgid's final result; parse it (and the entries / extended data).
struct Raw {
    Result res;
    std::vector<std::string> dns;    // search entries
    std::vector<Entry> entries;
    std::optional<std::string> data;  // extended response value (whoami authzid, genPasswd BER)
};

Raw raw_wait(LDAP *ld, int msgid) {
    Raw out;
    timeval tv{30, 0};
    LDAPMessage *res = nullptr;
    int t = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
    BOOST_REQUIRE_MESSAGE(t > 0 && res, "no result for message " << msgid);
    for (LDAPMessage *m = ldap_first_message(ld, res); m; m = ldap_next_message(ld, m)) {
        int type = ldap_msgtype(m);
        if (type == LDAP_RES_SEARCH_ENTRY) {
            Entry e = entry_of(ld, m);
            out.dns.push_back(e.dn);
            out.entries.push_back(std::move(e));
        } else if (type == LDAP_RES_SEARCH_RESULT || type == LDAP_RES_EXTENDED) {
            int err = -1;
            char *matched = nullptr, *diag = nullptr;
            ldap_parse_result(ld, m, &err, &matched, &diag, nullptr, nullptr, 0);
            out.res.rc = err;
            if (matched) out.res.matched = matched, ldap_memfree(matched);
            if (diag) out.res.diag = diag, ldap_memfree(diag);
            if (type == LDAP_RES_EXTENDED) {
                char *oid = nullptr;
                berval *data = nullptr;
                if (ldap_parse_extended_result(ld, m, &oid, &data, 0) == LDAP_SUCCESS && data)
                    out.data = std::string(data->bv_val, data->bv_len);
                if (oid) ldap_memfree(oid);
                if (data) ber_bvfree(data);
            }
        }
    }
    ldap_msgfree(res);
    return out;
}

Raw whoami_as(Conn &c, const std::string &authz_dn) {
    CtrlPtr ctrl = proxy_authz(authz_dn);
    LDAPControl *ctrls[] = {ctrl.get(), nullptr};
    int msgid = -1;
    BOOST_REQUIRE(ldap_whoami(c.raw(), ctrls, nullptr, &msgid) == LDAP_SUCCESS);
    return raw_wait(c.raw(), msgid);
}

// Search, optionally as authz_dn (Proxied Authorization) and with a size limit.
Raw search_raw(Conn &c, const std::string &base, int scope, const std::string &filter,
               const std::string &authz_dn = "", int sizelimit = 0) {
    CtrlPtr ctrl;
    LDAPControl *ctrls[] = {nullptr, nullptr};
    if (!authz_dn.empty()) {
        ctrl = proxy_authz(authz_dn);
        ctrls[0] = ctrl.get();
    }
    char star[] = "*";
    char *attrs[] = {star, nullptr};
    int msgid = -1;
    timeval tv{30, 0};
    BOOST_REQUIRE(ldap_search_ext(c.raw(), base.c_str(), scope, filter.c_str(), attrs, 0,
                                  authz_dn.empty() ? nullptr : ctrls, nullptr, &tv, sizelimit, &msgid) == LDAP_SUCCESS);
    return raw_wait(c.raw(), msgid);
}

// Password Modify as authz_dn (Proxied Authorization).
Raw passwd_as(Conn &c, const std::string &dn, const std::string &authz_dn) {
    CtrlPtr ctrl = proxy_authz(authz_dn);
    LDAPControl *ctrls[] = {ctrl.get(), nullptr};
    berval user{dn.size(), const_cast<char *>(dn.data())};
    int msgid = -1;
    BOOST_REQUIRE(ldap_passwd(c.raw(), &user, nullptr, nullptr, ctrls, nullptr, &msgid) == LDAP_SUCCESS);
    return raw_wait(c.raw(), msgid);
}

// The log lines that contain every one of the needles (case-insensitive).
std::vector<std::string> log_lines(const std::string &log, const std::vector<std::string> &needles) {
    std::vector<std::string> out;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        bool all = true;
        for (auto &n : needles) all = all && contains_ci(line, n);
        if (all) out.push_back(line);
    }
    return out;
}

// Every log line with all of the needles names `by` as who did it (and there is one).
void check_all_by(const std::string &log, const std::vector<std::string> &needles, const std::string &by) {
    auto lines = log_lines(log, needles);
    BOOST_CHECK_MESSAGE(!lines.empty(), "no log line with " << needles[0] << " " << needles.back());
    for (auto &l : lines) BOOST_CHECK_MESSAGE(contains_ci(l, "by=\"" + by + "\""), "logged with the wrong actor: " << l);
}

#define CHECK_LOGGED(d, ...)                                                                         \
    BOOST_CHECK_MESSAGE(!log_lines((d).slapd.log(), {__VA_ARGS__}).empty(),                          \
                        "no log line with all of: " << #__VA_ARGS__ << "\nlog tail:\n" << (d).slapd.log_tail())

// ---- scenarios run under both ACL sets --------------------------------------------------

// Point 1 and 2 for writes: listed people add (owning what they add, whatever they send),
// rotate and revoke their own devices; nobody else's, nothing of mailboxes they are not on;
// unlisted people, the mailbox itself: nothing. Administrators: everything.
void people_manage_their_own_devices(Acls acls) {
    People d(people_options(acls));
    auto bob = d.bob(), erin = d.erin(), mal = d.mal(), adm = d.adm();

    // bob adds a device to alice with a forged owner: the server makes it his
    d.person_adds(*bob, "b1", demo::alice, {{"devicepwOwner", {demo::erin}}});
    BOOST_TEST(lower(d.read_attr(demo::device_dn("b1"), "devicepwOwner")) == lower(demo::bob));
    d.person_adds(*bob, "b2", demo::frank);
    BOOST_TEST(lower(d.read_attr(demo::device_dn("b2", demo::frank), "devicepwOwner")) == lower(demo::bob));
    d.person_adds(*erin, "e1", demo::alice);
    BOOST_TEST(lower(d.read_attr(demo::device_dn("e1"), "devicepwOwner")) == lower(demo::erin));

    // generate and rotate his own: the old secret stops, the new one binds
    const std::string s1 = Dpw::gen_secret_with(*bob, "b1");
    CHECK_RC(d.bind(demo::alice, s1), LDAP_SUCCESS);
    const std::string s2 = Dpw::gen_secret_with(*bob, "b1");
    CHECK_RC(d.bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
    const std::string b2 = Dpw::gen_secret_with(*bob, "b2", demo::frank);
    CHECK_RC(d.bind(demo::frank, b2), LDAP_SUCCESS);
    const std::string e1 = Dpw::gen_secret_with(*erin, "e1");
    CHECK_RC(d.bind(demo::alice, e1), LDAP_SUCCESS);

    // another person's device on the same mailbox: no rotation, no change, no revocation
    BOOST_TEST(bob->passwd(demo::device_dn("e1")).res.rc == LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(demo::device_dn("e1"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(demo::device_dn("e1"), {mod_replace("devicepwLabel", {"mine now"})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(d.bind(demo::alice, e1), LDAP_SUCCESS);  // not rotated, not revoked
    // any device of a mailbox erin is not on
    BOOST_TEST(erin->passwd(demo::device_dn("b2", demo::frank)).res.rc == LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(erin->modify(demo::device_dn("b2", demo::frank), {mod_replace("devicepwRevoked", {"TRUE"})}),
             LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(erin->add(demo::device_dn("e2", demo::frank), device_attrs("e2")), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(d.bind(demo::frank, b2), LDAP_SUCCESS);
    // his own device, but not its owner, nor delete it (people revoke; admins delete)
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_replace("devicepwOwner", {demo::erin})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->del(demo::device_dn("b1")), LDAP_INSUFFICIENT_ACCESS);
    // nothing hangs below a device (it would also stop an administrator deleting it)
    const Result below = bob->add("cn=x," + demo::device_dn("b1"), {{"objectClass", {"organizationalRole"}}, {"cn", {"x"}}});
    BOOST_CHECK_MESSAGE(below.rc != LDAP_SUCCESS, "bob added an entry below his device");
    // nor the mailbox's people
    CHECK_RC(bob->modify(demo::alice, {mod_add("devicepwUser", {mallory})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(demo::alice, {mod_delete("devicepwUser", {demo::erin})}), LDAP_INSUFFICIENT_ACCESS);
    BOOST_TEST(d.users_of(demo::alice).size() == 2u);

    // unlisted mallory: 50 for every one of those
    CHECK_RC(mal->add(demo::device_dn("m1"), device_attrs("m1")), LDAP_INSUFFICIENT_ACCESS);
    BOOST_TEST(mal->passwd(demo::device_dn("e1")).res.rc == LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(mal->modify(demo::device_dn("e1"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(mal->del(demo::device_dn("e1")), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(mal->modify(demo::alice, {mod_add("devicepwUser", {mallory})}), LDAP_INSUFFICIENT_ACCESS);
    // the mailbox itself (bound with a device password): nothing either
    auto as_alice = d.slapd.conn_as(demo::alice, e1);
    CHECK_RC(as_alice->add(demo::device_dn("a1"), device_attrs("a1")), LDAP_INSUFFICIENT_ACCESS);
    BOOST_TEST(as_alice->passwd(demo::device_dn("e1")).res.rc == LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(as_alice->modify(demo::device_dn("b1"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(as_alice->modify(demo::alice, {mod_add("devicepwUser", {mallory})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, e1), LDAP_SUCCESS);

    // bob relabels and revokes his own: the next bind fails, nobody else's device is touched
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_replace("devicepwLabel", {"Work phone"})}), LDAP_SUCCESS);
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    BOOST_TEST(d.revoked("b1", demo::alice));
    CHECK_RC(d.bind(demo::alice, s2), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, e1), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::frank, b2), LDAP_SUCCESS);
    BOOST_TEST(bob->passwd(demo::device_dn("b1")).res.rc == LDAP_UNWILLING_TO_PERFORM);  // revocation is final

    // an administrator does all of it for every device
    CHECK_RC(adm->add(demo::device_dn("ad1", demo::frank), [] {
                 auto a = device_attrs("ad1");
                 a.push_back({"devicepwOwner", {demo::bob}});
                 return a;
             }()),
             LDAP_SUCCESS);
    BOOST_TEST(lower(d.read_attr(demo::device_dn("ad1", demo::frank), "devicepwOwner")) == lower(demo::bob));
    const std::string e1b = Dpw::gen_secret_with(*adm, "e1");
    CHECK_RC(d.bind(demo::alice, e1), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, e1b), LDAP_SUCCESS);
    auto e = adm->read(demo::device_dn("e1"), {"devicepwLabel", "devicepwOwner", "devicepwSecret"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(!e->has("devicepwSecret"));
    CHECK_RC(adm->modify(demo::device_dn("b2", demo::frank), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::frank, b2), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(adm->del(demo::device_dn("b1")), LDAP_SUCCESS);
    CHECK_RC(adm->modify(demo::alice, {mod_add("devicepwUser", {mallory})}), LDAP_SUCCESS);
    d.person_adds(*mal, "m1", demo::alice);  // now she is listed
}

// Point 1 and 2 for reads: the people of a mailbox read it and its devices, never a secret;
// an unlisted person gets the same 50 for the mailbox, an existing device and a device that
// does not exist, and sees no device in a broad search.
void reads_are_for_the_mailbox_people(Acls acls) {
    People d(people_options(acls));
    auto bob = d.bob(), erin = d.erin(), mal = d.mal();
    d.person_adds(*bob, "b1", demo::alice);
    d.person_adds(*bob, "b2", demo::frank);
    Dpw::gen_secret_with(*bob, "b1");
    Dpw::gen_secret_with(*bob, "b2", demo::frank);

    for (Conn *c : {bob.get(), erin.get()}) {
        auto mb = c->read(demo::alice, {"*"});
        BOOST_REQUIRE(mb.has_value());
        BOOST_TEST(mb->values("devicepwUser").size() == 2u);
        auto dev = c->read(demo::device_dn("b1"), {"*", "+"});
        BOOST_REQUIRE(dev.has_value());
        BOOST_TEST(dev->one("devicepwLabel") == "Phone");
        BOOST_TEST(lower(dev->one("devicepwOwner")) == lower(demo::bob));
        BOOST_TEST(!dev->has("devicepwSecret"));
        auto one = c->search(demo::alice, LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)");
        CHECK_RC(one.res, LDAP_SUCCESS);
        BOOST_REQUIRE(one.entries.size() == 1u);
        BOOST_TEST(!one.entries[0].has("devicepwSecret"));
        // no probing of stored hashes through a filter either
        auto probe = c->search(demo::alice, LDAP_SCOPE_SUBTREE, "(devicepwSecret=*)");
        BOOST_TEST(probe.entries.empty());
        CHECK_RC(c->compare(demo::device_dn("b1"), "devicepwLabel", "Phone"), LDAP_COMPARE_TRUE);
    }
    // bob, on both mailboxes, sees both devices in a broad search; erin only alice's
    auto sb = bob->search(demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=devicepwDevice)");
    BOOST_TEST(sb.entries.size() == 2u);
    auto se = erin->search(demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=devicepwDevice)");
    BOOST_REQUIRE(se.entries.size() == 1u);
    BOOST_TEST(lower(se.entries[0].dn) == lower(demo::device_dn("b1")));

    // unlisted: mallory everywhere, erin on frank. The same 50 and text for the mailbox,
    // an existing device and a device that does not exist.
    struct Probe {
        Conn *c;
        std::string mailbox, existing;
    };
    for (auto p : {Probe{mal.get(), demo::alice, "b1"}, Probe{mal.get(), demo::frank, "b2"},
                   Probe{erin.get(), demo::frank, "b2"}}) {
        auto onmb = p.c->search(p.mailbox, LDAP_SCOPE_BASE, "(objectClass=*)");
        auto ex = p.c->search(demo::device_dn(p.existing, p.mailbox), LDAP_SCOPE_BASE, "(objectClass=*)");
        auto nx = p.c->search(demo::device_dn("nosuch", p.mailbox), LDAP_SCOPE_BASE, "(objectClass=*)");
        auto lvl = p.c->search(p.mailbox, LDAP_SCOPE_ONELEVEL, "(objectClass=*)");
        CHECK_RC(onmb.res, LDAP_INSUFFICIENT_ACCESS);
        CHECK_RC(ex.res, LDAP_INSUFFICIENT_ACCESS);
        CHECK_RC(nx.res, LDAP_INSUFFICIENT_ACCESS);
        CHECK_RC(lvl.res, LDAP_INSUFFICIENT_ACCESS);
        BOOST_TEST(ex.entries.empty());
        BOOST_TEST(onmb.entries.empty());
        BOOST_TEST(ex.res.diag == nx.res.diag);
        BOOST_TEST(ex.res.matched == nx.res.matched);
        auto cex = p.c->compare(demo::device_dn(p.existing, p.mailbox), "devicepwLabel", "Phone");
        auto cnx = p.c->compare(demo::device_dn("nosuch", p.mailbox), "devicepwLabel", "Phone");
        CHECK_RC(cex, LDAP_INSUFFICIENT_ACCESS);
        CHECK_RC(cnx, LDAP_INSUFFICIENT_ACCESS);
        BOOST_TEST(cex.diag == cnx.diag);
        CHECK_RC(p.c->compare(p.mailbox, "mail", "x@example.com"), LDAP_INSUFFICIENT_ACCESS);
    }
    // a broad search shows mallory no device at all
    auto all = mal->search(demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=*)");
    CHECK_RC(all.res, LDAP_SUCCESS);
    for (auto &e : all.entries) BOOST_TEST(!contains_ci(e.dn, "devicepwId="), "mallory sees " << e.dn);
    BOOST_TEST(mal->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(devicepwId=b1)").entries.empty());
    auto efr = erin->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(objectClass=devicepwDevice)");
    BOOST_REQUIRE(efr.entries.size() == 1u);  // alice's b1, not frank's b2
    BOOST_TEST(lower(efr.entries[0].dn) == lower(demo::device_dn("b1")));
}

// Point 2, "cannot learn whether devices exist", for writes: an unlisted person gets the
// same answer for an existing device and for one that does not exist.
void unlisted_writes_reveal_nothing(Acls acls) {
    People d(people_options(acls));
    auto bob = d.bob(), mal = d.mal();
    d.person_adds(*bob, "b1", demo::alice);
    const std::string ex = demo::device_dn("b1"), nx = demo::device_dn("nosuch");
    // refused, and indistinguishable; the operations of the issue with 50
    auto same = [](const char *what, const Result &a, const Result &b, bool must_be_50 = true) {
        BOOST_CHECK_MESSAGE(a.rc != LDAP_SUCCESS && a.rc == b.rc && a.diag == b.diag && a.matched == b.matched &&
                                (!must_be_50 || a.rc == LDAP_INSUFFICIENT_ACCESS),
                            what << ": existing device " << a.rc << " \"" << a.diag << "\" matched \"" << a.matched
                                 << "\" / no such device " << b.rc << " \"" << b.diag << "\" matched \"" << b.matched
                                 << "\"");
    };
    same("revoke", mal->modify(ex, {mod_replace("devicepwRevoked", {"TRUE"})}),
         mal->modify(nx, {mod_replace("devicepwRevoked", {"TRUE"})}));
    same("relabel", mal->modify(ex, {mod_replace("devicepwLabel", {"x"})}),
         mal->modify(nx, {mod_replace("devicepwLabel", {"x"})}));
    same("delete", mal->del(ex), mal->del(nx));
    same("password modify", mal->passwd(ex).res, mal->passwd(nx).res);
    same("add the same id", mal->add(ex, device_attrs("b1")), mal->add(nx, device_attrs("nosuch")));
    // below a device: the matched DN would name it
    same("search below a device", mal->search("cn=x," + ex, LDAP_SCOPE_BASE, "(objectClass=*)").res,
         mal->search("cn=x," + nx, LDAP_SCOPE_BASE, "(objectClass=*)").res, false);
    same("compare below a device", mal->compare("cn=x," + ex, "cn", "x"), mal->compare("cn=x," + nx, "cn", "x"), false);
    const AddAttrs role = {{"objectClass", {"organizationalRole"}}, {"cn", {"x"}}};
    same("add below a device", mal->add("cn=x," + ex, role), mal->add("cn=x," + nx, role), false);
    // the size limit counts entries a search matched: dropped devices must not count
    auto s_ex = search_raw(*mal, demo::mailboxes, LDAP_SCOPE_SUBTREE, "(|(mail=alice@example.com)(devicepwId=b1))", "", 1);
    auto s_nx = search_raw(*mal, demo::mailboxes, LDAP_SCOPE_SUBTREE, "(|(mail=alice@example.com)(devicepwId=nosuch))", "",
                           1);
    BOOST_CHECK_MESSAGE(s_ex.res.rc == s_nx.res.rc && s_ex.dns.size() == s_nx.dns.size(),
                        "size-limited search: existing device " << s_ex.res.rc << " (" << s_ex.dns.size()
                                                                << " entries) / no such device " << s_nx.res.rc << " ("
                                                                << s_nx.dns.size() << " entries)");
}

// Point 3: a person's own password never binds as a mailbox, and fails exactly like a wrong one.
void own_password_never_binds_as_the_mailbox(Acls acls) {
    People d(people_options(acls));
    auto bob = d.bob();
    d.person_adds(*bob, "b1", demo::alice);
    const std::string s = Dpw::gen_secret_with(*bob, "b1");
    const Result wrong = d.bind(demo::alice, "wrongpassword");
    CHECK_RC(wrong, LDAP_INVALID_CREDENTIALS);
    for (auto [mb, pw] : {std::pair{demo::alice, demo::bobpw}, std::pair{demo::alice, demo::erinpw},
                          std::pair{demo::frank, demo::bobpw}, std::pair{demo::alice, mallorypw}}) {
        Result r = d.bind(mb, pw);
        CHECK_RC(r, LDAP_INVALID_CREDENTIALS);
        BOOST_TEST(r.diag == wrong.diag);
        BOOST_TEST(r.matched == wrong.matched);
    }
    // also when the mailbox has a primary password of its own
    REQUIRE_RC(d.slapd.root()->modify(demo::frank, {mod_add("userPassword", {"frankpw"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::frank, demo::bobpw), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::frank, "frankpw"), LDAP_SUCCESS);
    // the device does bind, and the person still binds as themselves
    CHECK_RC(d.bind(demo::alice, s), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::bob, demo::bobpw), LDAP_SUCCESS);
}

// Point 5: removing a person from a mailbox revokes the devices they own there, and nothing
// else; in each of the three ways a modify can remove a value.
void removal_revokes_only_their_devices_there(Acls acls) {
    People d(people_options(acls));
    auto bob = d.bob(), erin = d.erin(), adm = d.adm();
    d.person_adds(*bob, "b1", demo::alice);
    d.person_adds(*bob, "b2", demo::frank);
    d.person_adds(*erin, "e1", demo::alice);
    d.person_adds(*adm, "ad1", demo::alice);  // an administrator's own device
    const std::string b1 = Dpw::gen_secret_with(*bob, "b1"), b2 = Dpw::gen_secret_with(*bob, "b2", demo::frank),
                      e1 = Dpw::gen_secret_with(*erin, "e1"), ad1 = Dpw::gen_secret_with(*adm, "ad1");

    // 1. delete one value: bob leaves alice
    REQUIRE_RC(adm->modify(demo::alice, {mod_delete("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    BOOST_TEST(d.revoked("b1", demo::alice));
    CHECK_RC(d.bind(demo::alice, b1), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, e1), LDAP_SUCCESS);   // erin's device on the same mailbox
    CHECK_RC(d.bind(demo::frank, b2), LDAP_SUCCESS);   // bob's device on the other mailbox
    CHECK_RC(d.bind(demo::alice, ad1), LDAP_SUCCESS);  // the administrator's
    BOOST_TEST(!d.revoked("e1", demo::alice));
    BOOST_TEST(!d.revoked("b2", demo::frank));
    // and bob is a stranger to alice now
    CHECK_RC(bob->search(demo::alice, LDAP_SCOPE_BASE, "(objectClass=*)").res, LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->add(demo::device_dn("b3"), device_attrs("b3")), LDAP_INSUFFICIENT_ACCESS);
    CHECK_LOGGED(d, "devicepw USERS", "mailbox=\"" + demo::alice, "removed=\"" + demo::bob, "by=\"" + admin);
    CHECK_LOGGED(d, "devicepw REVOKE", "device=\"" + demo::device_dn("b1"), "reason=user-removed", "by=\"" + admin);
    check_all_by(d.slapd.log(), {"devicepw REVOKE", "device=\"" + demo::device_dn("b1")}, admin);

    // 2. replace: frank's people become erin alone, which removes bob
    REQUIRE_RC(adm->modify(demo::frank, {mod_replace("devicepwUser", {demo::erin})}), LDAP_SUCCESS);
    BOOST_TEST(d.revoked("b2", demo::frank));
    CHECK_RC(d.bind(demo::frank, b2), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, e1), LDAP_SUCCESS);
    CHECK_LOGGED(d, "devicepw USERS", "mailbox=\"" + demo::frank, "added=\"" + demo::erin, "removed=\"" + demo::bob,
                 "by=\"" + admin);

    // 3. delete every value: erin leaves alice, her device goes; the administrator's stays
    REQUIRE_RC(adm->modify(demo::alice, {mod_delete("devicepwUser")}), LDAP_SUCCESS);
    BOOST_TEST(d.revoked("e1", demo::alice));
    CHECK_RC(d.bind(demo::alice, e1), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, ad1), LDAP_SUCCESS);
    BOOST_TEST(!d.revoked("ad1", demo::alice));
    BOOST_TEST(d.users_of(demo::alice).empty());
}

// Point 5: deleting the person does the same on every mailbox they were on.
void deleting_a_person_revokes_everywhere(Acls acls) {
    People d(people_options(acls));
    auto bob = d.bob(), erin = d.erin(), adm = d.adm();
    d.person_adds(*bob, "b1", demo::alice);
    d.person_adds(*bob, "b2", demo::frank);
    d.person_adds(*erin, "e1", demo::alice);
    const std::string b1 = Dpw::gen_secret_with(*bob, "b1"), b2 = Dpw::gen_secret_with(*bob, "b2", demo::frank),
                      e1 = Dpw::gen_secret_with(*erin, "e1");
    bob.reset();
    REQUIRE_RC(adm->del(demo::bob), LDAP_SUCCESS);
    BOOST_TEST(d.revoked("b1", demo::alice));
    BOOST_TEST(d.revoked("b2", demo::frank));
    CHECK_RC(d.bind(demo::alice, b1), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::frank, b2), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, e1), LDAP_SUCCESS);
    BOOST_TEST(!d.revoked("e1", demo::alice));
    BOOST_TEST(!has_dn(d.users_of(demo::alice), demo::bob));
    BOOST_TEST(has_dn(d.users_of(demo::alice), demo::erin));
    BOOST_TEST(d.users_of(demo::frank).empty());
    CHECK_LOGGED(d, "devicepw USERS", "mailbox=\"" + lower(demo::alice), "removed=\"" + lower(demo::bob),
                 "reason=person-deleted", "by=\"" + admin);
    CHECK_LOGGED(d, "devicepw USERS", "mailbox=\"" + lower(demo::frank), "removed=\"" + lower(demo::bob),
                 "reason=person-deleted", "by=\"" + admin);
    // the devices' revocations, and the people lists' changes, are the deleting administrator's
    for (auto dev : {demo::device_dn("b1"), demo::device_dn("b2", demo::frank)})
        check_all_by(d.slapd.log(), {"devicepw REVOKE", "device=\"" + lower(dev)}, admin);
    check_all_by(d.slapd.log(), {"devicepw USERS", "removed=\"" + lower(demo::bob)}, admin);
    // a person created again under the same DN gets nothing back
    REQUIRE_RC(d.slapd.root()->add(demo::bob, {{"objectClass", {"inetOrgPerson"}}, {"uid", {"bob"}}, {"cn", {"bob"}},
                                               {"sn", {"Person"}}, {"userPassword", {demo::bobpw}}}),
               LDAP_SUCCESS);
    CHECK_RC(d.bob()->search(demo::alice, LDAP_SCOPE_BASE, "(objectClass=*)").res, LDAP_INSUFFICIENT_ACCESS);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(users)

// ---- point 1 and 2 ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(people_manage_their_own_devices_recommended_acls) {
    people_manage_their_own_devices(Acls::Recommended);
}
BOOST_AUTO_TEST_CASE(people_manage_their_own_devices_whatever_the_acls) {
    people_manage_their_own_devices(Acls::Permissive);
}
BOOST_AUTO_TEST_CASE(reads_are_for_the_mailbox_people_recommended_acls) {
    reads_are_for_the_mailbox_people(Acls::Recommended);
}
BOOST_AUTO_TEST_CASE(reads_are_for_the_mailbox_people_whatever_the_acls) {
    reads_are_for_the_mailbox_people(Acls::Permissive);
}
BOOST_AUTO_TEST_CASE(unlisted_writes_reveal_nothing_recommended_acls) {
    unlisted_writes_reveal_nothing(Acls::Recommended);
}
BOOST_AUTO_TEST_CASE(unlisted_writes_reveal_nothing_whatever_the_acls) {
    unlisted_writes_reveal_nothing(Acls::Permissive);
}

// ---- point 3 --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(own_password_never_binds_as_the_mailbox_recommended_acls) {
    own_password_never_binds_as_the_mailbox(Acls::Recommended);
}
BOOST_AUTO_TEST_CASE(own_password_never_binds_as_the_mailbox_whatever_the_acls) {
    own_password_never_binds_as_the_mailbox(Acls::Permissive);
}

// ---- point 4: Proxied Authorization ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(listed_people_act_as_the_mailbox_through_proxied_authorization) {
    People d(people_options(Acls::Recommended));
    auto bob = d.bob(), erin = d.erin(), mal = d.mal(), adm = d.adm();
    d.person_adds(*bob, "b1", demo::alice);
    Dpw::gen_secret_with(*bob, "b1");

    // ldapwhoami -e '!authzid=dn:<mailbox>' while bound as themselves
    for (auto [c, mb] : {std::pair{bob.get(), demo::alice}, std::pair{bob.get(), demo::frank},
                         std::pair{erin.get(), demo::alice}}) {
        Raw w = whoami_as(*c, mb);
        CHECK_RC(w.res, LDAP_SUCCESS);
        BOOST_TEST(lower(w.data.value_or("")) == lower("dn:" + mb));
    }
    BOOST_TEST(lower(bob->whoami()) == lower("dn:" + demo::bob));  // without the control: himself
    // unlisted: refused
    for (auto [c, mb] : {std::pair{erin.get(), demo::frank}, std::pair{mal.get(), demo::alice},
                         std::pair{mal.get(), demo::frank}}) {
        Raw w = whoami_as(*c, mb);
        CHECK_RC(w.res, LDAP_PROXIED_AUTHORIZATION_DENIED);
        BOOST_TEST(!w.data.has_value());
    }
    // nor may a person act as another person, or as a device
    CHECK_RC(whoami_as(*bob, demo::erin).res, LDAP_PROXIED_AUTHORIZATION_DENIED);
    CHECK_RC(whoami_as(*bob, demo::device_dn("b1")).res, LDAP_PROXIED_AUTHORIZATION_DENIED);

    // a webmail back end reads the mailbox as the mailbox (its devices too, never secrets)
    Raw s = search_raw(*bob, demo::alice, LDAP_SCOPE_SUBTREE, "(objectClass=*)", demo::alice);
    CHECK_RC(s.res, LDAP_SUCCESS);
    BOOST_TEST(has_dn(s.dns, demo::alice));
    BOOST_TEST(has_dn(s.dns, demo::device_dn("b1")));
    for (auto &e : s.entries) BOOST_TEST(!e.has("devicepwSecret"));
    CHECK_RC(search_raw(*mal, demo::alice, LDAP_SCOPE_SUBTREE, "(objectClass=*)", demo::alice).res,
             LDAP_PROXIED_AUTHORIZATION_DENIED);
    // acting as the mailbox mints no device secret (the mailbox cannot)
    CHECK_RC(passwd_as(*bob, demo::device_dn("b1"), demo::alice).res, LDAP_INSUFFICIENT_ACCESS);

    // a mailbox's own authzFrom is the site's: it decides instead of the people list
    REQUIRE_RC(d.slapd.root()->modify(demo::frank, {mod_add("authzFrom", {"dn:" + mallory})}), LDAP_SUCCESS);
    CHECK_RC(whoami_as(*mal, demo::frank).res, LDAP_SUCCESS);
    CHECK_RC(whoami_as(*bob, demo::frank).res, LDAP_PROXIED_AUTHORIZATION_DENIED);
    // nothing is stored: the mailbox entry has no authzFrom of its own
    auto a = d.slapd.root()->read(demo::alice, {"authzFrom"});
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(!a->has("authzFrom"));

    // taken off the mailbox: refused from the next operation on
    REQUIRE_RC(adm->modify(demo::alice, {mod_delete("devicepwUser", {demo::erin})}), LDAP_SUCCESS);
    CHECK_RC(whoami_as(*erin, demo::alice).res, LDAP_PROXIED_AUTHORIZATION_DENIED);
    CHECK_RC(whoami_as(*bob, demo::alice).res, LDAP_SUCCESS);
}

// slapd evaluates authzFrom only under `authz-policy from` (or any/all): without it nobody
// proxies. And it reads the mailbox's authzFrom with the requester's "auth" access: where no
// ACL grants it, nobody proxies (fail closed). The recommended ACLs grant it explicitly
// (`by users auth`: the values decide who matches); a person's read access to the mailbox
// would include it anyway.
BOOST_AUTO_TEST_CASE(proxied_authorization_needs_authz_policy_and_auth_on_authzfrom) {
    {
        SlapdOptions o = people_options(Acls::Recommended);
        o.global_directives.clear();
        People d(o);
        CHECK_RC(whoami_as(*d.bob(), demo::alice).res, LDAP_PROXIED_AUTHORIZATION_DENIED);
    }
    {
        SlapdOptions o = people_options(Acls::Recommended);
        o.acl = recommended_acl(false);
        o.acl.insert(o.acl.begin(), "access to attrs=authzFrom by * none");
        People d(o);
        CHECK_RC(whoami_as(*d.bob(), demo::alice).res, LDAP_PROXIED_AUTHORIZATION_DENIED);
    }
    {   // the people's read access to their mailbox includes auth: that is enough, too
        SlapdOptions o = people_options(Acls::Recommended);
        o.acl = recommended_acl(false);
        People d(o);
        CHECK_RC(whoami_as(*d.bob(), demo::alice).res, LDAP_SUCCESS);
        CHECK_RC(whoami_as(*d.mal(), demo::alice).res, LDAP_PROXIED_AUTHORIZATION_DENIED);
    }
}

// ---- point 5 --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(removal_revokes_only_their_devices_there_recommended_acls) {
    removal_revokes_only_their_devices_there(Acls::Recommended);
}
BOOST_AUTO_TEST_CASE(removal_revokes_only_their_devices_there_whatever_the_acls) {
    removal_revokes_only_their_devices_there(Acls::Permissive);
}
BOOST_AUTO_TEST_CASE(deleting_a_person_revokes_everywhere_recommended_acls) {
    deleting_a_person_revokes_everywhere(Acls::Recommended);
}
BOOST_AUTO_TEST_CASE(deleting_a_person_revokes_everywhere_whatever_the_acls) {
    deleting_a_person_revokes_everywhere(Acls::Permissive);
}

// ---- point 6: what the devicepw tool needs from the server ----------------------------------

// `devicepw mailbox list --user <person>`: a search for (devicepwUser=<person>) under the
// mailboxes finds exactly the mailboxes the person may use, as the person and as an admin.
BOOST_AUTO_TEST_CASE(people_find_the_mailboxes_they_may_use) {
    People d(people_options(Acls::Recommended));
    auto mailboxes_of = [&](Conn &c, const std::string &person) {
        auto r = c.search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(devicepwUser=" + person + ")", {"mail"});
        CHECK_RC(r.res, LDAP_SUCCESS);
        std::vector<std::string> out;
        for (auto &e : r.entries) out.push_back(lower(e.dn));
        std::sort(out.begin(), out.end());
        return out;
    };
    const std::vector<std::string> both = {lower(demo::alice), lower(demo::frank)}, alice = {lower(demo::alice)};
    BOOST_TEST(mailboxes_of(*d.bob(), demo::bob) == both, boost::test_tools::per_element());
    BOOST_TEST(mailboxes_of(*d.erin(), demo::erin) == alice, boost::test_tools::per_element());
    BOOST_TEST(mailboxes_of(*d.mal(), mallory).empty());
    BOOST_TEST(mailboxes_of(*d.adm(), demo::bob) == both, boost::test_tools::per_element());
    // a person cannot list someone else's mailboxes beyond the ones they share
    BOOST_TEST(mailboxes_of(*d.erin(), demo::bob) == alice, boost::test_tools::per_element());
    BOOST_TEST(mailboxes_of(*d.mal(), demo::bob).empty());
    // and reads their own entry
    BOOST_TEST(d.bob()->read(demo::bob, {"cn"}).has_value());
    BOOST_TEST(!d.bob()->read(demo::erin, {"cn"}).has_value());
}

// The mail service account finds mailboxes by mail address and sees no device.
BOOST_AUTO_TEST_CASE(mail_service_finds_mailboxes_not_devices) {
    People d(people_options(Acls::Recommended));
    d.person_adds(*d.bob(), "b1", demo::alice);
    auto svc = d.slapd.conn_as(dovecot, dovecotpw);
    auto r = svc->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(&(objectClass=devicepwMailbox)(mail=alice@example.com))",
                         {"mail", "uid"});
    CHECK_RC(r.res, LDAP_SUCCESS);
    BOOST_REQUIRE(r.entries.size() == 1u);
    BOOST_TEST(lower(r.entries[0].dn) == lower(demo::alice));
    auto all = svc->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(objectClass=*)");
    for (auto &e : all.entries) BOOST_TEST(!contains_ci(e.dn, "devicepwId="), "the service sees " << e.dn);
    // reading a mailbox entry by its DN is for its people (the overlay decides, not the ACLs)
    CHECK_RC(svc->search(demo::alice, LDAP_SCOPE_BASE, "(objectClass=*)").res, LDAP_INSUFFICIENT_ACCESS);
}

// ---- point 7 --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(people_changes_are_logged_with_who_did_it) {
    People d(people_options(Acls::Recommended));
    auto bob = d.bob(), mal = d.mal(), adm = d.adm();
    REQUIRE_RC(adm->modify(demo::alice, {mod_add("devicepwUser", {mallory})}), LDAP_SUCCESS);
    CHECK_LOGGED(d, "devicepw USERS", "mailbox=\"" + demo::alice, "added=\"" + lower(mallory), "removed=\"\"",
                 "by=\"" + admin);
    d.person_adds(*bob, "b1", demo::alice);
    CHECK_LOGGED(d, "devicepw ADD", "device=\"" + demo::device_dn("b1"), "by=\"" + demo::bob, "as=person");
    d.person_adds(*adm, "ad1", demo::alice);
    CHECK_LOGGED(d, "devicepw ADD", "device=\"" + demo::device_dn("ad1"), "by=\"" + admin, "as=admin");
    const std::string s = Dpw::gen_secret_with(*bob, "b1");
    CHECK_LOGGED(d, "devicepw PASSMOD", demo::device_dn("b1"), "by=\"" + demo::bob, "outcome=secret-generated");
    BOOST_TEST(d.slapd.log().find(s) == std::string::npos);
    BOOST_TEST(d.slapd.log().find(strip_dashes(s)) == std::string::npos);
    REQUIRE_RC(adm->modify(demo::alice, {mod_delete("devicepwUser", {mallory})}), LDAP_SUCCESS);
    BOOST_TEST(mal->passwd(demo::device_dn("b1")).res.rc == LDAP_INSUFFICIENT_ACCESS);
    CHECK_LOGGED(d, "devicepw PASSMOD", demo::device_dn("b1"), "by=\"" + mallory, "refused:");
    CHECK_RC(bob->modify(demo::device_dn("b1"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    CHECK_LOGGED(d, "devicepw REVOKE", "device=\"" + demo::device_dn("b1"), "by=\"" + demo::bob);
}

// Whether a mailbox has children is whether it has devices: in a broad lookup (a filter
// no device can match, like a mail service's), hasSubordinates is shown only to the
// mailbox's people, whatever the ACLs grant.
BOOST_AUTO_TEST_CASE(has_subordinates_is_for_the_mailbox_people) {
    People d(people_options(Acls::Permissive));
    d.add_device("a1");                  // alice: bob and erin are its people
    d.add_device("f1", "Mac", demo::frank);  // frank: bob only
    struct Who {
        std::string what;
        std::unique_ptr<Conn> conn;
        bool alice, frank;  // sees hasSubordinates on these mailboxes
    };
    std::vector<Who> who;
    who.push_back({"bob", d.bob(), true, true});
    who.push_back({"erin", d.erin(), true, false});
    who.push_back({"mallory", d.mal(), false, false});
    who.push_back({"the rootdn", d.slapd.root(), true, true});
    for (auto &w : who) {
        BOOST_TEST_CONTEXT(w.what) {
            auto sr = w.conn->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(mail=*)", {"mail", "hasSubordinates"});
            CHECK_RC(sr.res, LDAP_SUCCESS);
            const Entry *a = sr.find(demo::alice);
            const Entry *f = sr.find(demo::frank);
            BOOST_REQUIRE(a != nullptr);
            BOOST_REQUIRE(f != nullptr);
            BOOST_TEST(a->has("hassubordinates") == w.alice);
            BOOST_TEST(f->has("hassubordinates") == w.frank);
            if (w.alice) BOOST_TEST(a->one("hassubordinates") == "TRUE");
            // and no probing it through a filter: to those who may not see a mailbox's
            // devices it answers as if it had none; to its people, truly
            const size_t with = size_t(w.alice) + size_t(w.frank);
            auto probe = w.conn->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(&(mail=*)(hasSubordinates=TRUE))",
                                        {"1.1"});
            BOOST_TEST(probe.entries.size() == with);
            auto negated = w.conn->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(&(mail=*)(hasSubordinates=FALSE))",
                                          {"1.1"});
            BOOST_TEST(negated.entries.size() == 2u - with);
            auto notted = w.conn->search(demo::mailboxes, LDAP_SCOPE_SUBTREE, "(&(mail=*)(!(hasSubordinates=TRUE)))",
                                         {"1.1"});
            BOOST_TEST(notted.entries.size() == 2u - with);
            // other entries answer as always: ou=mailboxes has children
            auto ou = w.conn->search(demo::base, LDAP_SCOPE_ONELEVEL, "(&(ou=mailboxes)(hasSubordinates=TRUE))",
                                     {"1.1"});
            BOOST_TEST(ou.entries.size() == 1u);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
