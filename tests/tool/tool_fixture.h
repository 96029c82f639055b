// Runs the real devicepw program against a real slapd (the integration fixture).
#ifndef DEVICEPW_TOOL_TEST_FIXTURE_H
#define DEVICEPW_TOOL_TEST_FIXTURE_H

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "slapd_fixture.h"

namespace dpwtest {

struct Out {
    int status = -1;  // exit status, 128+signal, -1 on timeout
    std::string out, err;
};

// Runs devicepw with args, stdin fed from input, in dir, with a clean environment:
// PATH, HOME=dir, TZ=UTC, LANG=C.UTF-8, plus env (a value "" removes nothing; names
// not listed are unset). Bounded: killed after timeout_ms.
Out run_devicepw(const std::vector<std::string> &args, const std::string &dir,
                 const std::map<std::string, std::string> &env = {}, const std::string &input = "",
                 int timeout_ms = 30000);

// Options of the tool fixture's slapd: demo data, carol is a devicepw-admin (with write
// access in the ACLs), everyone reads,
// devicepwLastUsed written on every bind.
SlapdOptions tool_slapd_options();

struct ToolFixture {
    explicit ToolFixture(SlapdOptions opts = tool_slapd_options());
    SlapdFixture slapd;
    std::map<std::string, std::string> env;  // LDAPBASE by default

    // As the rootdn: -H uri -x -D rootdn -w rootpw ARGS.
    Out root(const std::vector<std::string> &args, const std::string &input = "");
    // As dn/pw (simple bind).
    Out as(const std::string &dn, const std::string &pw, const std::vector<std::string> &args,
           const std::string &input = "");
    // Exactly these arguments.
    Out raw(const std::vector<std::string> &args, const std::string &input = "");

    // device add as root; returns the secret (--quiet), failing the test otherwise.
    std::string add_device(const std::string &address, const std::string &label);
    // The ids of a mailbox's devices (as root, through LDAP).
    std::vector<std::string> device_ids(const std::string &mailbox_dn = demo::alice);
    // Whether a simple bind as dn with pw succeeds.
    bool binds(const std::string &dn, const std::string &pw);
    // Waits (polling, bounded) until the server has written devicepwLastUsed of the
    // device with this id: last uses are written by a background flush.
    bool wait_last_used(const std::string &id, const std::string &mailbox = demo::alice);
};

nlohmann::json parse_json(const Out &o);
// The sorted keys of a JSON object.
std::vector<std::string> keys(const nlohmann::json &j);
bool has(const std::string &hay, const std::string &needle);
// Whether s is "YYYY-MM-DDTHH:MM:SSZ".
bool is_iso_utc(const std::string &s);

}  // namespace dpwtest

// Prints the run's output when a check fails.
// Evaluates o once.
#define DPW_CHECK_STATUS(o, expected)                                                                  \
    do {                                                                                              \
        const ::dpwtest::Out &dpw_o_ = (o);                                                           \
        BOOST_TEST(dpw_o_.status == (expected), "exit status " << dpw_o_.status << ", expected "     \
                                                                << (expected) << "\nstdout:\n"       \
                                                                << dpw_o_.out << "\nstderr:\n" << dpw_o_.err); \
    } while (0)

#endif
