// Connection, authentication, authorisation and usage errors of the devicepw program.
#include <boost/test/unit_test.hpp>

#include "tool_fixture.h"

using namespace dpwtest;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(tool_access, ToolFixture)

BOOST_AUTO_TEST_CASE(wrong_bind_password) {
    Out o = as(demo::carol, "wrong", {"device", "list", "alice@example.com"});
    DPW_CHECK_STATUS(o, 4);
    BOOST_TEST(has(o.err, "Invalid credentials (49)"), o.err);
    BOOST_TEST(has(o.err, demo::carol), o.err);
    BOOST_TEST(has(o.err, "hint:"), o.err);
    BOOST_TEST(o.out.empty());
}

BOOST_AUTO_TEST_CASE(server_down) {
    const std::string where = "127.0.0.1:" + std::to_string(slapd.port());
    slapd.stop();
    Out o = root({"device", "list", "alice@example.com"});
    DPW_CHECK_STATUS(o, 4);
    BOOST_TEST(has(o.err, "Can't contact LDAP server (-1)"), o.err);
    BOOST_TEST(has(o.err, where), o.err);
    BOOST_TEST(has(o.err, "-H URI"), o.err);
}

BOOST_AUTO_TEST_CASE(not_allowed) {
    Out add = as(demo::bob, demo::bobpw, {"device", "add", "alice@example.com", "--label", "x"});
    DPW_CHECK_STATUS(add, 5);
    BOOST_TEST(has(add.err, "Insufficient access (50)"), add.err);
    BOOST_TEST(has(add.err, "not allowed to manage this mailbox's devices"), add.err);
    BOOST_TEST(has(add.err, "devicepw-admin"), add.err);
    BOOST_TEST(device_ids().empty());

    Out user = as(demo::bob, demo::bobpw, {"user", "add", "alice@example.com", "bob"});
    DPW_CHECK_STATUS(user, 5);
    BOOST_TEST(has(user.err, "(50)"), user.err);

    add_device("alice@example.com", "iPhone");
    const std::string id = device_ids()[0];
    for (std::vector<std::string> cmd : {std::vector<std::string>{"device", "revoke", "alice@example.com", id},
                                         {"device", "rotate", "alice@example.com", id},
                                         {"device", "rename", "alice@example.com", id, "New"},
                                         {"device", "delete", "alice@example.com", id, "--yes"}}) {
        Out o = as(demo::bob, demo::bobpw, cmd);
        DPW_CHECK_STATUS(o, 5);
        BOOST_TEST(has(o.err, "(50)"), o.err);
    }
    // Anonymous: no bind options at all.
    Out anon = raw({"-H", slapd.uri(), "device", "add", "alice@example.com", "--label", "x"});
    DPW_CHECK_STATUS(anon, 5);
}

BOOST_AUTO_TEST_CASE(devicepw_admin_manages_devices_and_owns_them) {
    Out o = as(demo::carol, demo::carolpw, {"device", "add", "alice@example.com", "--label", "iPhone", "--json"});
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST(j["device"]["owner"] == demo::carol);  // set by the overlay
    Out r = as(demo::carol, demo::carolpw, {"device", "revoke", "alice@example.com", "iPhone"});
    DPW_CHECK_STATUS(r, 0);
    Out u = as(demo::carol, demo::carolpw, {"user", "add", "alice@example.com", "bob"});
    DPW_CHECK_STATUS(u, 0);
}

BOOST_AUTO_TEST_CASE(defaults_from_ldaprc_and_password_file) {
    // No -H, no base options: ./ldaprc (as libldap reads it) gives URI and BASE.
    env.erase("LDAPBASE");
    slapd.write_file(slapd.path("ldaprc"), "URI " + slapd.uri() + "\nBASE " + demo::base + "\n", 0600);
    slapd.write_file(slapd.path("pw"), std::string(SlapdFixture::kRootPw) + "\n", 0600);
    Out o = raw({"-x", "-D", SlapdFixture::kRootDn, "-y", slapd.path("pw"), "mailbox", "list"});
    DPW_CHECK_STATUS(o, 0);
    BOOST_TEST(has(o.out, "alice@example.com"), o.out);
    // Connection options before or after the command.
    Out after = raw({"mailbox", "list", "-x", "-D", SlapdFixture::kRootDn, "-y", slapd.path("pw")});
    DPW_CHECK_STATUS(after, 0);
    // The bind DN and the password file from the environment.
    env["DEVICEPW_BINDDN"] = SlapdFixture::kRootDn;
    env["DEVICEPW_PASSWORD_FILE"] = slapd.path("pw");
    Out envd = raw({"device", "add", "alice@example.com", "--label", "x", "--quiet"});
    DPW_CHECK_STATUS(envd, 0);

    Out missing = raw({"-x", "-D", SlapdFixture::kRootDn, "-y", slapd.path("nonexistent"), "mailbox", "list"});
    DPW_CHECK_STATUS(missing, 1);
    BOOST_TEST(has(missing.err, "password file"), missing.err);
}

BOOST_AUTO_TEST_CASE(no_base_configured) {
    // No BASE: the server's one naming context (tool_features: several are an error).
    env.erase("LDAPBASE");
    env["LDAPNOINIT"] = "1";
    Out o = root({"device", "list", "alice@example.com"});
    DPW_CHECK_STATUS(o, 0);
    DPW_CHECK_STATUS(root({"device", "list", "alice@example.com", "--mailbox-base", demo::base}), 0);
    // A base where there is no mailbox: not found, showing the base.
    Out n = root({"device", "list", "alice@example.com", "--mailbox-base", demo::people});
    DPW_CHECK_STATUS(n, 3);
    BOOST_TEST(has(n.err, demo::people), n.err);
}

BOOST_AUTO_TEST_CASE(starttls_options) {
    // The test slapd has no TLS: -Z warns and goes on, -ZZ fails.
    Out z = root({"-Z", "mailbox", "list"});
    DPW_CHECK_STATUS(z, 0);
    BOOST_TEST(has(z.err, "StartTLS"), z.err);
    Out zz = root({"-ZZ", "mailbox", "list"});
    DPW_CHECK_STATUS(zz, 4);
    BOOST_TEST(has(zz.err, "StartTLS"), zz.err);
}

BOOST_AUTO_TEST_CASE(usage_and_help) {
    Out top = raw({"--help"});
    DPW_CHECK_STATUS(top, 0);
    BOOST_TEST(has(top.out, "Exit codes:"), top.out);
    BOOST_TEST(has(top.out, "device add"), top.out);
    const std::vector<std::vector<std::string>> cmds = {
        {"mailbox", "create"}, {"mailbox", "show"},   {"mailbox", "list"},   {"mailbox", "delete"},
        {"mailbox", "suspend"}, {"mailbox", "resume"},
        {"device", "add"},     {"device", "list"},    {"device", "revoke"},  {"device", "rotate"},
        {"device", "rename"},  {"device", "delete"},  {"user", "add"},       {"user", "remove"},
        {"user", "list"},      {"keygen"}};
    for (auto cmd : cmds) {
        std::string name;
        for (auto &w : cmd) name += (name.empty() ? "" : " ") + w;
        cmd.push_back("--help");
        Out h = raw(cmd);
        DPW_CHECK_STATUS(h, 0);
        BOOST_TEST(has(h.out, "Usage: devicepw " + name), name << ":\n" << h.out);
        if (cmd[0] != "keygen") {
            BOOST_TEST(has(h.out, "Exit codes:"), name);
            BOOST_TEST(has(h.out, "-H [ --uri ] URI"), name);
        }
    }
    Out grp = raw({"device"});
    DPW_CHECK_STATUS(grp, 2);
    BOOST_TEST(has(grp.err, "revoke"), grp.err);
    DPW_CHECK_STATUS(raw({"device", "--help"}), 0);
    Out sub = raw({"device", "frobnicate"});
    DPW_CHECK_STATUS(sub, 2);
    BOOST_TEST(has(sub.err, "unknown subcommand"), sub.err);
    Out opt = root({"device", "list", "alice@example.com", "--bogus"});
    DPW_CHECK_STATUS(opt, 2);
    BOOST_TEST(has(opt.err, "--help"), opt.err);
}

BOOST_AUTO_TEST_SUITE_END()
