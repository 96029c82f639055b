// devicepw device list / mailbox show over several servers: the devices (truth) from the
// first server that answers, last uses and failures (telemetry, per server and never
// replicated) merged over all of them, unreachable servers reported.
//
// Two independent slapds hold the same mailbox and the same device entry (added as the
// rootdn, each with its own key and secret); telemetry is produced by real binds (good
// ones, and wrong random parts for the device's id, which count as failures) and polled
// for, with a deadline.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ctime>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tool_fixture.h"

using namespace dpwtest;
using nlohmann::json;

namespace {

const std::string kAlice = "alice@example.com";
const std::string kId = "k3x9";

// An ldap:// URI on 127.0.0.1 where nothing listens: a port the kernel handed out and
// that was closed again at once.
std::string dead_uri() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    BOOST_REQUIRE(::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) == 0);
    ::close(s);
    return "ldap://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

std::string iso(long long epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// The device entry k3x9 of alice, added as the rootdn, and a generated secret.
std::string add_device_as_root(SlapdFixture &s) {
    auto c = s.root();
    Result r = c->add(demo::device_dn(kId),
                      {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {kId}}, {"devicepwLabel", {"Phone"}}});
    BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "adding the device: " << r.rc << " " << r.diag);
    PasswdResult p = c->passwd(demo::device_dn(kId));
    BOOST_REQUIRE_MESSAGE(p.res.rc == LDAP_SUCCESS && p.genpasswd, "generating its secret: " << p.res.rc);
    return *p.genpasswd;
}

int bind_rc(SlapdFixture &s, const std::string &pw) {
    Conn c(s.uri());
    return c.bind(demo::alice, pw).rc;
}

// One server's telemetry of the device, as the server holds it.
struct Tele {
    std::optional<long long> last_used, last_failure;
    long long failures = 0;
};

Tele read_tele(SlapdFixture &s) {
    Tele t;
    auto e = s.root()->read(demo::device_dn(kId), {"devicepwLastUsed", "devicepwFailureCount", "devicepwLastFailure"});
    BOOST_REQUIRE(e.has_value());
    if (e->has("devicepwlastused")) t.last_used = parse_gentime(e->one("devicepwlastused"));
    if (e->has("devicepwlastfailure")) t.last_failure = parse_gentime(e->one("devicepwlastfailure"));
    if (e->has("devicepwfailurecount")) t.failures = std::stoll(e->one("devicepwfailurecount"));
    return t;
}

// Polls (bounded) until the server has flushed a last use and at least `failures` failures.
Tele wait_tele(SlapdFixture &s, long long failures) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (;;) {
        Tele t = read_tele(s);
        if (t.last_used && t.last_failure && t.failures >= failures) return t;
        BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < end,
                              "telemetry not written on " << s.uri() << ": failures " << t.failures);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Waits until the wall clock has passed epoch (polls the clock; the server is not involved).
void wait_past(long long epoch) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (now_epoch() <= epoch) {
        BOOST_REQUIRE(std::chrono::steady_clock::now() < end);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// Two servers with the same mailbox and device; A saw 1 good bind and 1 failure, B (later)
// 1 good bind and 2 failures.
struct TwoServers : ToolFixture {
    SlapdFixture b{tool_slapd_options()};
    Tele ta, tb;
    TwoServers() {
        b.start();
        b.load_demo_data();
        const std::string sa = add_device_as_root(slapd);
        const std::string old_b = add_device_as_root(b);
        PasswdResult p = b.root()->passwd(demo::device_dn(kId));  // rotate: old_b is now a wrong random part
        BOOST_REQUIRE(p.res.rc == LDAP_SUCCESS && p.genpasswd);
        const std::string sb = *p.genpasswd;

        BOOST_REQUIRE(bind_rc(slapd, sa) == LDAP_SUCCESS);
        BOOST_REQUIRE(bind_rc(slapd, old_b) == LDAP_INVALID_CREDENTIALS);  // B's secret on A: k3x9, wrong part
        ta = wait_tele(slapd, 1);
        wait_past(std::max(*ta.last_used, *ta.last_failure));
        BOOST_REQUIRE(bind_rc(b, old_b) == LDAP_INVALID_CREDENTIALS);
        BOOST_REQUIRE(bind_rc(b, old_b) == LDAP_INVALID_CREDENTIALS);
        BOOST_REQUIRE(bind_rc(b, sb) == LDAP_SUCCESS);
        tb = wait_tele(b, 2);
        BOOST_REQUIRE(*tb.last_used > *ta.last_used);
    }
    // As the rootdn (the same on both), with exactly these connection arguments.
    Out list(const std::vector<std::string> &servers_args, const std::vector<std::string> &cmd = {"device", "list",
                                                                                                    kAlice, "--json"}) {
        std::vector<std::string> a = servers_args;
        for (const char *x : {"-x", "-D", SlapdFixture::kRootDn, "-w", SlapdFixture::kRootPw}) a.push_back(x);
        a.insert(a.end(), cmd.begin(), cmd.end());
        return raw(a);
    }
};

const json &only_device(const json &j) {
    BOOST_REQUIRE(j["devices"].size() == 1u);
    return j["devices"][0];
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(tool_servers, TwoServers)

BOOST_AUTO_TEST_CASE(one_server_shows_its_own_telemetry) {
    Out o = list({"-H", slapd.uri()});
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST((keys(j) == std::vector<std::string>{"devices", "mailbox", "unreachable"}));
    BOOST_TEST(j["unreachable"].size() == 0u);
    const json &d = only_device(j);
    BOOST_TEST(d["last_used"] == iso(*ta.last_used));
    BOOST_TEST(d["failures"] == ta.failures);
    BOOST_TEST(d["last_failure"] == iso(*ta.last_failure));
}

BOOST_AUTO_TEST_CASE(several_servers_merge_latest_use_sum_of_failures_latest_failure) {
    const std::vector<std::vector<std::string>> forms = {
        {"-H", slapd.uri(), "-H", b.uri()},
        {"--servers", slapd.uri() + "," + b.uri()},
        {"-H", slapd.uri(), "--servers", b.uri()},
        {"-H", b.uri(), "-H", slapd.uri()},  // the order does not change the merge
    };
    for (const auto &form : forms) {
        Out o = list(form);
        DPW_CHECK_STATUS(o, 0);
        json j = parse_json(o);
        BOOST_TEST(j["unreachable"].size() == 0u);
        const json &d = only_device(j);
        BOOST_TEST(d["id"] == kId);
        BOOST_TEST(d["last_used"] == iso(std::max(*ta.last_used, *tb.last_used)));
        BOOST_TEST(d["failures"] == ta.failures + tb.failures);
        BOOST_TEST(d["last_failure"] == iso(std::max(*ta.last_failure, *tb.last_failure)));
        BOOST_TEST(o.err.empty(), o.err);
    }
    // DEVICEPW_SERVERS, and mailbox show.
    env["DEVICEPW_SERVERS"] = slapd.uri() + "," + b.uri();
    Out s = list({}, {"mailbox", "show", kAlice, "--json"});
    DPW_CHECK_STATUS(s, 0);
    json j = parse_json(s);
    BOOST_TEST(j["unreachable"].size() == 0u);
    BOOST_TEST(only_device(j)["failures"] == ta.failures + tb.failures);
    BOOST_TEST(only_device(j)["last_used"] == iso(*tb.last_used));
    // Text: the sum in the FAILURES column.
    Out t = list({}, {"device", "list", kAlice});
    DPW_CHECK_STATUS(t, 0);
    BOOST_TEST_MESSAGE("device list over two servers:\n" << t.out);
    BOOST_TEST(has(t.out, "FAILURES"), t.out);
    BOOST_TEST(has(t.out, std::to_string(ta.failures + tb.failures) + ", last "), t.out);
}

BOOST_AUTO_TEST_CASE(the_devices_come_from_the_first_server_that_answers) {
    // Truth differs: a second device on B only, and another label on A.
    auto cb = b.root();
    BOOST_REQUIRE(cb->add(demo::device_dn("zz99"), {{"objectClass", {"devicepwDevice"}},
                                                    {"devicepwId", {"zz99"}},
                                                    {"devicepwLabel", {"Only on B"}}})
                      .rc == LDAP_SUCCESS);
    Out o = list({"-H", slapd.uri(), "-H", b.uri()});
    DPW_CHECK_STATUS(o, 0);
    BOOST_TEST(only_device(parse_json(o))["label"] == "Phone");
    Out r = list({"-H", b.uri(), "-H", slapd.uri()});
    DPW_CHECK_STATUS(r, 0);
    json j = parse_json(r);
    BOOST_TEST(j["devices"].size() == 2u);
    // A dead first server: B answers and is the truth.
    Out d = list({"-H", dead_uri(), "-H", b.uri(), "-H", slapd.uri()});
    DPW_CHECK_STATUS(d, 0);
    BOOST_TEST(parse_json(d)["devices"].size() == 2u);
}

BOOST_AUTO_TEST_CASE(unreachable_servers_are_reported_and_the_rest_answer) {
    const std::string dead = dead_uri();
    Out o = list({"-H", slapd.uri(), "-H", dead, "-H", b.uri()});
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST(j["unreachable"] == json::array({dead}));
    BOOST_TEST(only_device(j)["failures"] == ta.failures + tb.failures);

    // Text mode: on standard error, naming the server; the list on standard output.
    Out t = list({"-H", dead, "-H", slapd.uri()}, {"device", "list", kAlice});
    DPW_CHECK_STATUS(t, 0);
    BOOST_TEST_MESSAGE("device list with a dead server:\n" << t.out << t.err);
    BOOST_TEST(has(t.err, "could not read " + dead), t.err);
    BOOST_TEST(has(t.out, kId), t.out);
    BOOST_TEST(!has(t.out, dead), t.out);

    // Nobody answers: the command fails (exit 4) and names every server.
    const std::string dead2 = dead_uri();
    Out n = list({"-H", dead, "-H", dead2});
    DPW_CHECK_STATUS(n, 4);
    BOOST_TEST(has(n.err, "none of the 2 servers"), n.err);
    BOOST_TEST(has(n.err, dead), n.err);
    BOOST_TEST(has(n.err, dead2), n.err);

    // A server that refuses the bind counts as one that did not answer.
    Out w = raw({"-H", slapd.uri(), "-H", b.uri(), "-x", "-D", SlapdFixture::kRootDn, "-w", "wrong", "device",
                 "list", kAlice});
    DPW_CHECK_STATUS(w, 4);
}

BOOST_AUTO_TEST_CASE(the_password_is_asked_for_once) {
    // -W without a terminal reads one line of standard input: both servers get it.
    Out o = raw({"-H", slapd.uri(), "-H", b.uri(), "-x", "-D", SlapdFixture::kRootDn, "-W", "device", "list", kAlice,
                 "--json"},
                std::string(SlapdFixture::kRootPw) + "\n");
    DPW_CHECK_STATUS(o, 0);
    json j = parse_json(o);
    BOOST_TEST(j["unreachable"].size() == 0u);
    BOOST_TEST(only_device(j)["failures"] == ta.failures + tb.failures);
}

BOOST_AUTO_TEST_CASE(other_commands_use_the_first_server_that_answers) {
    Out o = list({"-H", dead_uri(), "-H", slapd.uri()}, {"device", "rename", kAlice, kId, "Renamed"});
    DPW_CHECK_STATUS(o, 0);
    auto e = slapd.root()->read(demo::device_dn(kId), {"devicepwLabel"});
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("devicepwlabel") == "Renamed");
    auto eb = b.root()->read(demo::device_dn(kId), {"devicepwLabel"});
    BOOST_TEST_REQUIRE(eb.has_value());
    BOOST_TEST(eb->one("devicepwlabel") == "Phone");
}

BOOST_AUTO_TEST_SUITE_END()
