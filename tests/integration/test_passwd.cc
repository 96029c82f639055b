// Password Modify (RFC 3062) on device entries: generation, rotation, refusals, and who
// may do it. Password Modify on other entries stays stock slapd.
#include "test_util.h"

#include <set>

using namespace dpwtest;

namespace {
SlapdOptions admin_options() {
    SlapdOptions o;
    // ACLs grant everything to everyone: the overlay's own rules must still hold.
    o.acl = {"access to * by * manage"};
    o.overlay_directives = {"devicepw-admin " + demo::carol, "devicepw-admin " + demo::devadmins};
    return o;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(passwd)

BOOST_AUTO_TEST_CASE(generate_and_rotate) {
    Dpw d;
    d.add_device("k3x9", "iPhone");
    std::string s1 = d.gen_secret("k3x9");
    CHECK_RC(d.bind(demo::alice, s1), LDAP_SUCCESS);
    std::string s2 = d.gen_secret("k3x9");
    BOOST_TEST(s1 != s2);
    CHECK_RC(d.bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
    // a generated id of 16 characters also works
    const std::string long_id = "abcdefghijk23456";
    d.add_device(long_id);
    std::string s3 = d.gen_secret(long_id);
    CHECK_RC(d.bind(demo::alice, s3), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(secrets_are_random) {
    Dpw d;
    d.add_device("k3x9");
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) seen.insert(d.gen_secret("k3x9"));
    BOOST_TEST(seen.size() == 20u);
}

BOOST_AUTO_TEST_CASE(new_password_given_is_refused_and_changes_nothing) {
    Dpw d;
    d.add_device("k3x9");
    std::string s1 = d.gen_secret("k3x9");
    std::string stored = d.stored_secret("k3x9");
    BOOST_REQUIRE(!stored.empty());
    auto root = d.slapd.root();
    PasswdResult p = root->passwd(demo::device_dn("k3x9"), std::nullopt, std::string("k3x9-abcd-efgh-ijkm-npqr"));
    BOOST_TEST(p.res.rc == LDAP_UNWILLING_TO_PERFORM, "rc " << p.res.rc << " " << p.res.diag);
    BOOST_TEST(!p.genpasswd.has_value());
    p = root->passwd(demo::device_dn("k3x9"), s1, std::string("something else"));
    BOOST_TEST(p.res.rc == LDAP_UNWILLING_TO_PERFORM, "rc " << p.res.rc << " " << p.res.diag);
    BOOST_TEST(d.stored_secret("k3x9") == stored);
    auto e = root->read(demo::device_dn("k3x9"));
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(!e->has("userPassword"));
    CHECK_RC(d.bind(demo::alice, s1), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, "k3x9-abcd-efgh-ijkm-npqr"), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, "something else"), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(revoked_device_is_refused) {
    Dpw d;
    d.add_device("k3x9");
    std::string s1 = d.gen_secret("k3x9");
    auto root = d.slapd.root();
    REQUIRE_RC(root->modify(demo::device_dn("k3x9"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    std::string stored = d.stored_secret("k3x9");
    PasswdResult p = root->passwd(demo::device_dn("k3x9"));
    BOOST_TEST(p.res.rc == LDAP_UNWILLING_TO_PERFORM, "rc " << p.res.rc << " " << p.res.diag);
    BOOST_TEST(!p.genpasswd.has_value());
    BOOST_TEST(d.stored_secret("k3x9") == stored);
    CHECK_RC(d.bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(admins_by_dn_and_by_group_may_generate) {
    Dpw d(admin_options());
    d.add_device("k3x9");
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    std::string s1 = Dpw::gen_secret_with(*carol, "k3x9");
    CHECK_RC(d.bind(demo::alice, s1), LDAP_SUCCESS);
    auto dave = d.slapd.conn_as(demo::dave, demo::davepw);
    std::string s2 = Dpw::gen_secret_with(*dave, "k3x9");
    CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(everyone_else_gets_insufficient_access) {
    Dpw d(admin_options());
    d.add_device("k3x9");
    d.add_device("m2", "Mac", demo::frank);
    std::string secret = d.gen_secret("k3x9");
    std::string frank_secret = d.gen_secret("m2", demo::frank);
    std::string stored = d.stored_secret("k3x9");

    struct Who {
        std::string what, dn, pw;
    };
    std::vector<Who> who = {
        {"unrelated person", demo::bob, demo::bobpw},
        {"secret reader (not admin)", demo::erin, demo::erinpw},
        {"the mailbox, bound with a device secret", demo::alice, secret},
        {"another mailbox, bound with its device secret", demo::frank, frank_secret},
    };
    for (auto &w : who) {
        BOOST_TEST_CONTEXT(w.what) {
            auto c = d.slapd.conn_as(w.dn, w.pw);
            PasswdResult p = c->passwd(demo::device_dn("k3x9"));
            BOOST_TEST(p.res.rc == LDAP_INSUFFICIENT_ACCESS, "rc " << p.res.rc << " " << p.res.diag);
            BOOST_TEST(!p.genpasswd.has_value());
            // the mailbox may not mint a new device secret for itself either
            PasswdResult p2 = c->passwd(demo::device_dn("m2", demo::frank));
            BOOST_TEST(p2.res.rc == LDAP_INSUFFICIENT_ACCESS, "rc " << p2.res.rc << " " << p2.res.diag);
        }
    }
    BOOST_TEST(d.stored_secret("k3x9") == stored);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::frank, frank_secret), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(non_device_entries_are_stock) {
    SlapdOptions o = admin_options();
    o.acl = {"access to attrs=userPassword by self write by anonymous auth by * none", "access to * by * read"};
    Dpw d(o);
    // rootdn, no new password: slapd generates one (8 characters) for a person
    PasswdResult p = d.slapd.root()->passwd(demo::bob);
    BOOST_REQUIRE(p.res.rc == LDAP_SUCCESS);
    BOOST_REQUIRE(p.genpasswd.has_value());
    BOOST_TEST(p.genpasswd->size() == 8u);
    CHECK_RC(d.bind(demo::bob, *p.genpasswd), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::bob, demo::bobpw), LDAP_INVALID_CREDENTIALS);
    // a person changes their own password with a given new one
    auto erin = d.slapd.conn_as(demo::erin, demo::erinpw);
    PasswdResult p2 = erin->passwd(demo::erin, demo::erinpw, std::string("erin-new"));
    BOOST_TEST(p2.res.rc == LDAP_SUCCESS, "rc " << p2.res.rc << " " << p2.res.diag);
    BOOST_TEST(!p2.genpasswd.has_value());
    CHECK_RC(d.bind(demo::erin, "erin-new"), LDAP_SUCCESS);
    // and the mailbox entry itself (not a device) is stock too
    PasswdResult p3 = d.slapd.root()->passwd(demo::frank, std::nullopt, std::string("frankpw"));
    BOOST_TEST(p3.res.rc == LDAP_SUCCESS, "rc " << p3.res.rc << " " << p3.res.diag);
    CHECK_RC(d.bind(demo::frank, "frankpw"), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()
