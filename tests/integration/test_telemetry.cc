// Telemetry: last use and failures recorded off the bind path, written in batches by a
// background task, never replicated, never changing the device's entryCSN, never
// written by a client; kept across a clean stop, lost at most up to one flush interval
// on a crash (DESIGN.md, "Truth and telemetry").
#include "test_util.h"

#include <ldap.h>

#include <functional>
#include <string>
#include <vector>

using namespace dpwtest;

namespace {

std::string attr_of(Dpw &d, const std::string &id, const std::string &attr) {
    return d.read_attr(demo::device_dn(id), attr);
}

long long epoch_of(const std::string &v) {
    auto t = parse_gentime(v);
    return t ? *t : -1;
}

// Waits until the wall clock is past `epoch` (a second boundary): two binds then
// carry different times. Polls the clock; nothing to wait for on the server.
void wait_past(long long epoch) {
    BOOST_REQUIRE(poll_until([&] { return now_epoch() > epoch; }, std::chrono::milliseconds(3000)));
}

SlapdOptions telemetry_options(int precision, int interval) {
    SlapdOptions o;
    o.overlay_directives = {"devicepw-lastused-precision " + std::to_string(precision),
                            "devicepw-telemetry-interval " + std::to_string(interval),
                            "devicepw-admin " + demo::carol};
    return o;
}

// The value of attr once it satisfies pred (polled); fails the test otherwise.
std::string wait_attr(Dpw &d, const std::string &id, const std::string &attr,
                      const std::function<bool(const std::string &)> &pred, const std::string &what) {
    std::string v;
    bool ok = poll_until([&] {
        v = attr_of(d, id, attr);
        return pred(v);
    });
    BOOST_REQUIRE_MESSAGE(ok, what << ": " << attr << " is \"" << v << "\"");
    return v;
}

bool about_now(const std::string &v) {
    long long t = epoch_of(v);
    return t > 0 && t >= now_epoch() - 120 && t <= now_epoch() + 5;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(telemetry)

BOOST_AUTO_TEST_CASE(last_use_is_written_by_the_flush_without_touching_the_entry_csn) {
    Dpw d(telemetry_options(0, 1));
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    const std::string csn = attr_of(d, "k3x9", "entryCSN");
    const std::string mts = attr_of(d, "k3x9", "modifyTimestamp");
    BOOST_REQUIRE(!csn.empty());
    BOOST_TEST(attr_of(d, "k3x9", "devicepwLastUsed") == "");
    REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    wait_attr(d, "k3x9", "devicepwLastUsed", about_now, "after a bind");
    // the write changed no CSN and no timestamp: replication never sees it
    BOOST_TEST(attr_of(d, "k3x9", "entryCSN") == csn);
    BOOST_TEST(attr_of(d, "k3x9", "modifyTimestamp") == mts);
    BOOST_TEST(contains_ci(d.slapd.log(), "devicepw TELEMETRY written=1"));
}

BOOST_AUTO_TEST_CASE(precision_zero_records_every_bind) {
    Dpw d(telemetry_options(0, 1));
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    std::string last;
    for (int i = 0; i < 3; ++i) {
        if (!last.empty()) wait_past(epoch_of(last));
        REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
        last = wait_attr(d, "k3x9", "devicepwLastUsed",
                         [&](const std::string &v) { return about_now(v) && v > last; },
                         "bind " + std::to_string(i));
    }
}

BOOST_AUTO_TEST_CASE(precision_limits_what_is_recorded) {
    Dpw d(telemetry_options(3600, 1));
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    const std::string first = wait_attr(d, "k3x9", "devicepwLastUsed", about_now, "first bind");
    wait_past(epoch_of(first));
    REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    // a failure on the same device shows that a flush ran after the second bind
    CHECK_RC(d.bind(demo::alice, secret.substr(0, secret.size() - 1) + "z"), LDAP_INVALID_CREDENTIALS);
    wait_attr(d, "k3x9", "devicepwFailureCount", [](const std::string &v) { return v == "1"; }, "failure");
    BOOST_TEST(attr_of(d, "k3x9", "devicepwLastUsed") == first);
}

BOOST_AUTO_TEST_CASE(precision_changes_at_run_time) {
    Dpw d(telemetry_options(3600, 1));
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    const std::string first = wait_attr(d, "k3x9", "devicepwLastUsed", about_now, "first bind");
    REQUIRE_RC(d.slapd.config()->modify(SlapdFixture::kOverlayDn,
                                        {mod_replace("olcDevicepwLastUsedPrecision", {"0"})}),
               LDAP_SUCCESS);
    wait_past(epoch_of(first));
    REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    wait_attr(d, "k3x9", "devicepwLastUsed", [&](const std::string &v) { return v > first; },
              "after precision 0");
}

BOOST_AUTO_TEST_CASE(failures_are_counted_against_the_device_readable_and_kept) {
    Dpw d(telemetry_options(0, 1));
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    const std::string wrong = secret.substr(0, secret.size() - 1) + (secret.back() == 'z' ? "y" : "z");
    for (int i = 0; i < 3; ++i) CHECK_RC(d.bind(demo::alice, wrong), LDAP_INVALID_CREDENTIALS);
    wait_attr(d, "k3x9", "devicepwFailureCount", [](const std::string &v) { return v == "3"; }, "3 failures");
    BOOST_TEST(about_now(attr_of(d, "k3x9", "devicepwLastFailure")));
    BOOST_TEST(contains_ci(d.slapd.log(), "outcome=wrong-secret failures=3"));
    // the right secret still works: failures lock nobody out
    CHECK_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    // an administrator reads them; anonymous never sees the device
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    auto e = carol->read(demo::device_dn("k3x9"), {"devicepwFailureCount", "devicepwLastFailure"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("devicepwfailurecount") == "3");
    BOOST_TEST(!d.slapd.conn()->read(demo::device_dn("k3x9"), {"devicepwFailureCount"}).has_value());
    // kept across a restart, and counting goes on from there
    d.slapd.restart();
    BOOST_TEST(attr_of(d, "k3x9", "devicepwFailureCount") == "3");
    CHECK_RC(d.bind(demo::alice, wrong), LDAP_INVALID_CREDENTIALS);
    wait_attr(d, "k3x9", "devicepwFailureCount", [](const std::string &v) { return v == "4"; }, "4th failure");
}

BOOST_AUTO_TEST_CASE(a_clean_stop_writes_what_is_pending) {
    Dpw d(telemetry_options(0, 3600));  // no flush would run for an hour
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    const std::string wrong = secret.substr(0, secret.size() - 1) + (secret.back() == 'z' ? "y" : "z");
    CHECK_RC(d.bind(demo::alice, wrong), LDAP_INVALID_CREDENTIALS);  // counted against the device
    BOOST_TEST(attr_of(d, "k3x9", "devicepwLastUsed") == "");  // not written yet
    d.slapd.restart();                                          // SIGTERM: a clean stop
    BOOST_TEST(about_now(attr_of(d, "k3x9", "devicepwLastUsed")));
    BOOST_TEST(attr_of(d, "k3x9", "devicepwFailureCount") == "1");
}

BOOST_AUTO_TEST_CASE(a_crash_loses_at_most_one_interval_and_never_truth) {
    Dpw d(telemetry_options(0, 1));
    d.add_device("k3x9");
    d.add_device("p8w2");
    const std::string a = d.gen_secret("k3x9");
    const std::string b = d.gen_secret("p8w2");
    REQUIRE_RC(d.bind(demo::alice, a), LDAP_SUCCESS);
    const std::string written = wait_attr(d, "k3x9", "devicepwLastUsed", about_now, "flushed");
    d.slapd.kill9();
    d.slapd.start();
    BOOST_TEST(attr_of(d, "k3x9", "devicepwLastUsed") == written);  // what was flushed stays
    CHECK_RC(d.bind(demo::alice, a), LDAP_SUCCESS);                 // the truth is intact
    CHECK_RC(d.bind(demo::alice, b), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(telemetry_is_never_written_by_a_client) {
    Dpw d(with_acl({"access to * by * manage"}, telemetry_options(0, 1)));
    d.add_device("k3x9");
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);  // devicepw-admin
    auto root = d.slapd.root();
    for (Conn *c : {root.get(), carol.get()}) {
        Result r = c->modify(demo::device_dn("k3x9"), {mod_replace("devicepwLastUsed", {"20200101000000Z"})});
        BOOST_TEST(r.rc == LDAP_UNWILLING_TO_PERFORM, r.rc << " " << r.diag);
        r = c->modify(demo::device_dn("k3x9"), {mod_replace("devicepwLastUsed;x-a", {"20200101000000Z"})});
        BOOST_TEST((r.rc == LDAP_UNWILLING_TO_PERFORM || r.rc == LDAP_UNDEFINED_TYPE), r.rc << " " << r.diag);
        for (auto attr : {"devicepwFailureCount", "devicepwLastFailure"}) {
            r = c->modify(demo::device_dn("k3x9"),
                          {mod_replace(attr, {std::string(attr) == "devicepwFailureCount" ? "0" : "20200101000000Z"})});
            BOOST_TEST((r.rc == LDAP_CONSTRAINT_VIOLATION || r.rc == LDAP_UNWILLING_TO_PERFORM), attr << " " << r.rc);
        }
    }
    Result a = root->add(demo::device_dn("p8w2"), {{"objectClass", {"devicepwDevice"}},
                                                   {"devicepwId", {"p8w2"}},
                                                   {"devicepwLabel", {"x"}},
                                                   {"devicepwLastUsed", {"20200101000000Z"}}});
    BOOST_TEST(a.rc == LDAP_UNWILLING_TO_PERFORM, a.rc << " " << a.diag);
    BOOST_TEST(attr_of(d, "k3x9", "devicepwLastUsed") == "");
}

BOOST_AUTO_TEST_CASE(interval_is_configurable_and_checked) {
    Dpw d(telemetry_options(60, 7));
    auto e = d.slapd.config()->read(SlapdFixture::kOverlayDn, {"olcDevicepwTelemetryInterval"});
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->one("olcDevicepwTelemetryInterval") == "7");
    for (const char *bad : {"0", "-1", "3601", "soon"}) {
        Result r = d.slapd.config()->modify(SlapdFixture::kOverlayDn,
                                            {mod_replace("olcDevicepwTelemetryInterval", {bad})});
        BOOST_TEST(r.rc != LDAP_SUCCESS, bad);
    }
    REQUIRE_RC(d.slapd.config()->modify(SlapdFixture::kOverlayDn, {mod_replace("olcDevicepwTelemetryInterval", {"1"})}),
               LDAP_SUCCESS);
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    REQUIRE_RC(d.bind(demo::alice, secret), LDAP_SUCCESS);
    wait_attr(d, "k3x9", "devicepwLastUsed", about_now, "after the interval became 1 s");
}

BOOST_AUTO_TEST_SUITE_END()
