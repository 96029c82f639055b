// The little state the overlay keeps: telemetry coalescing, primary-password sessions,
// tombstones of deleted devices (overlay/core/telemetry.h, sessions.h, tombstones.h).
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sessions.h"
#include "telemetry.h"
#include "tombstones.h"

namespace {

using Drained = std::map<std::string, dpw_telemetry_item>;

Drained drain(dpw_telemetry *t) {
    Drained out;
    dpw_telemetry_drain(
        t,
        [](void *ctx, const char *ndn, size_t len, const dpw_telemetry_item *item) {
            (*static_cast<Drained *>(ctx))[std::string(ndn, len)] = *item;
        },
        &out);
    return out;
}

const std::string kA = "devicepwid=a1,uid=alice,ou=mailboxes,dc=example,dc=com";
const std::string kB = "devicepwid=b1,uid=bob,ou=mailboxes,dc=example,dc=com";

}  // namespace

BOOST_AUTO_TEST_SUITE(telemetry)

BOOST_AUTO_TEST_CASE(uses_coalesce_and_respect_the_precision) {
    dpw_telemetry *t = dpw_telemetry_new();
    BOOST_REQUIRE(t);
    // stored value young enough: nothing to record
    BOOST_TEST(dpw_telemetry_use(t, kA.data(), kA.size(), 1000, 990, 60) == 0);
    BOOST_TEST(dpw_telemetry_pending(t) == 0u);
    // stale stored value: recorded once, then coalesced within the precision
    BOOST_TEST(dpw_telemetry_use(t, kA.data(), kA.size(), 1000, 900, 60) == 1);
    BOOST_TEST(dpw_telemetry_use(t, kA.data(), kA.size(), 1030, 900, 60) == 0);
    BOOST_TEST(dpw_telemetry_use(t, kA.data(), kA.size(), 1061, 900, 60) == 1);
    // precision 0: every bind, the latest wins
    BOOST_TEST(dpw_telemetry_use(t, kB.data(), kB.size(), 2000, 0, 0) == 1);
    BOOST_TEST(dpw_telemetry_use(t, kB.data(), kB.size(), 1999, 0, 0) == 1);
    BOOST_TEST(dpw_telemetry_pending(t) == 2u);
    Drained d = drain(t);
    BOOST_TEST(d.size() == 2u);
    BOOST_TEST(d[kA].last_used == 1061);
    BOOST_TEST(d[kB].last_used == 2000);
    BOOST_TEST(dpw_telemetry_pending(t) == 0u);
    BOOST_TEST(drain(t).empty());
    dpw_telemetry_free(t);
}

BOOST_AUTO_TEST_CASE(failures_add_up_and_restore_merges) {
    dpw_telemetry *t = dpw_telemetry_new();
    BOOST_TEST(dpw_telemetry_failure(t, kA.data(), kA.size(), 100, 5) == 6u);
    BOOST_TEST(dpw_telemetry_failure(t, kA.data(), kA.size(), 90, 5) == 7u);
    Drained d = drain(t);
    BOOST_TEST(d[kA].failures == 2u);
    BOOST_TEST(d[kA].last_failure == 100);
    BOOST_TEST(d[kA].last_used == 0);
    // a failed write is put back and merged with what came since
    dpw_telemetry_failure(t, kA.data(), kA.size(), 200, 0);
    dpw_telemetry_restore(t, kA.data(), kA.size(), &d[kA]);
    Drained again = drain(t);
    BOOST_TEST(again[kA].failures == 3u);
    BOOST_TEST(again[kA].last_failure == 200);
    // a deleted device's pending telemetry is dropped
    dpw_telemetry_use(t, kB.data(), kB.size(), 5, 0, 0);
    dpw_telemetry_forget(t, kB.data(), kB.size());
    BOOST_TEST(drain(t).empty());
    dpw_telemetry_free(t);
}

BOOST_AUTO_TEST_CASE(concurrent_binds_lose_nothing) {
    dpw_telemetry *t = dpw_telemetry_new();
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
        threads.emplace_back([t] {
            for (int i = 0; i < 1000; ++i) {
                std::string dn = "devicepwid=d" + std::to_string(i % 50) + ",dc=x";
                dpw_telemetry_failure(t, dn.data(), dn.size(), i, 0);
            }
        });
    for (auto &th : threads) th.join();
    unsigned long total = 0;
    for (auto &[dn, item] : drain(t)) total += item.failures;
    BOOST_TEST(total == 4000u);
    dpw_telemetry_free(t);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sessions)

BOOST_AUTO_TEST_CASE(only_a_recorded_primary_bind_as_that_dn_counts) {
    dpw_sessions *s = dpw_sessions_new();
    const std::string mb = "uid=alice,ou=mailboxes,dc=example,dc=com";
    BOOST_TEST(dpw_sessions_is_primary(s, 7, mb.data(), mb.size()) == 0);  // nothing recorded: not primary
    BOOST_TEST(dpw_sessions_set_primary(s, 7, mb.data(), mb.size()) == 0);
    BOOST_TEST(dpw_sessions_is_primary(s, 7, mb.data(), mb.size()) == 1);
    BOOST_TEST(dpw_sessions_is_primary(s, 8, mb.data(), mb.size()) == 0);          // another connection
    BOOST_TEST(dpw_sessions_is_primary(s, 7, mb.data(), mb.size() - 1) == 0);      // another DN
    dpw_sessions_forget(s, 7);                                                     // rebind or close
    BOOST_TEST(dpw_sessions_is_primary(s, 7, mb.data(), mb.size()) == 0);
    BOOST_TEST(dpw_sessions_set_primary(nullptr, 1, mb.data(), mb.size()) == -1);
    dpw_sessions_free(s);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tombstones)

BOOST_AUTO_TEST_CASE(deleted_devices_are_remembered_for_a_while) {
    dpw_tombstones *t = dpw_tombstones_new(3, 100);
    BOOST_REQUIRE(t);
    const std::string u1 = "11111111-1111-1111-1111-111111111111";
    const std::string u2 = "22222222-2222-2222-2222-222222222222";
    BOOST_TEST(dpw_tombstones_has(t, u1.data(), u1.size(), 10) == 0);
    dpw_tombstones_add(t, u1.data(), u1.size(), 10);
    BOOST_TEST(dpw_tombstones_has(t, u1.data(), u1.size(), 50) == 1);
    BOOST_TEST(dpw_tombstones_has(t, u2.data(), u2.size(), 50) == 0);
    BOOST_TEST(dpw_tombstones_has(t, u1.data(), u1.size(), 110) == 0);  // ttl passed
    // the cap drops the oldest
    for (int i = 0; i < 4; ++i) {
        std::string u = std::to_string(i);
        dpw_tombstones_add(t, u.data(), u.size(), 200 + i);
    }
    BOOST_TEST(dpw_tombstones_has(t, "0", 1, 210) == 0);
    BOOST_TEST(dpw_tombstones_has(t, "3", 1, 210) == 1);
    BOOST_TEST(dpw_tombstones_new(0, 1) == nullptr);
    dpw_tombstones_free(t);
}

BOOST_AUTO_TEST_SUITE_END()
