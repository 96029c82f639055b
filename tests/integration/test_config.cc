// Configuration: every directive in slapd.conf, after slaptest -f -F conversion, from a
// cn=config LDIF, and changed at run time; the key file's startup checks; key rotation.
#include "test_util.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <sys/stat.h>

using namespace dpwtest;

namespace {

std::set<std::string> lower_set(const std::vector<std::string> &v) {
    std::set<std::string> s;
    for (auto &x : v) s.insert(lower(x));
    return s;
}

std::string slurp(const std::string &p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const char *mode_name(ConfigMode m) {
    switch (m) {
    case ConfigMode::SlapdConf: return "slapd.conf";
    case ConfigMode::CnConfig: return "cn=config (slaptest -f -F)";
    case ConfigMode::LdifConfig: return "cn=config (slapadd -n0)";
    }
    return "?";
}

void check_all_values(SlapdFixture &s) {
    auto e = s.config()->read(SlapdFixture::kOverlayDn, {"*"});
    BOOST_REQUIRE_MESSAGE(e.has_value(), "cannot read " << SlapdFixture::kOverlayDn);
    BOOST_TEST(lower_set(e->values("objectClass")).count("olcdevicepwconfig") == 1u);
    BOOST_TEST(e->one("olcDevicepwKeyFile") == s.keyfile());
    BOOST_TEST(e->one("olcDevicepwLastUsedPrecision") == "42");
    BOOST_TEST(e->one("olcDevicepwPrimaryPassword") == "FALSE");
    BOOST_TEST(e->one("olcDevicepwMaxDevices") == "7");
    BOOST_TEST(e->one("olcDevicepwTelemetryInterval") == "9");
    BOOST_TEST(e->one("olcDevicepwActiveKey") == "k1");
    BOOST_TEST(lower_set(e->values("olcDevicepwSecretReader")) == (std::set<std::string>{lower(demo::erin), lower(demo::bob)}));
    BOOST_TEST(lower_set(e->values("olcDevicepwAdmin")) ==
               (std::set<std::string>{lower(demo::carol), lower(demo::devadmins)}));
}

// The directives' effects, with the values of check_all_values.
void check_all_effects(Dpw &d) {
    REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_add("userPassword", {"alicepw"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, "alicepw"), LDAP_INVALID_CREDENTIALS);  // primary password off
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);                 // admin by DN
    auto dave = d.slapd.conn_as(demo::dave, demo::davepw);                    // admin by group
    for (int i = 0; i < 7; ++i) {
        std::string id = "d" + std::to_string(i);
        REQUIRE_RC(carol->add(demo::device_dn(id), {{"objectClass", {"devicepwDevice"}},
                                                    {"devicepwId", {id}},
                                                    {"devicepwLabel", {"Phone"}}}),
                   LDAP_SUCCESS);
    }
    CHECK_RC(carol->add(demo::device_dn("d7"), {{"objectClass", {"devicepwDevice"}},
                                               {"devicepwId", {"d7"}},
                                               {"devicepwLabel", {"Phone"}}}),
             LDAP_ADMINLIMIT_EXCEEDED);  // max devices 7
    std::string secret = Dpw::gen_secret_with(*dave, "d0");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    auto erin = d.slapd.conn_as(demo::erin, demo::erinpw);  // secret reader
    auto e = erin->read(demo::device_dn("d0"), {"devicepwSecret"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->has("devicepwSecret"));
    auto c = carol->read(demo::device_dn("d0"), {"devicepwSecret"});  // may be no entry at all
    BOOST_TEST(!(c && c->has("devicepwSecret")));
}

SlapdOptions all_directives(ConfigMode mode) {
    SlapdOptions o;
    o.mode = mode;
    o.acl = {"access to * by * write"};  // admins manage devices within the ACLs
    o.overlay_directives = {
        "devicepw-lastused-precision 42",
        "devicepw-primary-password off",
        "devicepw-max-devices 7",
        "devicepw-secret-reader " + demo::erin,
        "devicepw-secret-reader " + demo::bob,
        "devicepw-admin " + demo::carol,
        "devicepw-admin " + demo::devadmins,
        "devicepw-telemetry-interval 9",
        "devicepw-active-key k1",
    };
    o.overlay_olc = {
        "olcDevicepwLastUsedPrecision: 42",
        "olcDevicepwPrimaryPassword: FALSE",
        "olcDevicepwMaxDevices: 7",
        "olcDevicepwSecretReader: " + demo::erin,
        "olcDevicepwSecretReader: " + demo::bob,
        "olcDevicepwAdmin: " + demo::carol,
        "olcDevicepwAdmin: " + demo::devadmins,
        "olcDevicepwTelemetryInterval: 9",
        "olcDevicepwActiveKey: k1",
    };
    return o;
}

ToolRun expect_refusal(SlapdFixture &s) {
    ToolRun r = s.start_expect_failure();
    BOOST_TEST(r.status != 0);
    BOOST_TEST(!s.running());
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(every_directive_in_every_config_mode) {
    for (ConfigMode mode : {ConfigMode::SlapdConf, ConfigMode::CnConfig, ConfigMode::LdifConfig}) {
        BOOST_TEST_CONTEXT(mode_name(mode)) {
            Dpw d(all_directives(mode));
            check_all_values(d.slapd);
            check_all_effects(d);
            if (mode != ConfigMode::SlapdConf) {
                // persisted in slapd.d: the same after a restart
                d.slapd.restart();
                check_all_values(d.slapd);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(defaults) {
    Dpw d;
    auto e = d.slapd.config()->read(SlapdFixture::kOverlayDn, {"*"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("olcDevicepwKeyFile") == d.slapd.keyfile());
    // the documented defaults: 60 s, 10 s, on, 100
    BOOST_TEST(e->one("olcDevicepwLastUsedPrecision") == "60");
    BOOST_TEST(e->one("olcDevicepwTelemetryInterval") == "10");
    BOOST_TEST(e->one("olcDevicepwPrimaryPassword") == "TRUE");
    BOOST_TEST(e->one("olcDevicepwMaxDevices") == "100");
    BOOST_TEST(!e->has("olcDevicepwSecretReader"));
    BOOST_TEST(!e->has("olcDevicepwAdmin"));
}

BOOST_AUTO_TEST_CASE(every_attribute_changes_at_run_time) {
    for (ConfigMode mode : {ConfigMode::SlapdConf, ConfigMode::CnConfig}) {
        BOOST_TEST_CONTEXT(mode_name(mode)) {
            SlapdOptions o;
            o.mode = mode;
            o.acl = {"access to * by * read"};
            Dpw d(o);
            auto cfg = d.slapd.config();
            auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
            auto erin = d.slapd.conn_as(demo::erin, demo::erinpw);
            d.add_device("k3x9");
            // admin
            PasswdResult p = carol->passwd(demo::device_dn("k3x9"));
            BOOST_TEST(p.res.rc == LDAP_INSUFFICIENT_ACCESS);
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_add("olcDevicepwAdmin", {demo::carol})}), LDAP_SUCCESS);
            std::string secret = Dpw::gen_secret_with(*carol, "k3x9");
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_delete("olcDevicepwAdmin", {demo::carol})}),
                       LDAP_SUCCESS);
            p = carol->passwd(demo::device_dn("k3x9"));
            BOOST_TEST(p.res.rc == LDAP_INSUFFICIENT_ACCESS);
            CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
            // secret reader
            // (an entry erin may not read at all is no entry: read() is empty, not dereferenced)
            auto secret_visible = [&] {
                auto e = erin->read(demo::device_dn("k3x9"), {"devicepwSecret"});
                return e && e->has("devicepwSecret");
            };
            BOOST_TEST(!secret_visible());
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_add("olcDevicepwSecretReader", {demo::erin})}),
                       LDAP_SUCCESS);
            BOOST_TEST(secret_visible());
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_delete("olcDevicepwSecretReader")}), LDAP_SUCCESS);
            BOOST_TEST(!secret_visible());
            // max devices
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwMaxDevices", {"2"})}), LDAP_SUCCESS);
            d.add_device("p8w2");
            CHECK_RC(d.slapd.root()->add(demo::device_dn("x1"), {{"objectClass", {"devicepwDevice"}},
                                                                 {"devicepwId", {"x1"}},
                                                                 {"devicepwLabel", {"Phone"}}}),
                     LDAP_ADMINLIMIT_EXCEEDED);
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwMaxDevices", {"3"})}), LDAP_SUCCESS);
            d.add_device("x1");
            // primary password (also in the bind suite) and precision (lifecycle suite)
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwPrimaryPassword", {"FALSE"})}),
                       LDAP_SUCCESS);
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwLastUsedPrecision", {"17"})}),
                       LDAP_SUCCESS);
            // invalid values are refused
            Result bad = cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwMaxDevices", {"-1"})});
            BOOST_TEST(bad.rc != LDAP_SUCCESS);
            bad = cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwLastUsedPrecision", {"soon"})});
            BOOST_TEST(bad.rc != LDAP_SUCCESS);
            auto e = cfg->read(SlapdFixture::kOverlayDn, {"*"});
            BOOST_REQUIRE(e.has_value());
            BOOST_TEST(e->one("olcDevicepwMaxDevices") == "3");
            BOOST_TEST(e->one("olcDevicepwPrimaryPassword") == "FALSE");
            BOOST_TEST(e->one("olcDevicepwLastUsedPrecision") == "17");
            if (mode == ConfigMode::CnConfig) {
                d.slapd.restart();
                auto e2 = d.slapd.config()->read(SlapdFixture::kOverlayDn, {"*"});
                BOOST_REQUIRE(e2.has_value());
                BOOST_TEST(e2->one("olcDevicepwMaxDevices") == "3");
                BOOST_TEST(e2->one("olcDevicepwPrimaryPassword") == "FALSE");
                BOOST_TEST(e2->one("olcDevicepwLastUsedPrecision") == "17");
                CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
            }
        }
    }
}

// The overlay's own writes run as the rootdn: a database without one is refused at
// startup with a message that says so, not discovered at the first rotation.
BOOST_AUTO_TEST_CASE(database_without_rootdn_stops_startup) {
    SlapdOptions o;
    o.db_rootdn = false;
    SlapdFixture s(o);
    ToolRun r = expect_refusal(s);
    BOOST_TEST(contains_ci(r.output, "needs a rootdn"), "output does not say why:\n" << r.output);
}

BOOST_AUTO_TEST_CASE(missing_key_file_stops_startup) {
    for (ConfigMode mode : {ConfigMode::SlapdConf, ConfigMode::CnConfig}) {
        BOOST_TEST_CONTEXT(mode_name(mode)) {
            SlapdOptions o;
            o.mode = mode;
            o.write_keyfile = false;
            SlapdFixture s(o);
            ToolRun r = expect_refusal(s);
            BOOST_TEST((r.output.find(s.keyfile()) != std::string::npos || contains_ci(r.output, "key file") ||
                        contains_ci(r.output, "keyfile")),
                       "output does not mention the key file:\n" << r.output);
        }
    }
    // no devicepw-keyfile directive at all
    SlapdOptions o;
    o.keyfile_directive = false;
    SlapdFixture s(o);
    ToolRun r = expect_refusal(s);
    BOOST_TEST(contains_ci(r.output, "key"), "output:\n" << r.output);
}

BOOST_AUTO_TEST_CASE(readable_key_file_stops_startup) {
    for (mode_t mode : {mode_t(0640), mode_t(0604), mode_t(0644), mode_t(0660), mode_t(0602)}) {
        BOOST_TEST_CONTEXT("mode 0" << std::oct << mode) {
            SlapdFixture s;
            ::chmod(s.keyfile().c_str(), mode);
            ToolRun r = expect_refusal(s);
            BOOST_TEST((contains_ci(r.output, "readable") || contains_ci(r.output, "writable") ||
                        contains_ci(r.output, "permission") || contains_ci(r.output, "insecure") ||
                        contains_ci(r.output, "mode") || contains_ci(r.output, "group")),
                       "output does not say why:\n" << r.output);
        }
    }
}

BOOST_AUTO_TEST_CASE(key_file_made_readable_after_conversion_stops_startup) {
    SlapdOptions o;
    o.mode = ConfigMode::CnConfig;
    SlapdFixture s(o);
    s.start();
    s.stop();
    ::chmod(s.keyfile().c_str(), 0644);
    ToolRun r = s.start_expect_failure(/*config_written=*/true);
    BOOST_TEST(r.status != 0);
    BOOST_TEST(!s.running());
    ::chmod(s.keyfile().c_str(), 0600);
    s.restart();  // and it starts again once fixed
    BOOST_TEST(s.running());
}

BOOST_AUTO_TEST_CASE(key_file_without_a_valid_key_stops_startup) {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"empty", ""},
        {"comments and blank lines only", "# no key here\n\n   \n"},
        {"short hex", "k1 00112233\n"},
        {"non-hex digits", "k1 " + std::string(64, 'g') + "\n"},
        {"bad key id", "K_1 " + std::string(64, 'a') + "\n"},
        {"id only", "k1\n"},
    };
    for (auto &[what, content] : files) {
        BOOST_TEST_CONTEXT(what) {
            SlapdOptions o;
            o.write_keyfile = false;
            SlapdFixture s(o);
            s.write_file(s.keyfile(), content, 0600);
            ToolRun r = expect_refusal(s);
            BOOST_TEST(contains_ci(r.output, "key"), "output:\n" << r.output);
        }
    }
    // a file with comments and one valid key is fine
    SlapdOptions o;
    o.write_keyfile = false;
    SlapdFixture s(o);
    s.write_file(s.keyfile(), "# devicepw keys\n\n" + SlapdFixture::key_line("k1"), 0600);
    s.start();
    BOOST_TEST(s.running());
}

BOOST_AUTO_TEST_CASE(key_rotation_at_run_time) {
    for (ConfigMode mode : {ConfigMode::SlapdConf, ConfigMode::CnConfig}) {
        BOOST_TEST_CONTEXT(mode_name(mode)) {
            SlapdOptions o;
            o.mode = mode;
            o.keyid = "old1";
            Dpw d(o);
            d.add_device("k3x9");
            d.add_device("p8w2");
            const std::string s1 = d.gen_secret("k3x9");
            const std::string s2 = d.gen_secret("p8w2");
            BOOST_TEST(d.stored_secret("k3x9").rfind("dpw1$old1$", 0) == 0, d.stored_secret("k3x9"));
            const std::string keyfile2 = d.slapd.path("devicepw2.key");
            d.slapd.write_file(keyfile2, "# rotated\n" + slurp(d.slapd.keyfile()) + SlapdFixture::key_line("new2"), 0600);
            auto cfg = d.slapd.config();
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwKeyFile", {keyfile2})}), LDAP_SUCCESS);
            BOOST_TEST(cfg->read(SlapdFixture::kOverlayDn)->one("olcDevicepwKeyFile") == keyfile2);
            CHECK_RC(d.bind(demo::alice, s1), LDAP_SUCCESS);
            CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
            const std::string s3 = d.gen_secret("k3x9");
            BOOST_TEST(d.stored_secret("k3x9").rfind("dpw1$new2$", 0) == 0, d.stored_secret("k3x9"));
            BOOST_TEST(d.stored_secret("p8w2").rfind("dpw1$old1$", 0) == 0, d.stored_secret("p8w2"));
            CHECK_RC(d.bind(demo::alice, s3), LDAP_SUCCESS);
            CHECK_RC(d.bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
            CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
            // a broken key file is refused at run time and the working keys stay
            const std::string keyfile3 = d.slapd.path("devicepw3.key");
            d.slapd.write_file(keyfile3, SlapdFixture::key_line("bad3"), 0644);
            Result bad = cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwKeyFile", {keyfile3})});
            BOOST_TEST(bad.rc != LDAP_SUCCESS, "an insecure key file was accepted at run time");
            bad = cfg->modify(SlapdFixture::kOverlayDn,
                              {mod_replace("olcDevicepwKeyFile", {d.slapd.path("missing.key")})});
            BOOST_TEST(bad.rc != LDAP_SUCCESS, "a missing key file was accepted at run time");
            BOOST_TEST(cfg->read(SlapdFixture::kOverlayDn)->one("olcDevicepwKeyFile") == keyfile2);
            CHECK_RC(d.bind(demo::alice, s3), LDAP_SUCCESS);
            CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
            if (mode == ConfigMode::CnConfig) {
                d.slapd.restart();
                CHECK_RC(d.bind(demo::alice, s3), LDAP_SUCCESS);
                CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
            }
        }
    }
}

// A cluster adds a key everywhere first and switches to it second (DESIGN.md,
// "Replication", keys): devicepw-active-key picks the key that hashes new secrets,
// every key of the file still verifies, and devicepwKey on the suffix shows each
// server's key ids and fingerprints to administrators.
BOOST_AUTO_TEST_CASE(active_key_and_fingerprints) {
    for (ConfigMode mode : {ConfigMode::SlapdConf, ConfigMode::LdifConfig}) {
        BOOST_TEST_CONTEXT(mode_name(mode)) {
            SlapdOptions o;
            o.mode = mode;
            o.write_keyfile = false;
            o.overlay_directives = {"devicepw-active-key k1"};
            o.overlay_olc = {"olcDevicepwActiveKey: k1"};
            SlapdFixture s(o);
            s.write_file(s.keyfile(), SlapdFixture::key_line("k1") + SlapdFixture::key_line("k2"), 0600);
            s.start();
            s.load_demo_data();
            auto root = s.root();
            REQUIRE_RC(root->add(demo::device_dn("k3x9"), {{"objectClass", {"devicepwDevice"}},
                                                           {"devicepwId", {"k3x9"}},
                                                           {"devicepwLabel", {"Phone"}}}),
                       LDAP_SUCCESS);
            const std::string s1 = Dpw::gen_secret_with(*root, "k3x9");
            auto stored = root->read(demo::device_dn("k3x9"), {"devicepwSecret"});
            BOOST_REQUIRE(stored.has_value());
            BOOST_TEST(stored->one("devicepwSecret").rfind("dpw1$k1$", 0) == 0u);  // not the last key
            // the fingerprints, the active key marked; only for administrators
            auto keys = root->read(demo::base, {"devicepwKey"});
            BOOST_REQUIRE(keys.has_value());
            auto v = keys->values("devicepwkey");
            BOOST_REQUIRE_EQUAL(v.size(), 2u);
            BOOST_TEST(std::regex_match(v[0], std::regex("k1 [0-9a-f]{16} active")), v[0]);
            BOOST_TEST(std::regex_match(v[1], std::regex("k2 [0-9a-f]{16}")), v[1]);
            BOOST_TEST(v[0].substr(3, 16) != v[1].substr(3, 16));
            BOOST_TEST(!s.conn()->read(demo::base, {"devicepwKey"})->has("devicepwkey"));
            auto bob = s.conn_as(demo::bob, demo::bobpw);
            BOOST_TEST(!bob->read(demo::base, {"devicepwKey"})->has("devicepwkey"));
            // switch to k2 at run time: new secrets under k2, old ones still bind
            auto cfg = s.config();
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwActiveKey", {"k2"})}),
                       LDAP_SUCCESS);
            REQUIRE_RC(root->add(demo::device_dn("p8w2"), {{"objectClass", {"devicepwDevice"}},
                                                           {"devicepwId", {"p8w2"}},
                                                           {"devicepwLabel", {"Laptop"}}}),
                       LDAP_SUCCESS);
            const std::string s2 = Dpw::gen_secret_with(*root, "p8w2");
            BOOST_TEST(root->read(demo::device_dn("p8w2"), {"devicepwSecret"})->one("devicepwSecret").rfind("dpw1$k2$", 0) == 0u);
            CHECK_RC(s.conn()->bind(demo::alice, s1), LDAP_SUCCESS);
            CHECK_RC(s.conn()->bind(demo::alice, s2), LDAP_SUCCESS);
            // a key the file does not hold is refused, and the active key stays
            Result bad = cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwActiveKey", {"k9"})});
            BOOST_TEST(bad.rc != LDAP_SUCCESS);
            BOOST_TEST(cfg->read(SlapdFixture::kOverlayDn)->one("olcDevicepwActiveKey") == "k2");
            bad = cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwActiveKey", {"K 2"})});
            BOOST_TEST(bad.rc != LDAP_SUCCESS);
            // retire k1: a server whose key file lacks the key a stored hash names fails
            // closed, and says which key is missing
            const std::string only2 = s.path("only2.key");
            s.write_file(only2, slurp(s.keyfile()).substr(slurp(s.keyfile()).find('\n') + 1), 0600);
            REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwKeyFile", {only2})}),
                       LDAP_SUCCESS);
            CHECK_RC(s.conn()->bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
            CHECK_RC(s.conn()->bind(demo::alice, s2), LDAP_SUCCESS);
            BOOST_TEST(contains_ci(s.log(), "device=k3x9 outcome=unknown-key key=k1"));
        }
    }
}

BOOST_AUTO_TEST_CASE(active_key_missing_from_the_key_file_stops_startup) {
    SlapdOptions o;
    o.overlay_directives = {"devicepw-active-key k7"};
    SlapdFixture s(o);
    ToolRun r = expect_refusal(s);
    BOOST_TEST(contains_ci(r.output, "k7"), r.output);
}

BOOST_AUTO_TEST_SUITE_END()
