// devicepw keys: each server's key ids and fingerprints, and whether the servers agree
// (every key on every server with the same bytes, one active key).
#include <boost/test/unit_test.hpp>

#include "tool_fixture.h"

using namespace dpwtest;
using nlohmann::json;

namespace {

// Two slapds: the key lines given for each (the fixture writes each key file).
struct Pair {
    SlapdFixture a, b;
    Pair(const std::string &keys_a, const std::string &keys_b, const std::string &active_b = "")
        : a(opts()), b(opts(active_b)) {
        a.write_file(a.keyfile(), keys_a, 0600);
        b.write_file(b.keyfile(), keys_b, 0600);
        a.start();
        b.start();
        a.load_demo_data();
        b.load_demo_data();
    }
    static SlapdOptions opts(const std::string &active = "") {
        SlapdOptions o = tool_slapd_options();
        o.write_keyfile = false;
        if (!active.empty()) o.overlay_directives.push_back("devicepw-active-key " + active);
        return o;
    }
    Out keys(const std::vector<std::string> &extra = {}) {
        std::vector<std::string> args = {"keys", "-H", a.uri(), "-H", b.uri(), "-x", "-D",
                                         SlapdFixture::kRootDn, "-w", SlapdFixture::kRootPw};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_devicepw(args, a.dir(), {{"LDAPBASE", demo::base}});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(tool_keys)

BOOST_AUTO_TEST_CASE(servers_with_the_same_keys_agree) {
    const std::string k1 = SlapdFixture::key_line("k1"), k2 = SlapdFixture::key_line("k2");
    Pair p(k1 + k2, k1 + k2);
    Out o = p.keys({"--json"});
    DPW_CHECK_STATUS(o, 0);
    json j = json::parse(o.out);
    BOOST_TEST(j["consistent"] == true);
    BOOST_TEST_REQUIRE(j["servers"].size() == 2u);
    for (auto &s : j["servers"]) {
        BOOST_TEST_REQUIRE(s["keys"].size() == 2u);
        BOOST_TEST(s["keys"][0]["id"] == "k1");
        BOOST_TEST(s["keys"][1]["active"] == true);  // the last key by default
        BOOST_TEST(s["keys"][0]["fingerprint"].get<std::string>().size() == 16u);
    }
    BOOST_TEST(j["servers"][0]["keys"][0]["fingerprint"] == j["servers"][1]["keys"][0]["fingerprint"]);
    Out t = p.keys();
    DPW_CHECK_STATUS(t, 0);
    BOOST_TEST(t.out.find("The servers agree.") != std::string::npos, t.out);
    BOOST_TEST(t.out.find(k1.substr(3, 16)) == std::string::npos);  // never key material
}

BOOST_AUTO_TEST_CASE(a_missing_key_a_different_key_and_a_different_active_key_are_found) {
    const std::string k1 = SlapdFixture::key_line("k1"), k2 = SlapdFixture::key_line("k2"),
                      k2other = SlapdFixture::key_line("k2"), k3 = SlapdFixture::key_line("k3");
    Pair p(k1 + k2 + k3, k1 + k2other, "k1");
    Out o = p.keys({"--json"});
    DPW_CHECK_STATUS(o, 1);
    json j = json::parse(o.out);
    BOOST_TEST(j["consistent"] == false);
    std::string all;
    for (auto &x : j["problems"]) all += x.get<std::string>() + "\n";
    BOOST_TEST(all.find("key k2 differs between servers") != std::string::npos, all);
    BOOST_TEST(all.find("key k3 is missing on " + p.b.uri()) != std::string::npos, all);
    BOOST_TEST(all.find("different keys: k1 k3") != std::string::npos, all);
}

BOOST_AUTO_TEST_CASE(people_see_no_keys_and_dead_servers_are_reported) {
    const std::string k1 = SlapdFixture::key_line("k1");
    Pair p(k1, k1);
    Out o = run_devicepw({"keys", "-H", p.a.uri(), "-x", "-D", demo::bob, "-w", demo::bobpw}, p.a.dir(),
                         {{"LDAPBASE", demo::base}});
    DPW_CHECK_STATUS(o, 1);
    BOOST_TEST(o.out.find("no keys shown") != std::string::npos, o.out);
    Out d = run_devicepw({"keys", "-H", p.a.uri(), "-H", "ldap://127.0.0.1:1/", "-x", "-D", SlapdFixture::kRootDn,
                          "-w", SlapdFixture::kRootPw, "--json"},
                         p.a.dir(), {{"LDAPBASE", demo::base}});
    DPW_CHECK_STATUS(d, 0);
    BOOST_TEST(json::parse(d.out)["unreachable"].size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
