// Binds with device secrets, the uniform 49, and the mailbox's primary password.
#include "test_util.h"

using namespace dpwtest;

namespace {

// The same secret with a different (valid-alphabet) last character.
std::string wrong_random(const std::string &secret) {
    std::string s = secret;
    s.back() = s.back() == 'z' ? 'y' : 'z';
    return s;
}

std::string spaced(const std::string &secret) {
    std::string r;
    for (char c : secret) {
        if (c == '-')
            r += " ";
        else
            r += c;
    }
    return " " + r + " ";
}

void set_primary_via_config(SlapdFixture &s, const std::string &value) {
    auto cfg = s.config();
    REQUIRE_RC(cfg->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwPrimaryPassword", {value})}),
               LDAP_SUCCESS);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bind)

BOOST_AUTO_TEST_CASE(secret_binds_as_the_mailbox) {
    Dpw d;
    d.add_device("k3x9", "iPhone");
    std::string secret = d.gen_secret("k3x9");
    auto c = d.slapd.conn();
    REQUIRE_RC(c->bind(demo::alice, secret), LDAP_SUCCESS);
    BOOST_TEST(lower(c->whoami()) == "dn:" + lower(demo::alice));
    // forgiving matching: case, '-' and spaces are ignored
    CHECK_RC(d.bind(demo::alice, upper(secret)), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, strip_dashes(secret)), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, upper(strip_dashes(secret))), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, spaced(secret)), LDAP_SUCCESS);
    // the DN is matched as a DN (case of the DN does not matter)
    CHECK_RC(d.bind(upper(demo::alice), secret), LDAP_SUCCESS);
    // a second device works independently
    d.add_device("p8w2", "Outlook");
    std::string secret2 = d.gen_secret("p8w2");
    CHECK_RC(d.bind(demo::alice, secret2), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(device_with_future_expiry_binds) {
    Dpw d;
    d.add_device("f1");
    std::string secret = d.gen_secret("f1");
    REQUIRE_RC(d.slapd.root()->modify(demo::device_dn("f1"), {mod_replace("devicepwExpires", {"20991231235959Z"})}),
               LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(every_failure_is_the_same_49) {
    Dpw d;
    auto root = d.slapd.root();
    d.add_device("k3x9");
    std::string good = d.gen_secret("k3x9");
    d.add_device("r1");
    std::string revoked = d.gen_secret("r1");
    REQUIRE_RC(root->modify(demo::device_dn("r1"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    d.add_device("e1");
    std::string expired = d.gen_secret("e1");
    REQUIRE_RC(root->modify(demo::device_dn("e1"), {mod_replace("devicepwExpires", {"20200101000000Z"})}),
               LDAP_SUCCESS);
    d.add_device("n1");  // no secret generated

    const std::string nobody_mailbox = "uid=nobody@example.com," + demo::mailboxes;
    const std::string nobody_person = "uid=nobody," + demo::people;
    struct Case {
        std::string what, dn, pw;
    };
    std::vector<Case> cases = {
        {"wrong random part", demo::alice, wrong_random(good)},
        {"wrong random part, upper case", demo::alice, upper(wrong_random(good))},
        {"revoked device", demo::alice, revoked},
        {"expired device", demo::alice, expired},
        {"device without a secret", demo::alice, "n1-abcd-efgh-ijkm-npqr"},
        {"unknown device id", demo::alice, "zz99-abcd-efgh-ijkm-npqr"},
        {"not a secret at all", demo::alice, "password"},
        {"mailbox without devices, plain", demo::frank, "password"},
        {"mailbox without devices, secret-shaped", demo::frank, "k3x9-abcd-efgh-ijkm-npqr"},
        {"another mailbox's secret", demo::frank, good},
        {"nonexistent DN under ou=mailboxes", nobody_mailbox, good},
        {"nonexistent DN under ou=mailboxes, plain", nobody_mailbox, "password"},
        {"nonexistent DN", nobody_person, "password"},
        {"nonexistent DN, secret-shaped", nobody_person, good},
        {"a person's wrong password (stock slapd)", demo::bob, "wrong"},
        {"a person, secret-shaped", demo::bob, good},
    };
    std::optional<Result> first;
    for (auto &c : cases) {
        Result r = d.bind(c.dn, c.pw);
        BOOST_TEST_CONTEXT("case: " << c.what) {
            BOOST_TEST(r.rc == LDAP_INVALID_CREDENTIALS, "rc " << r.rc << " diag \"" << r.diag << "\"");
            if (!first) {
                first = r;
            } else {
                BOOST_TEST(r.diag == first->diag, "diagnostic \"" << r.diag << "\" differs from \"" << first->diag
                                                                  << "\" (" << cases[0].what << ")");
                BOOST_TEST(r.matched == first->matched, "matched DN \"" << r.matched << "\" differs");
            }
        }
    }
    // and the good secret still works afterwards (failures lock nothing)
    CHECK_RC(d.bind(demo::alice, good), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(primary_password_on_by_default) {
    Dpw d;
    REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_add("userPassword", {"alicepw"})}), LDAP_SUCCESS);
    auto c = d.slapd.conn();
    REQUIRE_RC(c->bind(demo::alice, "alicepw"), LDAP_SUCCESS);
    BOOST_TEST(lower(c->whoami()) == "dn:" + lower(demo::alice));
    CHECK_RC(d.bind(demo::alice, "alicepw-wrong"), LDAP_INVALID_CREDENTIALS);
    d.add_device("k3x9");
    std::string secret = d.gen_secret("k3x9");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, "alicepw"), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(primary_password_naming_an_existing_device_is_decided_by_the_device) {
    Dpw d;
    d.add_device("k3x9");
    d.gen_secret("k3x9");
    const std::string shaped = "k3x9-abcd-efgh-ijkm-npqr";  // not the device's secret
    REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_add("userPassword", {shaped})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, shaped), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(primary_password_off_in_slapd_conf) {
    SlapdOptions o;
    o.overlay_directives = {"devicepw-primary-password off"};
    Dpw d(o);
    REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_add("userPassword", {"alicepw"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, "alicepw"), LDAP_INVALID_CREDENTIALS);
    d.add_device("k3x9");
    std::string secret = d.gen_secret("k3x9");
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    // people are not mailboxes: their own password always works
    CHECK_RC(d.bind(demo::bob, demo::bobpw), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::bob, "wrong"), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_CASE(primary_password_switch_at_run_time) {
    for (ConfigMode mode : {ConfigMode::SlapdConf, ConfigMode::CnConfig}) {
        BOOST_TEST_CONTEXT("mode " << (mode == ConfigMode::SlapdConf ? "slapd.conf" : "cn=config")) {
            SlapdOptions o;
            o.mode = mode;
            Dpw d(o);
            REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_add("userPassword", {"alicepw"})}), LDAP_SUCCESS);
            CHECK_RC(d.bind(demo::alice, "alicepw"), LDAP_SUCCESS);
            set_primary_via_config(d.slapd, "FALSE");
            BOOST_TEST(d.slapd.config()->read(SlapdFixture::kOverlayDn)->one("olcDevicepwPrimaryPassword") == "FALSE");
            CHECK_RC(d.bind(demo::alice, "alicepw"), LDAP_INVALID_CREDENTIALS);
            CHECK_RC(d.bind(demo::bob, demo::bobpw), LDAP_SUCCESS);
            set_primary_via_config(d.slapd, "TRUE");
            CHECK_RC(d.bind(demo::alice, "alicepw"), LDAP_SUCCESS);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
