// devicepw mailbox create|show|list|delete against a real slapd.
#include <boost/test/unit_test.hpp>

#include "tool_fixture.h"

using namespace dpwtest;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(tool_mailbox, ToolFixture)

BOOST_AUTO_TEST_CASE(create_show_list) {
    Out o = root({"mailbox", "create", "new@example.com"});
    DPW_CHECK_STATUS(o, 0);
    const std::string dn = "uid=new@example.com,ou=mailboxes,dc=example,dc=com";
    BOOST_TEST(has(o.out, dn), o.out);
    auto e = slapd.root()->read(dn);
    BOOST_TEST_REQUIRE(e.has_value());
    auto oc = e->values("objectclass");
    BOOST_TEST((std::find(oc.begin(), oc.end(), "devicepwMailbox") != oc.end()));
    BOOST_TEST(e->one("mail") == "new@example.com");
    BOOST_TEST(!e->has("userpassword"));

    Out s = root({"mailbox", "show", "new@example.com", "--json"});
    DPW_CHECK_STATUS(s, 0);
    json j = parse_json(s);
    BOOST_TEST((keys(j) == std::vector<std::string>{"address", "devices", "dn", "suspended", "unreachable", "users"}));
    BOOST_TEST(j["suspended"] == false);
    BOOST_TEST(j["dn"] == dn);
    BOOST_TEST(j["users"].is_array());
    BOOST_TEST(j["devices"].size() == 0u);

    add_device("alice@example.com", "iPhone");
    Out h = root({"mailbox", "show", "alice@example.com"});
    DPW_CHECK_STATUS(h, 0);
    BOOST_TEST(has(h.out, demo::alice), h.out);
    BOOST_TEST(has(h.out, "1 (1 active)"), h.out);
    BOOST_TEST(has(h.out, "iPhone"), h.out);

    Out l = root({"mailbox", "list", "--json"});
    DPW_CHECK_STATUS(l, 0);
    json m = parse_json(l);
    BOOST_TEST((keys(m) == std::vector<std::string>{"mailboxes"}));
    BOOST_TEST_REQUIRE(m["mailboxes"].size() == 3u);
    BOOST_TEST(m["mailboxes"][0]["address"] == "alice@example.com");  // sorted by address
    BOOST_TEST((keys(m["mailboxes"][0]) == std::vector<std::string>{"address", "devices", "dn", "suspended", "users"}));
    BOOST_TEST(m["mailboxes"][0]["devices"] == 1);
    BOOST_TEST(m["mailboxes"][1]["address"] == "frank@example.com");
    BOOST_TEST(m["mailboxes"][1]["devices"] == 0);
    BOOST_TEST(m["mailboxes"][2]["address"] == "new@example.com");

    Out t = root({"mailbox", "list"});
    DPW_CHECK_STATUS(t, 0);
    BOOST_TEST(t.out.rfind("ADDRESS", 0) == 0u, t.out);
    BOOST_TEST(has(t.out, "new@example.com"), t.out);
}

BOOST_AUTO_TEST_CASE(create_refusals_and_existing_entries) {
    Out again = root({"mailbox", "create", "alice@example.com"});
    DPW_CHECK_STATUS(again, 5);
    BOOST_TEST(has(again.err, "already a mailbox"), again.err);

    // An existing entry with that address becomes a mailbox.
    const std::string person = "uid=gina,ou=people,dc=example,dc=com";
    BOOST_TEST_REQUIRE(slapd.root()->add(person, {{"objectClass", {"inetOrgPerson"}}, {"uid", {"gina"}},
                                                  {"cn", {"Gina"}}, {"sn", {"G"}}, {"mail", {"gina@example.com"}}})
                           .rc == LDAP_SUCCESS);
    Out show = root({"mailbox", "show", "gina@example.com"});
    DPW_CHECK_STATUS(show, 3);
    BOOST_TEST(has(show.err, "not a mailbox"), show.err);
    Out made = root({"mailbox", "create", "gina@example.com"});
    DPW_CHECK_STATUS(made, 0);
    BOOST_TEST(has(made.out, person), made.out);
    DPW_CHECK_STATUS(root({"mailbox", "show", "gina@example.com"}), 0);

    Out parent = root({"mailbox", "create", "x@example.com", "--mailbox-parent", "ou=nowhere,dc=example,dc=com"});
    DPW_CHECK_STATUS(parent, 3);
    BOOST_TEST(has(parent.err, "ou=nowhere,dc=example,dc=com"), parent.err);
    BOOST_TEST(has(parent.err, "--mailbox-parent"), parent.err);

    Out noarg = root({"mailbox", "create"});
    DPW_CHECK_STATUS(noarg, 2);
}

BOOST_AUTO_TEST_CASE(unknown_and_ambiguous_addresses) {
    Out o = root({"mailbox", "show", "nobody@example.com"});
    DPW_CHECK_STATUS(o, 3);
    BOOST_TEST(has(o.err, "(mail=nobody@example.com)"), o.err);
    BOOST_TEST(has(o.err, "under dc=example,dc=com"), o.err);
    BOOST_TEST(o.out.empty());
    for (std::vector<std::string> cmd : {std::vector<std::string>{"device", "list", "nobody@example.com"},
                                         {"device", "add", "nobody@example.com", "--label", "x"},
                                         {"user", "list", "nobody@example.com"},
                                         {"mailbox", "delete", "nobody@example.com", "--yes"}}) {
        Out r = root(cmd);
        DPW_CHECK_STATUS(r, 3);
    }
    // Filter values are escaped.
    Out star = root({"mailbox", "show", "*"});
    DPW_CHECK_STATUS(star, 3);
    BOOST_TEST(has(lower(star.err), "(mail=\\2a)"), star.err);

    BOOST_TEST_REQUIRE(slapd.root()->add("uid=alice2,ou=people,dc=example,dc=com",
                                         {{"objectClass", {"inetOrgPerson"}}, {"uid", {"alice2"}}, {"cn", {"A"}},
                                          {"sn", {"A"}}, {"mail", {"alice@example.com"}}})
                           .rc == LDAP_SUCCESS);
    Out amb = root({"device", "list", "alice@example.com"});
    DPW_CHECK_STATUS(amb, 3);
    BOOST_TEST(has(amb.err, "ambiguous"), amb.err);
    BOOST_TEST(has(amb.err, demo::alice), amb.err);
    BOOST_TEST(has(amb.err, "uid=alice2,ou=people,dc=example,dc=com"), amb.err);
    // A narrower base or another filter resolves it.
    DPW_CHECK_STATUS(root({"device", "list", "alice@example.com", "--mailbox-base", demo::mailboxes}), 0);
    DPW_CHECK_STATUS(root({"device", "list", "alice@example.com", "--mailbox-filter",
                           "(&(mail=%s)(objectClass=devicepwMailbox))"}),
                     0);
    env["DEVICEPW_MAILBOX_BASE"] = demo::mailboxes;
    DPW_CHECK_STATUS(root({"device", "list", "alice@example.com"}), 0);
}

BOOST_AUTO_TEST_CASE(delete_asks_first_and_deletes_devices) {
    add_device("alice@example.com", "iPhone");
    add_device("alice@example.com", "Outlook");
    Out no = root({"mailbox", "delete", "alice@example.com"}, "n\n");
    DPW_CHECK_STATUS(no, 1);
    BOOST_TEST(has(no.err, "2 device(s)?"), no.err);
    BOOST_TEST(has(no.err, "Nothing was deleted"), no.err);
    Out eof = root({"mailbox", "delete", "alice@example.com"});
    DPW_CHECK_STATUS(eof, 1);
    BOOST_TEST(device_ids().size() == 2u);

    Out yes = root({"mailbox", "delete", "alice@example.com"}, "y\n");
    DPW_CHECK_STATUS(yes, 0);
    BOOST_TEST(!slapd.root()->read(demo::alice).has_value());

    Out flag = root({"mailbox", "delete", "frank@example.com", "--yes"});
    DPW_CHECK_STATUS(flag, 0);
    BOOST_TEST(!slapd.root()->read(demo::frank).has_value());
}

BOOST_AUTO_TEST_CASE(list_by_user) {
    DPW_CHECK_STATUS(root({"user", "add", "alice@example.com", "bob"}), 0);
    Out o = root({"mailbox", "list", "--user", "bob", "--json"});
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST_REQUIRE(j["mailboxes"].size() == 1u);
    BOOST_TEST(j["mailboxes"][0]["address"] == "alice@example.com");
    BOOST_TEST(j["mailboxes"][0]["users"][0] == demo::bob);
    Out none = root({"mailbox", "list", "--user", demo::carol});
    DPW_CHECK_STATUS(none, 0);
    BOOST_TEST(has(none.out, "No mailboxes"), none.out);
    DPW_CHECK_STATUS(root({"mailbox", "list", "--user", "nobody"}), 3);
}

BOOST_AUTO_TEST_SUITE_END()
