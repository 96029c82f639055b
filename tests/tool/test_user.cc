// devicepw user add|remove|list against a real slapd.
#include <boost/test/unit_test.hpp>

#include "tool_fixture.h"

using namespace dpwtest;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(tool_user, ToolFixture)

BOOST_AUTO_TEST_CASE(add_list_remove) {
    const std::string a = "alice@example.com";
    Out empty = root({"user", "list", a});
    DPW_CHECK_STATUS(empty, 0);
    BOOST_TEST(has(empty.out, "has no users"), empty.out);

    DPW_CHECK_STATUS(root({"user", "add", a, "bob"}), 0);
    DPW_CHECK_STATUS(root({"user", "add", a, demo::carol}), 0);
    BOOST_TEST(slapd.root()->read(demo::alice)->values("devicepwuser").size() == 2u);

    Out l = root({"user", "list", a, "--json"});
    DPW_CHECK_STATUS(l, 0);
    json j = parse_json(l);
    BOOST_TEST((keys(j) == std::vector<std::string>{"mailbox", "users"}));
    BOOST_TEST_REQUIRE(j["users"].size() == 2u);
    BOOST_TEST((keys(j["users"][0]) == std::vector<std::string>{"dn", "uid"}));
    BOOST_TEST(j["users"][0]["dn"] == demo::bob);
    BOOST_TEST(j["users"][0]["uid"] == "bob");
    BOOST_TEST(j["users"][1]["uid"] == "carol");

    Out t = root({"user", "list", a});
    DPW_CHECK_STATUS(t, 0);
    BOOST_TEST(t.out.rfind("UID", 0) == 0u, t.out);
    BOOST_TEST(has(t.out, demo::carol), t.out);

    Out twice = root({"user", "add", a, "uid=BOB,ou=people,dc=example,dc=com"});
    DPW_CHECK_STATUS(twice, 5);
    BOOST_TEST(has(twice.err, "already a user"), twice.err);

    DPW_CHECK_STATUS(root({"user", "remove", a, "bob"}), 0);
    DPW_CHECK_STATUS(root({"user", "remove", a, demo::carol}), 0);
    BOOST_TEST(!slapd.root()->read(demo::alice)->has("devicepwuser"));

    Out gone = root({"user", "remove", a, "bob"});
    DPW_CHECK_STATUS(gone, 3);
    BOOST_TEST(has(gone.err, "not a user"), gone.err);
}

BOOST_AUTO_TEST_CASE(unknown_people) {
    const std::string a = "alice@example.com";
    Out o = root({"user", "add", a, "nobody"});
    DPW_CHECK_STATUS(o, 3);
    BOOST_TEST(has(o.err, "(uid=nobody)"), o.err);
    BOOST_TEST(has(o.err, "dc=example,dc=com"), o.err);
    Out dn = root({"user", "add", a, "uid=nobody,ou=people,dc=example,dc=com"});
    DPW_CHECK_STATUS(dn, 3);
    Out usage = root({"user", "add", a});
    DPW_CHECK_STATUS(usage, 2);

    // A value naming no entry (set through LDAP by the rootdn) can still be removed, by uid or by DN.
    const std::string ghost = "uid=ghost,ou=people,dc=example,dc=com";
    for (const std::string &spec : {std::string("ghost"), ghost}) {
        BOOST_TEST_REQUIRE(slapd.root()->modify(demo::alice, {mod_add("devicepwUser", {ghost})}).rc == LDAP_SUCCESS);
        DPW_CHECK_STATUS(root({"user", "remove", a, spec}), 0);
        BOOST_TEST(!slapd.root()->read(demo::alice)->has("devicepwuser"));
    }
}

BOOST_AUTO_TEST_SUITE_END()
