// Shared helpers of the integration test suites.
#ifndef DEVICEPW_IT_TEST_UTIL_H
#define DEVICEPW_IT_TEST_UTIL_H

#include "slapd_fixture.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace dpwtest {

// A started slapd with the overlay and the demo data.
struct Dpw {
    SlapdFixture slapd;

    explicit Dpw(SlapdOptions o = {}) : slapd(std::move(o)) {
        slapd.start();
        slapd.load_demo_data();
    }

    // Add a device as the rootdn; the add must succeed.
    std::string add_device(const std::string &id, const std::string &label = "Phone",
                           const std::string &mailbox = demo::alice) {
        std::string dn = demo::device_dn(id, mailbox);
        Result r = slapd.root()->add(dn, {{"objectClass", {"devicepwDevice"}},
                                          {"devicepwId", {id}},
                                          {"devicepwLabel", {label}}});
        BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS,
                              "adding device " << dn << " failed: " << r.rc << " " << r.diag);
        return dn;
    }

    // Generate (or rotate) a device secret as the rootdn; must succeed and have the
    // documented shape.
    std::string gen_secret(const std::string &id, const std::string &mailbox = demo::alice) {
        return gen_secret_with(*slapd.root(), id, mailbox);
    }
    static std::string gen_secret_with(Conn &c, const std::string &id,
                                       const std::string &mailbox = demo::alice) {
        PasswdResult p = c.passwd(demo::device_dn(id, mailbox));
        BOOST_REQUIRE_MESSAGE(p.res.rc == LDAP_SUCCESS,
                              "password modify on device " << id << " failed: " << p.res.rc << " "
                                                           << p.res.diag);
        BOOST_REQUIRE_MESSAGE(p.genpasswd.has_value(), "password modify returned no genPasswd");
        BOOST_REQUIRE_MESSAGE(is_device_secret(*p.genpasswd, id),
                              "generated secret has the wrong shape: '" << *p.genpasswd << "'");
        return *p.genpasswd;
    }

    // Simple bind on a fresh connection.
    Result bind(const std::string &dn, const std::string &pw) { return slapd.conn()->bind(dn, pw); }
    int bind_rc(const std::string &dn, const std::string &pw) { return bind(dn, pw).rc; }

    // The stored devicepwSecret as the rootdn sees it ("" when absent).
    std::string stored_secret(const std::string &id, const std::string &mailbox = demo::alice) {
        auto e = slapd.root()->read(demo::device_dn(id, mailbox), {"devicepwSecret"});
        BOOST_REQUIRE_MESSAGE(e.has_value(), "cannot read device " << id << " as rootdn");
        auto v = e->values("devicepwSecret");
        return v.empty() ? std::string() : v[0];
    }

    std::string read_attr(const std::string &dn, const std::string &attr) {
        auto e = slapd.root()->read(dn, {attr});
        BOOST_REQUIRE_MESSAGE(e.has_value(), "cannot read " << dn << " as rootdn");
        auto v = e->values(attr);
        return v.empty() ? std::string() : v[0];
    }
};

// Poll pred until it holds or the deadline passes; returns whether it held. For
// what the server does in the background (the telemetry flush): never a fixed sleep.
template <typename Pred>
bool poll_until(Pred pred, std::chrono::milliseconds deadline = std::chrono::milliseconds(10000)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// The README's "Recommended ACLs", one slapd.conf line each, for its layout (mailboxes
// uid=...,ou=mailboxes, people under ou=people, administrators in cn=devadmins, the mail
// service cn=dovecot,ou=services). Used by the users suite and the attack matrix.
inline std::vector<std::string> recommended_acls(bool with_authzfrom_rule = true) {
    const std::string mailbox_re = "uid=[^,]+,ou=mailboxes,dc=example,dc=com";
    const std::string admins = "group.exact=\"cn=devadmins,ou=groups,dc=example,dc=com\"";
    const std::string dovecot = "cn=dovecot,ou=services,dc=example,dc=com";
    std::vector<std::string> acl = {
        // stored hashes: nobody (the overlay also strips them for everyone but the rootdn)
        "access to attrs=devicepwSecret by * none",
        // passwords: for binding only; people change their own
        "access to attrs=userPassword by self =wx by anonymous auth by * none",
    };
    if (with_authzfrom_rule) {
        // Proxied Authorization: slapd reads the target's authzFrom with "auth" access
        acl.push_back("access to attrs=authzFrom,authzTo by users auth by * none");
    }
    const std::vector<std::string> rest = {
        // nothing below a device
        "access to dn.regex=\"^devicepwId=[^,]+," + mailbox_re + "$\" attrs=children by * none",
        // device entries: admins; the mailbox's people (the overlay narrows writes to the
        // devices they own); the mailbox itself reads
        "access to dn.regex=\"^devicepwId=[^,]+,(" + mailbox_re + ")$\" by " + admins +
            " write by set.expand=\"[$1]/devicepwUser & user\" write by dn.exact,expand=\"$1\" read by * none",
        // adding a device under a mailbox needs write on the mailbox's children
        "access to dn.regex=\"^" + mailbox_re + "$\" attrs=children by " + admins +
            " write by set=\"this/devicepwUser & user\" write by * none",
        // mailbox entries: admins; the mailbox, its people and the mail service read
        "access to dn.regex=\"^" + mailbox_re + "$\" by " + admins +
            " write by self read by set=\"this/devicepwUser & user\" read by dn.exact=\"" + dovecot +
            "\" read by * none",
        // people: their own entry
        "access to dn.subtree=\"ou=people,dc=example,dc=com\" by " + admins + " write by self read by * none",
        // the rest of the tree (suffix, containers, groups): authenticated identities read
        "access to * by " + admins + " write by users read by * none",
    };
    acl.insert(acl.end(), rest.begin(), rest.end());
    return acl;
}

inline SlapdOptions with_acl(std::vector<std::string> acl, SlapdOptions o = {}) {
    o.acl = std::move(acl);
    return o;
}

}  // namespace dpwtest

#define CHECK_RC(expr, expected)                                                               \
    do {                                                                                       \
        ::dpwtest::Result _r = (expr);                                                         \
        BOOST_CHECK_MESSAGE(_r.rc == (expected), #expr << ": got " << _r.rc << " ("            \
                                                       << ldap_err2string(_r.rc) << ") \""     \
                                                       << _r.diag << "\", expected "          \
                                                       << (expected) << " ("                   \
                                                       << ldap_err2string(expected) << ")");   \
    } while (0)

#define REQUIRE_RC(expr, expected)                                                             \
    do {                                                                                       \
        ::dpwtest::Result _r = (expr);                                                         \
        BOOST_REQUIRE_MESSAGE(_r.rc == (expected), #expr << ": got " << _r.rc << " ("          \
                                                         << ldap_err2string(_r.rc) << ") \""   \
                                                         << _r.diag << "\", expected "        \
                                                         << (expected) << " ("                 \
                                                         << ldap_err2string(expected) << ")"); \
    } while (0)

#endif
