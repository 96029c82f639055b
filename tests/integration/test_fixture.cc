// Self-tests of the fixture on stock slapd, without the devicepw overlay: they prove the
// harness (start, configuration modes, client helpers, cleanup) independently of the
// overlay, and that schema/devicepw.ldif loads into cn=config.
#include "test_util.h"

#include <algorithm>
#include <filesystem>

using namespace dpwtest;

namespace {
SlapdOptions stock(ConfigMode mode) {
    SlapdOptions o;
    o.overlay = false;
    o.mode = mode;
    return o;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(fixture)

BOOST_AUTO_TEST_CASE(stock_slapd_conf_serves_and_cleans_up) {
    std::string dir;
    {
        SlapdFixture s(stock(ConfigMode::SlapdConf));
        dir = s.dir();
        s.start();
        s.load_demo_data();
        auto bob = s.conn_as(demo::bob, demo::bobpw);
        BOOST_TEST(bob->whoami() == "dn:" + demo::bob);
        auto anon = s.conn();
        BOOST_TEST(anon->whoami() == "");
        CHECK_RC(s.conn()->bind(demo::bob, "wrong"), LDAP_INVALID_CREDENTIALS);
        auto sr = anon->search(demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=inetOrgPerson)", {"uid"});
        BOOST_TEST(sr.res.rc == LDAP_SUCCESS);
        BOOST_TEST(sr.entries.size() == 6u);  // alice, frank, bob, carol, dave, erin
        BOOST_TEST(sr.find(demo::alice) != nullptr);
        auto root = s.root();
        CHECK_RC(root->compare(demo::bob, "uid", "bob"), LDAP_COMPARE_TRUE);
        CHECK_RC(root->compare(demo::bob, "uid", "bobby"), LDAP_COMPARE_FALSE);
        CHECK_RC(root->modify(demo::bob, {mod_replace("sn", {"Builder"})}), LDAP_SUCCESS);
        BOOST_TEST(root->read(demo::bob)->one("sn") == "Builder");
        // stock password modify: slapd generates a password
        PasswdResult p = root->passwd(demo::bob);
        BOOST_REQUIRE(p.res.rc == LDAP_SUCCESS);
        BOOST_REQUIRE(p.genpasswd.has_value());
        CHECK_RC(s.conn()->bind(demo::bob, *p.genpasswd), LDAP_SUCCESS);
        CHECK_RC(s.conn()->bind(demo::bob, demo::bobpw), LDAP_INVALID_CREDENTIALS);
        // cn=config is writable at run time, also in slapd.conf mode
        CHECK_RC(s.config()->modify("olcDatabase={1}mdb,cn=config", {mod_replace("olcSizeLimit", {"77"})}),
                 LDAP_SUCCESS);
        BOOST_TEST(s.config()->read("olcDatabase={1}mdb,cn=config")->one("olcSizeLimit") == "77");
        CHECK_RC(root->rename(demo::bob, "uid=bobby"), LDAP_SUCCESS);
        CHECK_RC(root->del("uid=bobby,ou=people,dc=example,dc=com"), LDAP_SUCCESS);
        BOOST_TEST(s.log().find("conn=") != std::string::npos);  // stats logging reaches the log
        s.stop();
        BOOST_TEST(!s.running());
        s.restart();  // data persists across restarts
        BOOST_TEST(s.conn()->read(demo::alice).has_value());
    }
    BOOST_TEST(!std::filesystem::exists(dir));
}

BOOST_AUTO_TEST_CASE(stock_cn_config_conversion) {
    SlapdFixture s(stock(ConfigMode::CnConfig));
    s.start();
    s.load_demo_data();
    BOOST_TEST(std::filesystem::exists(s.path("slapd.d/cn=config.ldif")));
    auto cfg = s.config();
    auto schema = cfg->search("cn=schema,cn=config", LDAP_SCOPE_ONELEVEL, "(cn=*devicepw)", {"cn"});
    BOOST_TEST(schema.entries.size() == 1u);
    CHECK_RC(cfg->modify("olcDatabase={1}mdb,cn=config", {mod_replace("olcSizeLimit", {"55"})}), LDAP_SUCCESS);
    s.restart();  // cn=config changes are persisted in slapd.d
    BOOST_TEST(s.config()->read("olcDatabase={1}mdb,cn=config")->one("olcSizeLimit") == "55");
}

BOOST_AUTO_TEST_CASE(devicepw_ldif_loads_into_cn_config) {
    SlapdFixture s(stock(ConfigMode::LdifConfig));
    s.start();
    auto cfg = s.config();
    auto schema = cfg->search("cn=schema,cn=config", LDAP_SCOPE_ONELEVEL, "(cn=*devicepw)",
                              {"olcAttributeTypes", "olcObjectClasses"});
    BOOST_REQUIRE_EQUAL(schema.entries.size(), 1u);
    BOOST_TEST(schema.entries[0].values("olcAttributeTypes").size() == 11u);
    BOOST_TEST(schema.entries[0].values("olcObjectClasses").size() == 2u);
    // the schema is usable: demo data with devicepwMailbox, and a devicepwDevice entry
    s.load_demo_data();
    CHECK_RC(s.root()->add(demo::device_dn("k3x9"), {{"objectClass", {"devicepwDevice"}},
                                                      {"devicepwId", {"k3x9"}},
                                                      {"devicepwLabel", {"iPhone"}}}),
             LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(failed_start_is_reported) {
    SlapdFixture s(stock(ConfigMode::SlapdConf));
    s.options().db_directives.push_back("no-such-directive 1");
    ToolRun r = s.start_expect_failure();
    BOOST_TEST(r.status != 0);
    BOOST_TEST(r.output.find("no-such-directive") != std::string::npos, "output: " << r.output);
    BOOST_TEST(!s.running());
}

BOOST_AUTO_TEST_CASE(acl_lines_apply) {
    SlapdFixture s(with_acl({"access to attrs=userPassword by self write by anonymous auth by * none",
                             "access to * by users read by * none"},
                            stock(ConfigMode::SlapdConf)));
    s.start();
    s.load_demo_data();
    BOOST_TEST(s.conn()->search(demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=*)").entries.empty());
    auto bob = s.conn_as(demo::bob, demo::bobpw);
    auto e = bob->read(demo::carol);
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(!e->has("userPassword"));
    PasswdResult p = bob->passwd(demo::bob, demo::bobpw, std::string("newbobpw"));
    BOOST_TEST(p.res.rc == LDAP_SUCCESS);
    CHECK_RC(s.conn()->bind(demo::bob, "newbobpw"), LDAP_SUCCESS);
}

// Stock overlays stacked around devicepw: the overlay entries of cn=config sit in the
// configured order in every mode, and overlay_dn() names devicepw's entry.
BOOST_AUTO_TEST_CASE(stacked_overlays_in_every_configuration_mode) {
    for (ConfigMode mode : {ConfigMode::SlapdConf, ConfigMode::CnConfig, ConfigMode::LdifConfig}) {
        SlapdOptions o;
        o.mode = mode;
        o.overlays_before = {syncprov_overlay(), ppolicy_overlay()};
        o.overlays_after = {sssvlv_overlay()};
        SlapdFixture s(o);
        BOOST_TEST(s.overlay_dn() == "olcOverlay={2}devicepw,olcDatabase={1}mdb,cn=config");
        s.start();
        auto cfg = s.config();
        auto list = cfg->search("olcDatabase={1}mdb,cn=config", LDAP_SCOPE_ONELEVEL, "(objectClass=olcOverlayConfig)",
                                {"olcOverlay"});
        CHECK_RC(list.res, LDAP_SUCCESS);
        std::vector<std::string> names;
        for (auto &e : list.entries) names.push_back(e.one("olcOverlay"));
        std::sort(names.begin(), names.end());
        const std::vector<std::string> expected = {"{0}syncprov", "{1}ppolicy", "{2}devicepw", "{3}sssvlv"};
        BOOST_TEST(names == expected, boost::test_tools::per_element());
        auto e = cfg->read(s.overlay_dn(), {"olcDevicepwKeyFile"});
        BOOST_REQUIRE_MESSAGE(e.has_value(), "cannot read " << s.overlay_dn());
        BOOST_TEST(e->one("olcDevicepwKeyFile") == s.keyfile());
        BOOST_TEST(s.alive());
        s.stop();
        BOOST_TEST(!s.alive());
    }
    // the default position is kOverlayDn
    BOOST_TEST(SlapdFixture().overlay_dn() == SlapdFixture::kOverlayDn);
}

BOOST_AUTO_TEST_SUITE_END()
