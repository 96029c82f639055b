// Logging: failed device binds are logged against the device (mailbox DN, device=<id>,
// a running failure count), and no secret ever reaches the log.
#include "test_util.h"

#include <regex>
#include <sstream>

using namespace dpwtest;

namespace {

std::vector<std::string> lines_with_device(const std::string &log, const std::string &id) {
    std::vector<std::string> out;
    std::istringstream in(log);
    std::string line;
    const std::regex dev("device=\"?" + id + "(\"|[^a-z0-9]|$)");
    while (std::getline(in, line))
        if (std::regex_search(line, dev)) out.push_back(line);
    return out;
}

// The failure counts of the lines (in log order) that carry one.
std::vector<long> failure_counts(const std::vector<std::string> &lines) {
    std::vector<long> out;
    const std::regex count("fail[a-z_]*\\s*[=:]\\s*([0-9]+)", std::regex::icase);
    for (auto &l : lines) {
        std::smatch m;
        if (std::regex_search(l, m, count)) out.push_back(std::stol(m[1]));
    }
    return out;
}

std::string wrong_random(const std::string &secret, char c) {
    std::string s = secret;
    s.back() = s.back() == c ? 'z' : c;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(failures_are_logged_against_the_device_and_secrets_never) {
    SlapdOptions o;
    o.overlay_directives = {"devicepw-admin " + demo::carol};
    o.acl = {"access to * by * write"};
    Dpw d(o);
    std::vector<std::string> secrets;  // every secret generated or offered in this test

    d.add_device("k3x9");
    d.add_device("r1");
    d.add_device("ok7");
    const std::string old_k = d.gen_secret("k3x9");
    const std::string k = d.gen_secret("k3x9");  // rotation: old_k is now wrong
    const std::string r = Dpw::gen_secret_with(*d.slapd.conn_as(demo::carol, demo::carolpw), "r1");
    const std::string ok = d.gen_secret("ok7");
    d.add_device("ex5");
    const std::string ex = d.gen_secret("ex5");
    REQUIRE_RC(d.slapd.root()->modify(demo::device_dn("ex5"), {mod_replace("devicepwExpires", {"20200101000000Z"})}),
               LDAP_SUCCESS);
    secrets.insert(secrets.end(), {old_k, k, r, ok, ex});

    // successes, in several spellings
    for (auto &s : {k, upper(k), strip_dashes(k), ok, r}) REQUIRE_RC(d.bind(demo::alice, s), LDAP_SUCCESS);
    REQUIRE_RC(d.slapd.root()->modify(demo::device_dn("r1"), {mod_replace("devicepwRevoked", {"TRUE"})}),
               LDAP_SUCCESS);
    // failures against k3x9: three wrong random parts and the rotated-away secret
    for (char c : {'a', 'b', 'c'}) {
        std::string w = wrong_random(k, c);
        secrets.push_back(w);
        CHECK_RC(d.bind(demo::alice, w), LDAP_INVALID_CREDENTIALS);
    }
    CHECK_RC(d.bind(demo::alice, old_k), LDAP_INVALID_CREDENTIALS);
    // failures against the revoked r1
    CHECK_RC(d.bind(demo::alice, r), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, upper(r)), LDAP_INVALID_CREDENTIALS);
    // failure against the expired ex5
    CHECK_RC(d.bind(demo::alice, ex), LDAP_INVALID_CREDENTIALS);
    // still working
    CHECK_RC(d.bind(demo::alice, k), LDAP_SUCCESS);

    d.slapd.stop();  // everything slapd wrote is in the file now
    const std::string log = d.slapd.log();
    BOOST_REQUIRE(!log.empty());

    auto k_lines = lines_with_device(log, "k3x9");
    BOOST_TEST(!k_lines.empty(), "no log line with device=k3x9");
    auto k_counts = failure_counts(k_lines);
    BOOST_TEST(k_counts == (std::vector<long>{1, 2, 3, 4}), "failure counts of k3x9 in the log");
    for (auto &l : k_lines)
        if (contains_ci(l, "fail")) BOOST_TEST(contains_ci(l, demo::alice), "line without the mailbox DN: " << l);

    auto r_lines = lines_with_device(log, "r1");
    auto r_counts = failure_counts(r_lines);
    BOOST_TEST(r_counts == (std::vector<long>{1, 2}), "failure counts of r1 in the log");
    bool r_revoked_mentioned = false;
    for (auto &l : r_lines)
        if (contains_ci(l, "fail") && contains_ci(l, demo::alice)) r_revoked_mentioned = true;
    BOOST_TEST(r_revoked_mentioned, "no failure line for r1 with the mailbox DN");
    auto ex_counts = failure_counts(lines_with_device(log, "ex5"));
    BOOST_TEST(ex_counts == (std::vector<long>{1}), "failure counts of ex5 in the log");
    // ok7 never failed, but its successful bind is logged with its id too
    BOOST_TEST(!lines_with_device(log, "ok7").empty(), "the successful bind of ok7 is not logged");
    BOOST_TEST(failure_counts(lines_with_device(log, "ok7")).empty());

    const std::string log_lower = lower(log);
    for (auto &s : secrets) {
        const std::string canon = lower(strip_dashes(s));
        const std::string random = canon.substr(canon.size() - 16);
        const std::string dashed_random = lower(s.substr(s.size() - 19));
        for (auto &needle : {lower(s), canon, random, dashed_random}) {
            BOOST_TEST(log_lower.find(needle) == std::string::npos, "secret material \"" << needle << "\" is in the log");
        }
    }
}



// DESIGN.md: a failed device bind is counted against the device, never against the
// mailbox: one stale phone retrying all day must not lock anyone out. With slapo-ppolicy
// on the database (declared before devicepw, so devicepw runs first) and a lockout after
// three failures, failed device binds leave the mailbox's pwdFailureTime alone; wrong
// primary passwords, the control, do lock it.
BOOST_AUTO_TEST_CASE(device_failures_do_not_count_against_the_mailbox) {
    const std::string policy = "cn=default,ou=policies," + demo::base;
    SlapdOptions o;
    o.global_directives = {"moduleload ppolicy"};
    o.db_directives = {"overlay ppolicy", "ppolicy_default \"" + policy + "\""};
    o.acl = {"access to * by * write"};
    Dpw d(o);
    REQUIRE_RC(d.slapd.root()->add("ou=policies," + demo::base,
                                   {{"objectClass", {"organizationalUnit"}}, {"ou", {"policies"}}}),
               LDAP_SUCCESS);
    REQUIRE_RC(d.slapd.root()->add(policy, {{"objectClass", {"organizationalRole", "pwdPolicy"}},
                                            {"cn", {"default"}},
                                            {"pwdAttribute", {"userPassword"}},
                                            {"pwdLockout", {"TRUE"}},
                                            {"pwdMaxFailure", {"3"}},
                                            {"pwdFailureCountInterval", {"0"}}}),
               LDAP_SUCCESS);
    REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_replace("userPassword", {"alice-own-pw"})}),
               LDAP_SUCCESS);
    d.add_device("k3x9");
    const std::string k = d.gen_secret("k3x9");

    // Five failures named by the device: wrong random parts.
    for (char c : {'a', 'b', 'c', 'd', 'e'}) CHECK_RC(d.bind(demo::alice, wrong_random(k, c)), LDAP_INVALID_CREDENTIALS);
    BOOST_TEST(d.read_attr(demo::alice, "pwdFailureTime").empty(), "device failures were counted on the mailbox");
    CHECK_RC(d.bind(demo::alice, "alice-own-pw"), LDAP_SUCCESS);  // not locked
    CHECK_RC(d.bind(demo::alice, k), LDAP_SUCCESS);
    auto counted = failure_counts(lines_with_device(d.slapd.log(), "k3x9"));
    BOOST_REQUIRE(!counted.empty());
    BOOST_TEST(counted.back() == 5);

    // The control: wrong primary passwords are counted on the mailbox and lock it.
    for (int i = 0; i < 3; ++i) CHECK_RC(d.bind(demo::alice, "not-alices-password"), LDAP_INVALID_CREDENTIALS);
    BOOST_TEST(!d.read_attr(demo::alice, "pwdFailureTime").empty());
    CHECK_RC(d.bind(demo::alice, "alice-own-pw"), LDAP_INVALID_CREDENTIALS);  // locked by ppolicy
}

BOOST_AUTO_TEST_SUITE_END()
