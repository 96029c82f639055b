// The devicepw tool's output and option plumbing (tools/output.h, options.h,
// directory.h's fill_filter): tables, the JSON objects of devicepw(1), -ZZ, the
// DEVICEPW_* environment, filter templates. No server involved.
#include <boost/program_options.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "directory.h"
#include "errors.h"
#include "options.h"
#include "output.h"

using namespace dpwtool;
namespace po = boost::program_options;

namespace {

std::string table(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows) {
    std::ostringstream out;
    write_table(out, header, rows);
    return out.str();
}

Context parsed(std::vector<std::string> args) {
    po::options_description all;
    all.add(connection_options()).add(directory_options());
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).run(), vm);
    Context ctx;
    apply_options(vm, ctx);
    return ctx;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tool_output)

BOOST_AUTO_TEST_CASE(tables_align_utf8_columns) {
    BOOST_TEST(display_width("Marie's iPhone") == 14u);
    BOOST_TEST(display_width("Ünïcödé") == 7u);
    BOOST_TEST(display_width("") == 0u);
    BOOST_TEST(table({"ID", "LABEL", "STATUS"}, {{"k3x9", "Ünïcödé", "active"}, {"p8w2", "Outlook 2016", "revoked"}}) ==
               "ID    LABEL         STATUS\n"
               "k3x9  Ünïcödé       active\n"
               "p8w2  Outlook 2016  revoked\n");
    BOOST_TEST(table({"UID", "DN"}, {}) == "UID  DN\n");
}

BOOST_AUTO_TEST_CASE(device_json_has_every_key_in_order) {
    Device d;
    d.id = "k3x9";
    d.dn = "devicepwId=k3x9,uid=alice@example.com,dc=x";
    d.label = "iPhone";
    d.created = 1893456000;
    d.expires = 1893456000 + 10;
    BOOST_TEST(json_text(device_json(d, 1893456000)) ==
               "{\n"
               "  \"id\": \"k3x9\",\n"
               "  \"dn\": \"devicepwId=k3x9,uid=alice@example.com,dc=x\",\n"
               "  \"label\": \"iPhone\",\n"
               "  \"owner\": null,\n"
               "  \"services\": [],\n"
               "  \"created\": \"2030-01-01T00:00:00Z\",\n"
               "  \"last_used\": null,\n"
               "  \"failures\": 0,\n"
               "  \"last_failure\": null,\n"
               "  \"expires\": \"2030-01-01T00:00:10Z\",\n"
               "  \"revoked_at\": null,\n"
               "  \"status\": \"active\"\n"
               "}\n");
    BOOST_TEST(device_json(d, 1893456000 + 10)["status"] == "expired");
    d.has_secret = false;
    BOOST_TEST(device_json(d, 1893456000)["status"] == "no-secret");
    d.revoked = true;
    BOOST_TEST(device_json(d, 0)["status"] == "revoked");
}

BOOST_AUTO_TEST_CASE(device_json_services_and_failures) {
    Device d;
    d.id = "k3x9";
    d.services = {"imap", "smtp"};
    d.failures = 7;
    d.last_failure = 1893456000;
    const json j = device_json(d, 0);
    BOOST_TEST(j["services"].dump() == R"(["imap","smtp"])");
    BOOST_TEST(j["failures"] == 7);
    BOOST_TEST(j["last_failure"] == "2030-01-01T00:00:00Z");
    BOOST_TEST(failures_text(Device{}) == "0");
    BOOST_TEST(failures_text(d).rfind("7, last 20", 0) == 0u, failures_text(d));
}

BOOST_AUTO_TEST_CASE(mailbox_reference_and_invalid_utf8) {
    const Mailbox m{"alice@example.com", Entry{"uid=alice@example.com,dc=x", {}}};
    BOOST_TEST(mailbox_ref_json(m).dump() == R"({"address":"alice@example.com","dn":"uid=alice@example.com,dc=x"})");
    // A label that is not UTF-8 is printed with U+FFFD, not an exception.
    BOOST_TEST(json_text(json("a\xff")) == "\"a\xef\xbf\xbd\"\n");
}

BOOST_AUTO_TEST_CASE(short_person_is_the_uid) {
    BOOST_TEST(short_person("uid=bob,ou=people,dc=x") == "bob");
    BOOST_TEST(short_person("UID=bob,dc=x") == "bob");
    BOOST_TEST(short_person("cn=Bob Smith,dc=x") == "cn=Bob Smith,dc=x");
    BOOST_TEST(short_person("ou=people,uid=bob") == "ou=people,uid=bob");
}

BOOST_AUTO_TEST_CASE(double_z_means_require_starttls) {
    std::vector<std::string> argv_s = {"devicepw", "-ZZ", "-Z", "mailbox", "--", "-ZZ"};
    std::vector<char *> argv;
    for (auto &s : argv_s) argv.push_back(s.data());
    BOOST_TEST(preprocess(static_cast<int>(argv.size()), argv.data()) ==
               (Args{"--require-starttls", "-Z", "mailbox", "--", "-ZZ"}));
}

BOOST_AUTO_TEST_CASE(connection_and_directory_options) {
    const Context c = parsed({"-H", "ldap://h", "-x", "-D", "cn=a", "-y", "/pw", "-Z", "--timeout", "5",
                              "--mailbox-base", "dc=x", "--person-filter", "(cn=%s)"});
    BOOST_TEST(c.conn.uri.value_or("") == "ldap://h");
    BOOST_TEST(c.conn.simple);
    BOOST_TEST(c.conn.binddn.value_or("") == "cn=a");
    BOOST_TEST(c.conn.password_file.value_or("") == "/pw");
    BOOST_TEST(!c.conn.password.has_value());
    BOOST_TEST(c.conn.starttls == 1);
    BOOST_TEST(c.conn.timeout_s == 5);
    BOOST_TEST(c.mailbox_base.value_or("") == "dc=x");
    BOOST_TEST(c.person_filter.value_or("") == "(cn=%s)");
    BOOST_TEST(!c.people_base.has_value());

    BOOST_TEST(parsed({"--require-starttls", "-Z"}).conn.starttls == 2);
    BOOST_TEST(parsed({}).conn.timeout_s == 30);
    for (const char *t : {"0", "-3"}) {
        try {
            parsed({"--timeout", t});
            BOOST_ERROR("--timeout " << t << " was accepted");
        } catch (const UsageError &e) {
            BOOST_TEST(e.exit_code == kExitUsage);
        }
    }
}

BOOST_AUTO_TEST_CASE(several_servers) {
    // -H repeated, then --servers; repeats dropped, the first kept.
    Context c = parsed({"-H", "ldap://a", "--servers", "ldap://b, ldap://c,,ldap://a", "-H", "ldap://d"});
    BOOST_TEST(c.servers == (std::vector<std::string>{"ldap://a", "ldap://d", "ldap://b", "ldap://c"}));
    // The commands that use one connection get all of them as libldap's list of URIs.
    BOOST_TEST(c.conn.uri.value_or("") == "ldap://a ldap://d ldap://b ldap://c");
    c = parsed({"-H", "ldap://only"});
    BOOST_TEST(c.servers == std::vector<std::string>{"ldap://only"});
    BOOST_TEST(c.conn.uri.value_or("") == "ldap://only");
    BOOST_TEST(parsed({}).servers.empty());
    BOOST_TEST(!parsed({}).conn.uri.has_value());
    try {
        parsed({"--servers", " , "});
        BOOST_ERROR("an empty --servers was accepted");
    } catch (const UsageError &e) {
        BOOST_TEST(e.exit_code == kExitUsage);
    }
    BOOST_TEST(split_servers("ldap://a,ldap://b ldap://c\tldap://d,") ==
               (std::vector<std::string>{"ldap://a", "ldap://b", "ldap://c", "ldap://d"}));
    BOOST_TEST(split_servers("").empty());
    BOOST_TEST(server_list({"ldap://x", "ldap://x"}, "ldap://x") == std::vector<std::string>{"ldap://x"});

    // DEVICEPW_SERVERS, overridden by the command line.
    ::setenv("DEVICEPW_SERVERS", "ldap://e1,ldap://e2", 1);
    Context ctx;
    apply_environment(ctx);
    ::unsetenv("DEVICEPW_SERVERS");
    BOOST_TEST(ctx.servers == (std::vector<std::string>{"ldap://e1", "ldap://e2"}));
    po::options_description all;
    all.add(connection_options());
    po::variables_map vm;
    po::store(po::command_line_parser(std::vector<std::string>{"-H", "ldap://cli"}).options(all).run(), vm);
    apply_options(vm, ctx);
    BOOST_TEST(ctx.servers == std::vector<std::string>{"ldap://cli"});
}

BOOST_AUTO_TEST_CASE(environment_names) {
    ::setenv("DEVICEPW_MAILBOX_BASE", "ou=mail,dc=x", 1);
    ::setenv("DEVICEPW_BINDDN", "cn=admin,dc=x", 1);
    ::setenv("DEVICEPW_URI", "ldap://not-an-option", 1);  // not one of the names read
    Context ctx;
    apply_environment(ctx);
    ::unsetenv("DEVICEPW_MAILBOX_BASE");
    ::unsetenv("DEVICEPW_BINDDN");
    ::unsetenv("DEVICEPW_URI");
    BOOST_TEST(ctx.mailbox_base.value_or("") == "ou=mail,dc=x");
    BOOST_TEST(ctx.conn.binddn.value_or("") == "cn=admin,dc=x");
    BOOST_TEST(!ctx.conn.uri.has_value());
}

BOOST_AUTO_TEST_CASE(filter_templates_escape_the_value) {
    BOOST_TEST(fill_filter(kDefaultMailboxFilter, "alice@example.com") == "(mail=alice@example.com)");
    BOOST_TEST(fill_filter("(mail=%s)", "a*b(c)\\") == "(mail=a\\2Ab\\28c\\29\\5C)");
    BOOST_TEST(fill_filter("(|(mail=%s)(uid=%s))", "x") == "(|(mail=x)(uid=x))");
    BOOST_TEST(fill_filter("(cn=100%)", "x") == "(cn=100%)");
    BOOST_TEST(fill_filter("(cn=%d)", "x") == "(cn=%d)");
}

BOOST_AUTO_TEST_SUITE_END()
