// devicepw against a real slapd: device services (device add --service), mailbox
// suspension (mailbox suspend/resume), device revoke --all, the base from the root DSE,
// and the "no secret" status (devicepwHasSecret).
#include <boost/test/unit_test.hpp>

#include "tool_fixture.h"

using namespace dpwtest;
using nlohmann::json;

namespace {

const std::string kAlice = "alice@example.com";

const json &device_by_id(const json &devices, const std::string &id) {
    for (const auto &d : devices)
        if (d["id"] == id) return d;
    BOOST_FAIL("no device " << id << " in " << devices.dump());
    return devices;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(tool_features, ToolFixture)

// ---- services ----

BOOST_AUTO_TEST_CASE(add_with_services) {
    Out o = root({"device", "add", kAlice, "--label", "Mail", "--service", "imap", "--service", "SMTP", "--service",
                  "imap", "--json"});
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST(j["device"]["services"] == json::array({"imap", "smtp"}));
    const std::string id = j["device"]["id"];
    auto e = slapd.root()->read(demo::device_dn(id), {"devicepwService"});
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST((e->values("devicepwservice") == std::vector<std::string>{"imap", "smtp"}));
    // The overlay's scopes: a bind that names one of its services, and only those.
    const std::string secret = j["secret"];
    auto scoped = [&](const std::string &svc) {
        Conn c(slapd.uri());
        return c.bind("devicepwService=" + svc + "," + demo::alice, secret).rc;
    };
    BOOST_TEST(scoped("imap") == LDAP_SUCCESS);
    BOOST_TEST(scoped("smtp") == LDAP_SUCCESS);
    BOOST_TEST(scoped("pop3") == LDAP_INVALID_CREDENTIALS);
    BOOST_TEST(!binds(demo::alice, secret));  // the plain mailbox DN: for devices without services

    add_device(kAlice, "Laptop");
    Out l = root({"device", "list", kAlice});
    DPW_CHECK_STATUS(l, 0);
    BOOST_TEST(has(l.out, "SERVICES"), l.out);
    BOOST_TEST(has(l.out, "imap,smtp"), l.out);
    BOOST_TEST(has(l.out, "all"), l.out);  // the device without services

    Out s = root({"mailbox", "show", kAlice, "--json"});
    DPW_CHECK_STATUS(s, 0);
    json m = parse_json(s);
    BOOST_TEST(device_by_id(m["devices"], id)["services"] == json::array({"imap", "smtp"}));
    for (const auto &d : m["devices"])
        if (d["id"] != id) BOOST_TEST(d["services"] == json::array());
    Out st = root({"mailbox", "show", kAlice});
    BOOST_TEST(has(st.out, "imap,smtp"), st.out);
}

BOOST_AUTO_TEST_CASE(bad_service_keywords_are_usage_errors) {
    // Checked before anything is sent.
    for (const char *bad : {"", "1imap", "im ap", "imap,smtp", "im_ap", "abcdefghijklmnopqrstuvwxyz0123456"}) {
        Out o = root({"device", "add", kAlice, "--label", "X", "--service", bad});
        DPW_CHECK_STATUS(o, 2);
        BOOST_TEST(has(o.err, "--service"), o.err);
        BOOST_TEST(has(o.err, "a-z"), o.err);
    }
    BOOST_TEST(device_ids().empty());
}

// ---- suspension ----

BOOST_AUTO_TEST_CASE(suspend_and_resume) {
    add_device(kAlice, "iPhone");
    Out s0 = root({"mailbox", "show", kAlice, "--json"});
    DPW_CHECK_STATUS(s0, 0);
    BOOST_TEST(parse_json(s0)["suspended"] == false);

    Out sus = root({"mailbox", "suspend", kAlice});
    DPW_CHECK_STATUS(sus, 0);
    BOOST_TEST(has(sus.out, "Suspended mailbox " + kAlice), sus.out);
    auto e = slapd.root()->read(demo::alice, {"devicepwSuspended"});
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("devicepwsuspended") == "TRUE");

    Out s1 = root({"mailbox", "show", kAlice, "--json"});
    BOOST_TEST(parse_json(s1)["suspended"] == true);
    Out t1 = root({"mailbox", "show", kAlice});
    BOOST_TEST(has(t1.out, "SUSPENDED"), t1.out);
    Out l1 = root({"mailbox", "list", "--json"});
    const json listed = parse_json(l1);  // kept: the loop's range is a part of it
    for (const auto &m : listed["mailboxes"])
        BOOST_TEST(m["suspended"] == (m["address"] == kAlice), m.dump());

    Out again = root({"mailbox", "suspend", kAlice});
    DPW_CHECK_STATUS(again, 5);
    BOOST_TEST(has(again.err, "already suspended"), again.err);

    Out res = root({"mailbox", "resume", kAlice});
    DPW_CHECK_STATUS(res, 0);
    e = slapd.root()->read(demo::alice, {"devicepwSuspended"});
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(!e->has("devicepwsuspended"));
    BOOST_TEST(parse_json(root({"mailbox", "show", kAlice, "--json"}))["suspended"] == false);
    BOOST_TEST(has(root({"mailbox", "show", kAlice}).out, "not suspended"));

    Out res2 = root({"mailbox", "resume", kAlice});
    DPW_CHECK_STATUS(res2, 5);
    BOOST_TEST(has(res2.err, "not suspended"), res2.err);
    DPW_CHECK_STATUS(root({"mailbox", "suspend", "nobody@example.com"}), 3);
}

// The overlay's suspension (DESIGN.md, "Suspension"): devices answer 49 while the
// mailbox is suspended, its people cannot lift it, an administrator can.
BOOST_AUTO_TEST_CASE(suspension_stops_the_devices) {
    const std::string secret = add_device(kAlice, "iPhone");
    DPW_CHECK_STATUS(root({"user", "add", kAlice, "bob"}), 0);
    BOOST_TEST(binds(demo::alice, secret));
    DPW_CHECK_STATUS(root({"mailbox", "suspend", kAlice}), 0);
    BOOST_TEST(!binds(demo::alice, secret));
    DPW_CHECK_STATUS(as(demo::bob, demo::bobpw, {"mailbox", "resume", kAlice}), 5);
    BOOST_TEST(!binds(demo::alice, secret));
    DPW_CHECK_STATUS(as(demo::carol, demo::carolpw, {"mailbox", "resume", kAlice}), 0);
    BOOST_TEST(binds(demo::alice, secret));
}

// ---- revoke --all ----

BOOST_AUTO_TEST_CASE(revoke_all_asks_first) {
    std::vector<std::string> secrets = {add_device(kAlice, "iPhone"), add_device(kAlice, "Laptop"),
                                        add_device(kAlice, "CRM")};
    DPW_CHECK_STATUS(root({"device", "revoke", kAlice, "CRM"}), 0);

    // No answer (standard input at its end, as without a terminal), or no: nothing happens.
    for (const char *input : {"", "n\n", "maybe\n"}) {
        Out o = root({"device", "revoke", kAlice, "--all"}, input);
        DPW_CHECK_STATUS(o, 1);
        BOOST_TEST(has(o.err, "Nothing was revoked"), o.err);
        BOOST_TEST(has(o.err, "iPhone"), o.err);  // the question lists them
        BOOST_TEST(!has(o.err, "CRM"), o.err);    // already revoked: not asked about
    }
    BOOST_TEST(binds(demo::alice, secrets[0]));
    BOOST_TEST(binds(demo::alice, secrets[1]));

    Out y = root({"device", "revoke", kAlice, "--all"}, "yes\n");
    DPW_CHECK_STATUS(y, 0);
    BOOST_TEST(has(y.out, "Revoked all 2 device(s)"), y.out);
    for (const auto &s : secrets) BOOST_TEST(!binds(demo::alice, s));
    json j = parse_json(root({"device", "list", kAlice, "--json"}));
    for (const auto &d : j["devices"]) BOOST_TEST(d["status"] == "revoked", d.dump());

    // Nothing left to revoke: said, and not an error.
    Out none = root({"device", "revoke", kAlice, "--all", "--yes"});
    DPW_CHECK_STATUS(none, 0);
    BOOST_TEST(has(none.out, "nothing to revoke"), none.out);
}

BOOST_AUTO_TEST_CASE(revoke_all_with_yes_and_usage) {
    const std::string s1 = add_device("frank@example.com", "Phone");
    const std::string other = add_device(kAlice, "Alice's phone");
    Out o = root({"device", "revoke", "frank@example.com", "--all", "--yes"});
    DPW_CHECK_STATUS(o, 0);
    BOOST_TEST(!binds(demo::frank, s1));
    BOOST_TEST(binds(demo::alice, other));  // another mailbox's devices are untouched

    DPW_CHECK_STATUS(root({"device", "revoke", kAlice, "Alice's phone", "--all"}), 2);
    DPW_CHECK_STATUS(root({"device", "revoke", "--all"}), 2);
    DPW_CHECK_STATUS(root({"device", "revoke", "nobody@example.com", "--all", "--yes"}), 3);
    BOOST_TEST(binds(demo::alice, other));
}

// ---- the base from the root DSE ----

BOOST_AUTO_TEST_CASE(base_from_the_one_naming_context) {
    env.erase("LDAPBASE");
    env["LDAPNOINIT"] = "1";  // no ldap.conf BASE either, whatever the machine has
    Out o = root({"device", "list", kAlice});
    DPW_CHECK_STATUS(o, 0);
    Out c = root({"mailbox", "create", "new@example.com"});
    DPW_CHECK_STATUS(c, 0);
    BOOST_TEST(has(c.out, "uid=new@example.com,ou=mailboxes," + demo::base), c.out);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// Two public databases: dc=example,dc=com and o=other (back-null).
SlapdOptions two_contexts() {
    SlapdOptions o = tool_slapd_options();
    o.global_directives.push_back("moduleload back_null");
    o.overlay_directives.push_back("database null");
    o.overlay_directives.push_back("suffix \"o=other\"");
    return o;
}

struct TwoContexts : ToolFixture {
    TwoContexts() : ToolFixture(two_contexts()) {}
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(tool_features_base, TwoContexts)

BOOST_AUTO_TEST_CASE(several_naming_contexts_need_mailbox_base) {
    env.erase("LDAPBASE");
    env["LDAPNOINIT"] = "1";
    Out o = root({"device", "list", kAlice});
    DPW_CHECK_STATUS(o, 2);
    BOOST_TEST(has(o.err, "2 naming contexts"), o.err);
    BOOST_TEST(has(o.err, demo::base), o.err);
    BOOST_TEST(has(o.err, "o=other"), o.err);
    BOOST_TEST(has(o.err, "--mailbox-base"), o.err);
    DPW_CHECK_STATUS(root({"device", "list", kAlice, "--mailbox-base", demo::base}), 0);
    // BASE (here LDAPBASE) still wins over the root DSE.
    env.erase("LDAPNOINIT");
    env["LDAPBASE"] = demo::base;
    DPW_CHECK_STATUS(root({"device", "list", kAlice}), 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- no secret ----

BOOST_FIXTURE_TEST_SUITE(tool_features_secret, ToolFixture)

BOOST_AUTO_TEST_CASE(a_device_without_a_secret) {
    // Added as the rootdn with ldapadd's means, never given a password.
    auto c = slapd.root();
    BOOST_REQUIRE(c->add(demo::device_dn("nosec"), {{"objectClass", {"devicepwDevice"}},
                                                    {"devicepwId", {"nosec"}},
                                                    {"devicepwLabel", {"Half-made"}}})
                      .rc == LDAP_SUCCESS);
    add_device(kAlice, "With a secret");
    json j = parse_json(root({"device", "list", kAlice, "--json"}));
    BOOST_TEST(device_by_id(j["devices"], "nosec")["status"] == "no-secret");
    for (const auto &d : j["devices"])
        if (d["id"] != "nosec") BOOST_TEST(d["status"] == "active");
    Out t = root({"device", "list", kAlice});
    DPW_CHECK_STATUS(t, 0);
    BOOST_TEST(has(t.out, "no secret"), t.out);
    Out m = root({"mailbox", "show", kAlice});
    BOOST_TEST(has(m.out, "no secret"), m.out);
    // As an administrator (not the rootdn) and as a user of the mailbox too.
    json a = parse_json(as(demo::carol, demo::carolpw, {"device", "list", kAlice, "--json"}));
    BOOST_TEST(device_by_id(a["devices"], "nosec")["status"] == "no-secret");
    DPW_CHECK_STATUS(root({"user", "add", kAlice, "bob"}), 0);
    json b = parse_json(as(demo::bob, demo::bobpw, {"device", "list", kAlice, "--json"}));
    BOOST_TEST(device_by_id(b["devices"], "nosec")["status"] == "no-secret");
    // Given a password, it is active.
    DPW_CHECK_STATUS(root({"device", "rotate", kAlice, "nosec", "--quiet"}), 0);
    json r = parse_json(root({"device", "list", kAlice, "--json"}));
    BOOST_TEST(device_by_id(r["devices"], "nosec")["status"] == "active");
}

BOOST_AUTO_TEST_SUITE_END()
