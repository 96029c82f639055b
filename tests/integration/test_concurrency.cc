// Concurrency: binds from many connections while the device is revoked. No bind sent
// after the revoke's result arrived may succeed.
#include "test_util.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace dpwtest;
using Clock = std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(no_bind_sent_after_revoke_succeeds) {
    Dpw d;
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");

    constexpr int kThreads = 8;
    constexpr int kMaxBindsPerThread = 4000;
    constexpr int kBindsAfterRevoke = 40;  // per thread, then it stops
    const auto deadline = Clock::now() + std::chrono::seconds(30);

    struct Record {
        Clock::time_point sent, done;
        int rc;
    };
    std::vector<std::vector<Record>> records(kThreads);
    std::vector<std::string> setup_errors(kThreads);
    std::atomic<long> successes{0};
    std::atomic<bool> revoked{false};
    std::atomic<Clock::rep> revoke_done{0};
    std::mutex mu;
    std::condition_variable cv;
    const long kWanted = 4 * kThreads;  // successes before the revoke is sent

    std::vector<std::unique_ptr<Conn>> conns;
    for (int i = 0; i < kThreads; ++i) conns.push_back(d.slapd.conn());
    auto root = d.slapd.root();

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto &recs = records[t];
            recs.reserve(kMaxBindsPerThread);
            int after = 0;
            for (int i = 0; i < kMaxBindsPerThread && Clock::now() < deadline; ++i) {
                Record r;
                r.sent = Clock::now();
                r.rc = conns[t]->bind(demo::alice, secret).rc;
                r.done = Clock::now();
                recs.push_back(r);
                if (r.rc == LDAP_SUCCESS && successes.fetch_add(1) + 1 == kWanted) {
                    std::lock_guard<std::mutex> lk(mu);
                    cv.notify_all();
                }
                if (revoked.load()) {
                    Clock::time_point rd{Clock::duration{revoke_done.load()}};
                    if (r.sent > rd && ++after >= kBindsAfterRevoke) break;
                }
            }
        });
    }

    bool enough;
    {
        std::unique_lock<std::mutex> lk(mu);
        enough = cv.wait_until(lk, deadline, [&] { return successes.load() >= kWanted; });
    }
    Clock::time_point revoke_sent = Clock::now();
    Result rr = root->modify(demo::device_dn("k3x9"), {mod_replace("devicepwRevoked", {"TRUE"})});
    Clock::time_point revoke_result = Clock::now();
    revoke_done.store(revoke_result.time_since_epoch().count());
    revoked.store(true);
    for (auto &th : threads) th.join();

    BOOST_REQUIRE_MESSAGE(enough, "only " << successes.load() << " successful binds before the deadline");
    BOOST_REQUIRE_MESSAGE(rr.rc == LDAP_SUCCESS, "revoke failed: " << rr.rc << " " << rr.diag);

    long total = 0, ok_before = 0, sent_after = 0, bad_after = 0, other_rc = 0, early_failures = 0;
    for (auto &recs : records) {
        for (auto &r : recs) {
            ++total;
            if (r.rc != LDAP_SUCCESS && r.rc != LDAP_INVALID_CREDENTIALS) ++other_rc;
            if (r.done < revoke_sent) {
                if (r.rc == LDAP_SUCCESS)
                    ++ok_before;
                else
                    ++early_failures;
            }
            if (r.sent > revoke_result) {
                ++sent_after;
                if (r.rc == LDAP_SUCCESS) ++bad_after;
            }
        }
    }
    BOOST_TEST_MESSAGE("binds: " << total << ", succeeded before the revoke: " << ok_before
                                 << ", sent after the revoke's result: " << sent_after);
    BOOST_TEST(successes.load() > 0);
    BOOST_TEST(ok_before > 0);
    BOOST_TEST(early_failures == 0, early_failures << " binds failed before the revoke was sent");
    BOOST_TEST(other_rc == 0, other_rc << " binds answered neither 0 nor 49");
    BOOST_TEST(sent_after >= long(kThreads), "too few binds sent after the revoke: " << sent_after);
    BOOST_TEST(bad_after == 0, bad_after << " binds sent after the revoke's result succeeded");
    // and afterwards the device stays revoked
    CHECK_RC(d.bind(demo::alice, secret), LDAP_INVALID_CREDENTIALS);
}

BOOST_AUTO_TEST_SUITE_END()
