// devicepwSecret: who can see it, who can write it, restore by the rootdn, and the
// server-set attributes devicepwLastUsed / devicepwRevokedAt.
#include "test_util.h"

using namespace dpwtest;

namespace {

SlapdOptions privileged_options(std::vector<std::string> acl) {
    SlapdOptions o;
    o.acl = std::move(acl);
    o.overlay_directives = {"devicepw-admin " + demo::carol, "devicepw-admin " + demo::devadmins,
                            "devicepw-secret-reader " + demo::erin};
    return o;
}

AddAttrs device_attrs(const std::string &id, const std::string &label = "Phone") {
    return {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}};
}

const std::string kHex64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

}  // namespace

BOOST_AUTO_TEST_SUITE(secret)

BOOST_AUTO_TEST_CASE(secret_is_visible_only_to_rootdn_and_secret_readers) {
    for (auto acl : {std::vector<std::string>{"access to * by * read"},
                     std::vector<std::string>{"access to * by * manage"}}) {
        BOOST_TEST_CONTEXT("ACL " << acl[0]) {
            Dpw d(privileged_options(acl));
            const std::string dev = d.add_device("k3x9");
            const std::string secret = d.gen_secret("k3x9");
            const std::string stored = d.stored_secret("k3x9");
            BOOST_REQUIRE(!stored.empty());

            struct Who {
                std::string what;
                std::unique_ptr<Conn> conn;
                bool sees;
                // Whether the test insists on reading the entry itself: the admins and the
                // mailbox (and the privileged) must, so that hiding the secret is proven to
                // be per attribute, not by hiding the whole device. For anonymous and an
                // unrelated person only the secret's invisibility is asserted.
                bool must_read_entry;
            };
            std::vector<Who> who;
            who.push_back({"anonymous", d.slapd.conn(), false, false});
            who.push_back({"a person", d.slapd.conn_as(demo::bob, demo::bobpw), false, false});
            who.push_back({"an admin (by DN)", d.slapd.conn_as(demo::carol, demo::carolpw), false, true});
            who.push_back({"an admin (by group)", d.slapd.conn_as(demo::dave, demo::davepw), false, true});
            who.push_back({"the mailbox bound by device secret", d.slapd.conn_as(demo::alice, secret), false, true});
            who.push_back({"a secret reader", d.slapd.conn_as(demo::erin, demo::erinpw), true, true});
            who.push_back({"the rootdn", d.slapd.root(), true, true});
            for (auto &w : who) {
                BOOST_TEST_CONTEXT(w.what) {
                    auto sr = w.conn->search(dev, LDAP_SCOPE_BASE, "(objectClass=*)", {"*"});
                    if (w.must_read_entry) {
                        BOOST_REQUIRE_MESSAGE(sr.res.rc == LDAP_SUCCESS && sr.entries.size() == 1,
                                              "reading the device: rc " << sr.res.rc << " \"" << sr.res.diag
                                                                        << "\", " << sr.entries.size() << " entries");
                        BOOST_TEST(sr.entries[0].one("devicepwId") == "k3x9");
                    }
                    for (auto &e : sr.entries) BOOST_TEST(e.has("devicepwSecret") == w.sees);
                    auto asked = w.conn->search(dev, LDAP_SCOPE_BASE, "(objectClass=*)", {"devicepwSecret"});
                    if (w.sees) {
                        BOOST_REQUIRE(asked.entries.size() == 1u);
                        BOOST_TEST(asked.entries[0].one("devicepwSecret") == stored);
                    } else {
                        for (auto &e : asked.entries) BOOST_TEST(!e.has("devicepwSecret"));
                    }
                    // a subtree search returns the secret nowhere
                    auto sub = w.conn->search(demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"*"});
                    for (auto &e : sub.entries)
                        if (!w.sees) BOOST_TEST(!e.has("devicepwSecret"), "secret in " << e.dn);
                    auto any = w.conn->search(demo::base, LDAP_SCOPE_SUBTREE, "(devicepwSecret=*)", {"1.1"});
                    BOOST_TEST(any.res.rc == LDAP_SUCCESS);
                    BOOST_TEST(any.entries.size() == (w.sees ? 1u : 0u));
                    auto exact = w.conn->search(demo::base, LDAP_SCOPE_SUBTREE,
                                                "(devicepwSecret=" + stored + ")", {"1.1"});
                    BOOST_TEST(exact.entries.size() == (w.sees ? 1u : 0u));
                    Result cmp = w.conn->compare(dev, "devicepwSecret", stored);
                    if (w.sees) {
                        BOOST_TEST(cmp.rc == LDAP_COMPARE_TRUE, "compare rc " << cmp.rc);
                    } else {
                        BOOST_TEST(cmp.rc != LDAP_COMPARE_TRUE, "compare rc " << cmp.rc);
                    }
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(non_rootdn_cannot_write_the_secret) {
    Dpw d(privileged_options({"access to * by * manage"}));
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    const std::string stored = d.stored_secret("k3x9");
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);  // an admin, with manage ACLs

    auto attrs = device_attrs("p8w2");
    attrs.push_back({"devicepwSecret", {stored}});
    Result r = carol->add(demo::device_dn("p8w2"), attrs);
    BOOST_TEST(r.rc == LDAP_UNWILLING_TO_PERFORM, "add: rc " << r.rc << " " << r.diag);
    BOOST_TEST(contains_ci(r.diag, "ldappasswd"), "add: diag \"" << r.diag << "\"");
    BOOST_TEST(!d.slapd.root()->read(demo::device_dn("p8w2")).has_value());

    d.add_device("p8w2");
    for (auto m : {mod_replace("devicepwSecret", {stored}), mod_add("devicepwSecret", {stored}),
                   mod_delete("devicepwSecret")}) {
        const std::string dn = m.op == LDAP_MOD_ADD ? demo::device_dn("p8w2") : demo::device_dn("k3x9");
        BOOST_TEST_CONTEXT("modify op " << m.op << " on " << dn) {
            Result mr = carol->modify(dn, {m});
            BOOST_TEST(mr.rc == LDAP_UNWILLING_TO_PERFORM, "rc " << mr.rc << " " << mr.diag);
            BOOST_TEST(contains_ci(mr.diag, "ldappasswd"), "diag \"" << mr.diag << "\"");
        }
    }
    BOOST_TEST(d.stored_secret("k3x9") == stored);
    BOOST_TEST(d.stored_secret("p8w2") == "");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    // the mailbox itself (bound by its device secret) cannot either
    auto alice = d.slapd.conn_as(demo::alice, secret);
    Result ar = alice->modify(demo::device_dn("p8w2"), {mod_replace("devicepwSecret", {stored})});
    BOOST_TEST((ar.rc == LDAP_UNWILLING_TO_PERFORM || ar.rc == LDAP_INSUFFICIENT_ACCESS),
               "rc " << ar.rc << " " << ar.diag);
    BOOST_TEST(d.stored_secret("p8w2") == "");
}

BOOST_AUTO_TEST_CASE(rootdn_restores_a_stored_secret) {
    Dpw d;
    d.add_device("k3x9", "Restored iPhone");
    const std::string secret = d.gen_secret("k3x9");
    auto root = d.slapd.root();
    auto e = root->read(demo::device_dn("k3x9"), {"*"});
    BOOST_REQUIRE(e.has_value());
    const std::string stored = e->one("devicepwSecret");
    BOOST_TEST(stored.rfind("dpw1$k1$", 0) == 0, "stored value \"" << stored << "\"");
    BOOST_TEST(stored.size() == std::string("dpw1$k1$").size() + 64);
    REQUIRE_RC(root->del(demo::device_dn("k3x9")), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
    AddAttrs restore;
    for (auto &[a, v] : e->attrs) restore.push_back({a, v});
    REQUIRE_RC(root->add(demo::device_dn("k3x9"), restore), LDAP_SUCCESS);
    BOOST_TEST(d.stored_secret("k3x9") == stored);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    // a modify by the rootdn with a valid stored value also works (replication)
    d.add_device("p8w2");
    const std::string other = d.gen_secret("p8w2");
    const std::string other_stored = d.stored_secret("p8w2");
    REQUIRE_RC(root->modify(demo::device_dn("k3x9"), {mod_replace("devicepwSecret", {"dpw1$k1$" + kHex64})}),
               LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
    REQUIRE_RC(root->modify(demo::device_dn("k3x9"), {mod_replace("devicepwSecret", {stored})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, other), LDAP_SUCCESS);
    BOOST_TEST(d.stored_secret("p8w2") == other_stored);
}

BOOST_AUTO_TEST_CASE(rootdn_malformed_secret_is_invalid_syntax) {
    Dpw d;
    d.add_device("k3x9");
    auto root = d.slapd.root();
    const std::vector<std::string> bad = {
        "garbage",
        "dpw1$k1$" + kHex64.substr(0, 63),
        "dpw1$k1$" + kHex64 + "00",
        "dpw1$k1$" + kHex64.substr(0, 63) + "g",
        "dpw2$k1$" + kHex64,
        "dpw1$$" + kHex64,
        "dpw1$K_1$" + kHex64,
        "{SSHA}abcdefgh",
    };
    for (auto &v : bad) {
        BOOST_TEST_CONTEXT("value \"" << v << "\"") {
            Result m = root->modify(demo::device_dn("k3x9"), {mod_replace("devicepwSecret", {v})});
            BOOST_TEST(m.rc == LDAP_INVALID_SYNTAX, "modify rc " << m.rc << " " << m.diag);
            auto attrs = device_attrs("p8w2");
            attrs.push_back({"devicepwSecret", {v}});
            Result a = root->add(demo::device_dn("p8w2"), attrs);
            BOOST_TEST(a.rc == LDAP_INVALID_SYNTAX, "add rc " << a.rc << " " << a.diag);
            if (a.rc == LDAP_SUCCESS) root->del(demo::device_dn("p8w2"));
        }
    }
    BOOST_TEST(d.stored_secret("k3x9") == "");
}

BOOST_AUTO_TEST_CASE(stored_hash_copied_to_another_device_does_not_authenticate_there) {
    Dpw d;
    d.add_device("aaa");
    d.add_device("bbb");
    const std::string a_secret = d.gen_secret("aaa");
    const std::string b_secret = d.gen_secret("bbb");
    const std::string a_stored = d.stored_secret("aaa");
    auto root = d.slapd.root();
    REQUIRE_RC(root->modify(demo::device_dn("bbb"), {mod_replace("devicepwSecret", {a_stored})}), LDAP_SUCCESS);
    BOOST_TEST(d.stored_secret("bbb") == a_stored);
    // A's random part under B's id does not match A's hash stored on B
    const std::string a_random_as_b = "bbb" + a_secret.substr(3);
    CHECK_RC(d.bind(demo::alice, a_random_as_b), LDAP_INVALID_CREDENTIALS);
    // B's own old secret no longer matches
    CHECK_RC(d.bind(demo::alice, b_secret), LDAP_INVALID_CREDENTIALS);
    // A's secret names A, so it still works while A exists ...
    CHECK_RC(d.bind(demo::alice, a_secret), LDAP_SUCCESS);
    // ... and not once A is gone, although B holds A's hash
    REQUIRE_RC(root->del(demo::device_dn("aaa")), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, a_secret), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, a_random_as_b), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(server_set_attributes_are_written_by_the_server_only) {
    Dpw d(privileged_options({"access to * by * manage"}));
    d.add_device("k3x9");
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    for (auto attr : {"devicepwLastUsed", "devicepwRevokedAt"}) {
        BOOST_TEST_CONTEXT(attr) {
            Result m = carol->modify(demo::device_dn("k3x9"), {mod_replace(attr, {"20200101000000Z"})});
            BOOST_TEST(m.rc == LDAP_UNWILLING_TO_PERFORM, "modify rc " << m.rc << " " << m.diag);
            auto attrs = device_attrs("p8w2");
            attrs.push_back({attr, {"20200101000000Z"}});
            Result a = carol->add(demo::device_dn("p8w2"), attrs);
            BOOST_TEST(a.rc == LDAP_UNWILLING_TO_PERFORM, "add rc " << a.rc << " " << a.diag);
            BOOST_TEST(d.read_attr(demo::device_dn("k3x9"), attr) == "");
        }
    }
    // the rootdn may restore a revocation time (truth), never telemetry (test_telemetry.cc)
    CHECK_RC(d.slapd.root()->modify(demo::device_dn("k3x9"), {mod_replace("devicepwRevokedAt", {"20200101000000Z"})}),
             LDAP_SUCCESS);
    BOOST_TEST(d.read_attr(demo::device_dn("k3x9"), "devicepwRevokedAt") == "20200101000000Z");
    CHECK_RC(d.slapd.root()->modify(demo::device_dn("k3x9"), {mod_replace("devicepwLastUsed", {"20200101000000Z"})}),
             LDAP_UNWILLING_TO_PERFORM);
    auto attrs = device_attrs("r2");
    attrs.push_back({"devicepwRevokedAt", {"20210101000000Z"}});
    CHECK_RC(d.slapd.root()->add(demo::device_dn("r2"), attrs), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()
