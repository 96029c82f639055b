// devicepw device add|list|revoke|rotate|rename|delete against a real slapd.
#include <boost/test/unit_test.hpp>

#include <regex>

#include "tool_fixture.h"

using namespace dpwtest;
using nlohmann::json;

namespace {
const std::string kAlice = "alice@example.com";
const std::vector<std::string> kDeviceKeys = {"created",      "dn",    "expires",    "failures", "id",     "label",
                                              "last_failure", "last_used", "owner", "revoked_at", "services", "status"};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(tool_device, ToolFixture)

BOOST_AUTO_TEST_CASE(add_prints_the_secret_once_and_it_binds) {
    Out o = root({"device", "add", kAlice, "--label", "iPhone"});
    DPW_CHECK_STATUS(o, 0);
    auto ids = device_ids();
    BOOST_TEST_REQUIRE(ids.size() == 1u);
    const std::string id = ids[0];
    std::smatch m;
    BOOST_TEST_REQUIRE(std::regex_search(o.out, m, std::regex("\n    (" + id + "-[a-z0-9-]+)\n")), o.out);
    const std::string secret = m[1];
    BOOST_TEST(is_device_secret(secret, id), secret);
    BOOST_TEST(has(o.out, "cannot be shown again"), o.out);
    BOOST_TEST(o.err.empty(), o.err);
    BOOST_TEST(binds(demo::alice, secret));
    BOOST_TEST_REQUIRE(wait_last_used(id));

    // Listing never shows a secret; the JSON shape is stable.
    Out l = root({"device", "list", kAlice, "--json"});
    DPW_CHECK_STATUS(l, 0);
    BOOST_TEST(!has(l.out, secret.substr(id.size() + 1)));
    json j = parse_json(l);
    BOOST_TEST((keys(j) == std::vector<std::string>{"devices", "mailbox", "unreachable"}));
    BOOST_TEST(j["unreachable"] == json::array());
    BOOST_TEST((keys(j["mailbox"]) == std::vector<std::string>{"address", "dn"}));
    BOOST_TEST(j["mailbox"]["address"] == kAlice);
    BOOST_TEST(j["mailbox"]["dn"] == demo::alice);
    BOOST_TEST_REQUIRE(j["devices"].size() == 1u);
    const json &d = j["devices"][0];
    BOOST_TEST(keys(d) == kDeviceKeys);
    BOOST_TEST(d["id"] == id);
    BOOST_TEST(d["dn"] == demo::device_dn(id));
    BOOST_TEST(d["label"] == "iPhone");
    BOOST_TEST(d["owner"].is_null());  // added by the rootdn: no owner
    BOOST_TEST_REQUIRE(d["created"].is_string());
    BOOST_TEST(is_iso_utc(d["created"].get<std::string>()));
    BOOST_TEST(d["last_used"].is_string());  // the bind above, precision 0
    BOOST_TEST(d["expires"].is_null());
    BOOST_TEST(d["revoked_at"].is_null());
    BOOST_TEST(d["status"] == "active");
    BOOST_TEST(d["services"] == json::array());
    BOOST_TEST(d["failures"] == 0);
    BOOST_TEST(d["last_failure"].is_null());
}

BOOST_AUTO_TEST_CASE(add_quiet_and_json) {
    Out q = root({"device", "add", kAlice, "--label", "CRM", "--quiet"});
    DPW_CHECK_STATUS(q, 0);
    auto ids = device_ids();
    BOOST_TEST_REQUIRE(ids.size() == 1u);
    BOOST_TEST(q.out == q.out.substr(0, ids[0].size() + 20) + "\n", q.out);
    BOOST_TEST(is_device_secret(q.out.substr(0, q.out.size() - 1), ids[0]));

    Out o = root({"device", "add", kAlice, "--label", "Outlook", "--json"});
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST((keys(j) == std::vector<std::string>{"device", "mailbox", "secret"}));
    BOOST_TEST(keys(j["device"]) == kDeviceKeys);
    const std::string id = j["device"]["id"];
    BOOST_TEST(is_device_secret(j["secret"].get<std::string>(), id));
    BOOST_TEST(binds(demo::alice, j["secret"].get<std::string>()));

    Out both = root({"device", "add", kAlice, "--label", "X", "--json", "--quiet"});
    DPW_CHECK_STATUS(both, 2);
}

BOOST_AUTO_TEST_CASE(add_with_owner_and_expiry) {
    Out o = root({"device", "add", kAlice, "--label", "Bob's phone", "--owner", "bob", "--expires", "30d", "--json"});
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST(j["device"]["owner"] == demo::bob);
    auto exp = parse_gentime(slapd.root()->read(j["device"]["dn"].get<std::string>())->one("devicepwexpires"));
    BOOST_TEST_REQUIRE(exp.has_value());
    const long long want = now_epoch() + 30 * 86400;
    BOOST_TEST((*exp >= want - 120 && *exp <= want + 5), *exp << " vs " << want);

    Out d = root({"device", "add", kAlice, "--label", "Tablet", "--owner", demo::carol, "--expires", "2099-01-01",
                  "--json"});
    DPW_CHECK_STATUS(d, 0);
    json k = parse_json(d);
    BOOST_TEST(k["device"]["owner"] == demo::carol);
    BOOST_TEST(k["device"]["expires"] == "2099-01-01T00:00:00Z");  // TZ=UTC in the tests

    Out t = root({"device", "add", kAlice, "--label", "Laptop", "--expires", "2099-06-30 12:30", "--json"});
    DPW_CHECK_STATUS(t, 0);
    BOOST_TEST(parse_json(t)["device"]["expires"] == "2099-06-30T12:30:00Z");

    Out g = root({"device", "add", kAlice, "--label", "Watch", "--expires", "20990101000000Z", "--json"});
    DPW_CHECK_STATUS(g, 0);
    BOOST_TEST(parse_json(g)["device"]["expires"] == "2099-01-01T00:00:00Z");

    Out nobody = root({"device", "add", kAlice, "--label", "X", "--owner", "nobody"});
    DPW_CHECK_STATUS(nobody, 3);
    BOOST_TEST(has(nobody.err, "(uid=nobody)"), nobody.err);
    BOOST_TEST(device_ids().size() == 4u);
}

BOOST_AUTO_TEST_CASE(bad_dates_and_labels_are_usage_errors) {
    for (const char *bad : {"2001-01-01", "soon", "2099-02-30", "0d", "10m", "2099-13-01", "1s ago"}) {
        Out o = root({"device", "add", kAlice, "--label", "X", "--expires", bad});
        DPW_CHECK_STATUS(o, 2);
        BOOST_TEST(has(o.err, "--expires"), o.err);
        BOOST_TEST(o.out.empty(), o.out);
    }
    Out past = root({"device", "add", kAlice, "--label", "X", "--expires", "2001-01-01"});
    BOOST_TEST(has(past.err, "not in the future"), past.err);
    Out ctl = root({"device", "add", kAlice, "--label", std::string("bad\x01label")});
    DPW_CHECK_STATUS(ctl, 2);
    BOOST_TEST(has(ctl.err, "bad --label"), ctl.err);
    Out none = root({"device", "add", kAlice});
    DPW_CHECK_STATUS(none, 2);
    BOOST_TEST(has(none.err, "--label"), none.err);
    BOOST_TEST(device_ids().empty());
}

BOOST_AUTO_TEST_CASE(list_table) {
    Out empty = root({"device", "list", kAlice});
    DPW_CHECK_STATUS(empty, 0);
    BOOST_TEST(has(empty.out, "has no devices"), empty.out);

    const std::string s1 = add_device(kAlice, "iPhone");
    add_device(kAlice, "Outlook on the office PC");
    BOOST_TEST(binds(demo::alice, s1));
    BOOST_TEST_REQUIRE(wait_last_used(s1.substr(0, s1.find('-'))));
    Out o = root({"device", "list", kAlice});
    DPW_CHECK_STATUS(o, 0);
    std::vector<std::string> lines;
    for (size_t p = 0, q; (q = o.out.find('\n', p)) != std::string::npos; p = q + 1) lines.push_back(o.out.substr(p, q - p));
    BOOST_TEST_REQUIRE(lines.size() == 3u, o.out);
    BOOST_TEST(lines[0].rfind("ID", 0) == 0u);
    for (const char *col : {"LABEL", "OWNER", "CREATED", "LAST USED", "EXPIRES", "STATUS"})
        BOOST_TEST(has(lines[0], col), col);
    // Same second, so order by id: find the rows by label.
    const std::string &iphone = has(lines[1], "iPhone") ? lines[1] : lines[2];
    const std::string &outlook = has(lines[1], "iPhone") ? lines[2] : lines[1];
    BOOST_TEST(has(outlook, "Outlook on the office PC"));
    // Aligned: every column starts at the same offset on every line.
    const size_t status_col = lines[0].find("STATUS");
    BOOST_TEST(iphone.substr(status_col) == "active");
    BOOST_TEST(outlook.substr(status_col) == "active");
    const size_t last_col = lines[0].find("LAST USED");
    BOOST_TEST(std::regex_search(iphone.substr(last_col, 16), std::regex(R"(^\d{4}-\d\d-\d\d \d\d:\d\d$)")), iphone);
    BOOST_TEST(outlook.substr(last_col, 5) == "never");
    BOOST_TEST(outlook.substr(lines[0].find("EXPIRES"), 5) == "never");
    BOOST_TEST(!has(o.out, s1.substr(5)));
}

BOOST_AUTO_TEST_CASE(revoke_by_label_then_twice) {
    const std::string secret = add_device(kAlice, "iPhone");
    const std::string id = device_ids()[0];
    Out o = root({"device", "revoke", kAlice, "iphone"});  // labels match case-insensitively
    DPW_CHECK_STATUS(o, 0);
    BOOST_TEST(has(o.out, "Revoked device " + id), o.out);
    BOOST_TEST(!binds(demo::alice, secret));
    json j = parse_json(root({"device", "list", kAlice, "--json"}));
    BOOST_TEST(j["devices"][0]["status"] == "revoked");
    BOOST_TEST(j["devices"][0]["revoked_at"].is_string());

    Out again = root({"device", "revoke", kAlice, id});
    DPW_CHECK_STATUS(again, 5);
    BOOST_TEST(has(again.err, "already revoked"), again.err);
    BOOST_TEST(has(again.err, "hint:"), again.err);

    Out rot = root({"device", "rotate", kAlice, id});
    DPW_CHECK_STATUS(rot, 5);
    BOOST_TEST(has(rot.err, "revoked"), rot.err);
}

BOOST_AUTO_TEST_CASE(ambiguous_label_is_refused_with_candidates) {
    const std::string s1 = add_device(kAlice, "Phone");
    const std::string s2 = add_device(kAlice, "Phone");
    auto ids = device_ids();
    BOOST_TEST_REQUIRE(ids.size() == 2u);
    for (const char *cmd : {"revoke", "rotate"}) {
        Out o = root({"device", cmd, kAlice, "Phone"});
        DPW_CHECK_STATUS(o, 3);
        BOOST_TEST(has(o.err, "ambiguous"), o.err);
        BOOST_TEST(has(o.err, ids[0]), o.err);
        BOOST_TEST(has(o.err, ids[1]), o.err);
    }
    BOOST_TEST(binds(demo::alice, s1));
    BOOST_TEST(binds(demo::alice, s2));
    Out byid = root({"device", "revoke", kAlice, ids[0]});
    DPW_CHECK_STATUS(byid, 0);

    Out unknown = root({"device", "revoke", kAlice, "nosuchdevice"});
    DPW_CHECK_STATUS(unknown, 3);
    BOOST_TEST(has(unknown.err, "no device"), unknown.err);
}

BOOST_AUTO_TEST_CASE(rotate_kills_the_old_secret) {
    const std::string old = add_device(kAlice, "iPhone");
    const std::string id = device_ids()[0];
    Out o = root({"device", "rotate", kAlice, id, "--quiet"});
    DPW_CHECK_STATUS(o, 0);
    const std::string fresh = o.out.substr(0, o.out.size() - 1);
    BOOST_TEST(is_device_secret(fresh, id), fresh);
    BOOST_TEST(fresh != old);
    BOOST_TEST(!binds(demo::alice, old));
    BOOST_TEST(binds(demo::alice, fresh));

    Out human = root({"device", "rotate", kAlice, "iPhone"});
    DPW_CHECK_STATUS(human, 0);
    BOOST_TEST(has(human.out, "cannot be shown again"), human.out);
    BOOST_TEST(has(human.out, "no longer works"), human.out);
    BOOST_TEST(!binds(demo::alice, fresh));
}

BOOST_AUTO_TEST_CASE(rename_and_delete) {
    const std::string secret = add_device(kAlice, "iPhone");
    const std::string id = device_ids()[0];
    Out o = root({"device", "rename", kAlice, "iPhone", "Marie's iPhone"});
    DPW_CHECK_STATUS(o, 0);
    BOOST_TEST(slapd.root()->read(demo::device_dn(id))->one("devicepwlabel") == "Marie's iPhone");
    BOOST_TEST(binds(demo::alice, secret));  // same id, same secret

    Out bad = root({"device", "rename", kAlice, id, std::string("tab\tlabel")});
    DPW_CHECK_STATUS(bad, 2);
    Out missing = root({"device", "rename", kAlice, id});
    DPW_CHECK_STATUS(missing, 2);

    Out no = root({"device", "delete", kAlice, id}, "n\n");
    DPW_CHECK_STATUS(no, 1);
    BOOST_TEST(device_ids().size() == 1u);
    Out del = root({"device", "delete", kAlice, id, "--yes"});
    DPW_CHECK_STATUS(del, 0);
    BOOST_TEST(device_ids().empty());
    BOOST_TEST(!binds(demo::alice, secret));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
// A server that refuses Password Modify: the device entry is added, the secret cannot be made.
SlapdOptions no_passwd_options() {
    SlapdOptions o = tool_slapd_options();
    o.db_directives.push_back("restrict extended=1.3.6.1.4.1.4203.1.11.1");
    return o;
}
struct NoPasswdFixture : ToolFixture {
    NoPasswdFixture() : ToolFixture(no_passwd_options()) {}
};
SlapdOptions max_one_options() {
    SlapdOptions o = tool_slapd_options();
    o.overlay_directives.push_back("devicepw-max-devices 1");
    return o;
}
struct MaxOneFixture : ToolFixture {
    MaxOneFixture() : ToolFixture(max_one_options()) {}
};
}  // namespace

BOOST_AUTO_TEST_SUITE(tool_device)

BOOST_FIXTURE_TEST_CASE(failed_secret_leaves_no_device_behind, NoPasswdFixture) {
    Out o = root({"device", "add", kAlice, "--label", "iPhone"});
    DPW_CHECK_STATUS(o, 5);
    BOOST_TEST(has(o.err, "generating the password"), o.err);
    BOOST_TEST(has(o.err, "(53)"), o.err);
    BOOST_TEST(has(o.err, "removed again"), o.err);
    BOOST_TEST(o.out.empty(), o.out);
    BOOST_TEST(device_ids().empty());
}

BOOST_FIXTURE_TEST_CASE(too_many_devices, MaxOneFixture) {
    add_device(kAlice, "one");
    Out o = root({"device", "add", kAlice, "--label", "two"});
    DPW_CHECK_STATUS(o, 5);
    BOOST_TEST(has(o.err, "(11)"), o.err);
    BOOST_TEST(has(o.err, "devicepw device delete"), o.err);
    BOOST_TEST(device_ids().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
