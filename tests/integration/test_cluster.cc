// The overlay in a replication cluster: two providers in multi-provider syncrepl and one
// read-only consumer (ClusterFixture), with partitions (paused relays), races and
// crashes. The contract is DESIGN.md "Replication": revocation and deletion win,
// replication is never refused or wedged, side effects run once, keys fail closed.
//
// Every wait is a poll with a deadline; the revocation deadline after a heal is the
// documented 2 s on loopback.
#include "cluster_fixture.h"
#include "test_util.h"

#include <algorithm>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <atomic>
#include <set>
#include <sstream>

using namespace dpwtest;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kRevokeDeadline = 2000ms;  // after the heal, every server refuses
constexpr auto kConverge = 10000ms;       // ordinary convergence (creation, links)

int bind_rc(SlapdFixture &s, const std::string &dn, const std::string &pw) {
    try {
        return s.conn()->bind(dn, pw).rc;
    } catch (...) {
        return -1;
    }
}

std::string add_device(SlapdFixture &s, const std::string &id, const std::string &label = "Phone",
                       const std::string &mailbox = demo::alice, const std::string &owner = "") {
    std::string dn = demo::device_dn(id, mailbox);
    AddAttrs a{{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}};
    if (!owner.empty()) a.push_back({"devicepwOwner", {owner}});
    Result r = s.root()->add(dn, a);
    BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "adding " << dn << " failed: " << r.rc << " " << r.diag);
    return dn;
}

std::string secret(SlapdFixture &s, const std::string &id, const std::string &mailbox = demo::alice) {
    return Dpw::gen_secret_with(*s.root(), id, mailbox);
}

Result modify(SlapdFixture &s, const std::string &dn, const std::vector<Mod> &mods) { return s.root()->modify(dn, mods); }

// A device created on p1 with a secret, usable on every server.
std::string usable_device(ClusterFixture &c, const std::string &id, const std::string &owner = "") {
    add_device(c.p1(), id, "Phone " + id, demo::alice, owner);
    std::string pw = secret(c.p1(), id);
    BOOST_REQUIRE_MESSAGE(c.everywhere([&](SlapdFixture &s) { return bind_rc(s, demo::alice, pw) == LDAP_SUCCESS; },
                                       kConverge),
                          "device " << id << " does not authenticate on every server");
    return pw;
}

std::string state_of(ClusterFixture &c, const std::string &dn) {
    std::ostringstream o;
    for (auto *s : c.all()) {
        auto e = s->root()->read(dn, {"devicepwRevoked", "devicepwLabel", "entryCSN"});
        o << "  " << c.name_of(*s) << ": ";
        if (!e) {
            o << "(no entry)\n";
            continue;
        }
        for (auto a : {"devicepwRevoked", "devicepwLabel", "entryCSN"}) {
            auto v = e->values(a);
            o << a << "=" << (v.empty() ? "-" : v[0]) << " ";
        }
        o << "\n";
    }
    return o.str();
}

// After a heal: every server refuses every password in pws within the deadline.
void refused_everywhere_within(ClusterFixture &c, const std::vector<std::string> &pws, const std::string &dn,
                               Clock::time_point healed, std::chrono::milliseconds deadline = kRevokeDeadline) {
    bool ok = c.everywhere(
        [&](SlapdFixture &s) {
            for (auto &pw : pws)
                if (bind_rc(s, demo::alice, pw) != LDAP_INVALID_CREDENTIALS) return false;
            return true;
        },
        deadline);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - healed).count();
    std::ostringstream who;
    for (auto *s : c.all())
        for (auto &pw : pws)
            if (bind_rc(*s, demo::alice, pw) != LDAP_INVALID_CREDENTIALS) who << c.name_of(*s) << " ";
    BOOST_CHECK_MESSAGE(ok, "not every server refuses the device " << took << " ms after the heal (or the write); still accepted on: "
                                                                   << who.str() << "\n"
                                                                   << state_of(c, dn));
    if (ok) BOOST_TEST_MESSAGE("refused everywhere " << took << " ms after the heal (or the write)");
}

// The end of every fault test: links alive, no retry loop.
void check_healthy(ClusterFixture &c, const std::string &tag) {
    c.check_links_alive(tag);
    c.mark();
    c.check_links_alive(tag + "-again");
    c.check_no_retry_loop();
}

size_t count_in(const std::string &hay, const std::string &needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster)

// ---- the cluster itself ----------------------------------------------------------------

void basic_replication(ClusterFixture &c) {
    std::string pw = usable_device(c, "b1");
    // the stored hash replicated as it is (the replicator reads it as a secret reader)
    std::string h = ClusterFixture::values(c.p1(), demo::device_dn("b1"), "devicepwSecret").at(0);
    for (auto *s : c.all())
        BOOST_CHECK_MESSAGE(ClusterFixture::values(*s, demo::device_dn("b1"), "devicepwSecret") ==
                                std::vector<std::string>{h},
                            c.name_of(*s) << " does not hold the stored hash");
    // a device created on p2 works everywhere too
    add_device(c.p2(), "b2");
    std::string pw2 = secret(c.p2(), "b2");
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return bind_rc(s, demo::alice, pw2) == LDAP_SUCCESS; }, kConverge));
    // the consumer is read-only for clients
    Result r = modify(c.consumer(), demo::device_dn("b1"), {mod_replace("devicepwLabel", {"x"})});
    BOOST_CHECK_MESSAGE(r.rc != LDAP_SUCCESS, "the consumer accepted a client write");
    check_healthy(c, "basic");
}

BOOST_AUTO_TEST_CASE(replicates_slapd_conf) {
    ClusterFixture c;
    basic_replication(c);
    BOOST_CHECK(contains_ci(c.p1().slapd_conf_text(), "multiprovider on"));
}

BOOST_AUTO_TEST_CASE(replicates_cn_config) {
    ClusterOptions o;
    o.mode = ConfigMode::CnConfig;
    ClusterFixture c(o);
    basic_replication(c);
    for (auto *s : c.all()) {
        auto r = s->config()->search("cn=config", LDAP_SCOPE_SUBTREE, "(olcSyncrepl=*)", {"olcSyncrepl", "olcMultiProvider"});
        BOOST_CHECK_MESSAGE(r.entries.size() == 1, c.name_of(*s) << ": no database with olcSyncrepl in cn=config");
        auto ov = s->config()->search("cn=config", LDAP_SCOPE_SUBTREE, "(objectClass=olcDevicepwConfig)",
                                      {"olcDevicepwSecretReader"});
        BOOST_REQUIRE_MESSAGE(ov.entries.size() == 1, c.name_of(*s) << ": no devicepw overlay entry");
        BOOST_CHECK(contains_ci(ov.entries[0].one("olcDevicepwSecretReader"), "cn=replicator"));
    }
}

// ---- revocation wins -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(revoke_wins_over_relabel_and_use_under_partition) {
    ClusterFixture c;
    std::string pw = usable_device(c, "r1");
    std::string dn = demo::device_dn("r1");
    c.partition_providers();
    REQUIRE_RC(modify(c.p1(), dn, {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    BOOST_CHECK_EQUAL(bind_rc(c.p1(), demo::alice, pw), LDAP_INVALID_CREDENTIALS);
    // the other side has not heard: the device still works there, and is relabelled
    BOOST_CHECK_EQUAL(bind_rc(c.p2(), demo::alice, pw), LDAP_SUCCESS);
    REQUIRE_RC(modify(c.p2(), dn, {mod_replace("devicepwLabel", {"Relabelled on p2"})}), LDAP_SUCCESS);
    BOOST_CHECK_EQUAL(bind_rc(c.p2(), demo::alice, pw), LDAP_SUCCESS);
    auto healed = Clock::now();
    c.heal_providers();
    refused_everywhere_within(c, {pw}, dn, healed);
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) {
        return ClusterFixture::values(s, dn, "devicepwRevoked") == std::vector<std::string>{"TRUE"};
    }, 3000ms));
    check_healthy(c, "relabel");
}

BOOST_AUTO_TEST_CASE(revoke_wins_over_rotation_under_partition) {
    ClusterFixture c;
    std::string pw = usable_device(c, "r2");
    std::string dn = demo::device_dn("r2");
    c.partition_providers();
    REQUIRE_RC(modify(c.p2(), dn, {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    std::string rotated = secret(c.p1(), "r2");
    BOOST_CHECK_EQUAL(bind_rc(c.p1(), demo::alice, rotated), LDAP_SUCCESS);
    BOOST_CHECK_EQUAL(bind_rc(c.p1(), demo::alice, pw), LDAP_INVALID_CREDENTIALS);
    auto healed = Clock::now();
    c.heal_providers();
    refused_everywhere_within(c, {pw, rotated}, dn, healed);
    check_healthy(c, "rotate");
}

BOOST_AUTO_TEST_CASE(revoke_wins_over_concurrent_use) {
    // Telemetry as hot as it gets: every bind is a last use, flushed every second.
    ClusterOptions o;
    o.overlay_directives = {"devicepw-lastused-precision 0", "devicepw-telemetry-interval 1"};
    ClusterFixture c(o);
    std::string pw = usable_device(c, "r3");
    std::string dn = demo::device_dn("r3");
    std::atomic<bool> stop{false};
    std::atomic<int> binds{0};
    std::vector<std::thread> users;
    for (auto *s : {&c.p2(), &c.consumer(), &c.p1()}) {
        users.emplace_back([&, s] {
            while (!stop) {
                bind_rc(*s, demo::alice, pw);
                ++binds;
            }
        });
    }
    poll_until([&] { return binds > 30; }, 5000ms);
    auto revoked = Clock::now();
    Result r = modify(c.p1(), dn, {mod_replace("devicepwRevoked", {"TRUE"})});
    refused_everywhere_within(c, {pw}, dn, revoked);
    // keep using it across a few telemetry flushes: nothing brings it back
    int until = binds + 300;
    poll_until([&] { return binds > until; }, 4000ms);
    stop = true;
    for (auto &t : users) t.join();
    BOOST_CHECK_EQUAL(r.rc, LDAP_SUCCESS);
    for (auto *s : c.all()) {
        BOOST_CHECK_MESSAGE(bind_rc(*s, demo::alice, pw) == LDAP_INVALID_CREDENTIALS,
                            c.name_of(*s) << " accepts the revoked device after the telemetry flushes\n"
                                          << state_of(c, dn));
    }
    check_healthy(c, "use");
}

BOOST_AUTO_TEST_CASE(revoke_reaches_a_partitioned_consumer) {
    ClusterFixture c;
    std::string pw = usable_device(c, "r4");
    std::string dn = demo::device_dn("r4");
    c.partition_consumer();
    REQUIRE_RC(modify(c.p1(), dn, {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    BOOST_CHECK(poll_until([&] { return bind_rc(c.p2(), demo::alice, pw) == LDAP_INVALID_CREDENTIALS; }, kRevokeDeadline));
    // the consumer has not heard: the device is used there (telemetry recorded locally)
    for (int i = 0; i < 3; ++i) BOOST_CHECK_EQUAL(bind_rc(c.consumer(), demo::alice, pw), LDAP_SUCCESS);
    auto healed = Clock::now();
    c.heal_consumer();
    refused_everywhere_within(c, {pw}, dn, healed);
    check_healthy(c, "consumer");
}

// Telemetry is per server (DESIGN.md, "Truth and telemetry"): a read-only consumer serves
// binds and records their last use and failures itself; nothing of it replicates, no CSN
// changes, and the providers keep their own.
BOOST_AUTO_TEST_CASE(a_consumer_records_telemetry_locally_and_nothing_replicates) {
    ClusterOptions o;
    o.overlay_directives = {"devicepw-lastused-precision 0", "devicepw-telemetry-interval 1"};
    ClusterFixture c(o);
    std::string pw = usable_device(c, "t1");
    std::string dn = demo::device_dn("t1");
    const std::string wrong = pw.substr(0, pw.size() - 1) + (pw.back() == 'z' ? "y" : "z");
    auto read1 = [&](SlapdFixture &s, const std::string &attr) {
        auto v = ClusterFixture::values(s, dn, attr);
        return v.empty() ? std::string() : v[0];
    };
    const std::string csn = read1(c.p1(), "entryCSN");
    BOOST_REQUIRE(!csn.empty());
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return read1(s, "entryCSN") == csn; }));
    // usable_device bound on every server: each has written its own last use by now
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return !read1(s, "devicepwLastUsed").empty(); }));
    const std::string p1_used = read1(c.p1(), "devicepwLastUsed"), p2_used = read1(c.p2(), "devicepwLastUsed");
    const std::string c_used = read1(c.consumer(), "devicepwLastUsed");
    // the consumer's next use is in a later second than anything recorded so far
    BOOST_REQUIRE(poll_until([&] { return format_gentime(now_epoch()) > std::max({p1_used, p2_used, c_used}); },
                             std::chrono::milliseconds(3000)));
    BOOST_CHECK_EQUAL(bind_rc(c.consumer(), demo::alice, pw), LDAP_SUCCESS);
    for (int i = 0; i < 2; ++i) BOOST_CHECK_EQUAL(bind_rc(c.consumer(), demo::alice, wrong), LDAP_INVALID_CREDENTIALS);
    BOOST_CHECK(poll_until([&] {
        return read1(c.consumer(), "devicepwLastUsed") > c_used && read1(c.consumer(), "devicepwFailureCount") == "2";
    }));
    // a bind on p2 records there only
    BOOST_CHECK_EQUAL(bind_rc(c.p2(), demo::alice, wrong), LDAP_INVALID_CREDENTIALS);
    BOOST_CHECK(poll_until([&] { return read1(c.p2(), "devicepwFailureCount") == "1"; }));
    // a fresh change made after the telemetry reaches every server: had the telemetry
    // replicated, it would have arrived before it
    check_healthy(c, "telemetry");
    BOOST_CHECK_EQUAL(read1(c.p1(), "devicepwLastUsed"), p1_used);
    BOOST_CHECK_EQUAL(read1(c.p1(), "devicepwFailureCount"), "");
    BOOST_CHECK_EQUAL(read1(c.p2(), "devicepwLastUsed"), p2_used);
    BOOST_CHECK_EQUAL(read1(c.consumer(), "devicepwFailureCount"), "2");
    for (auto *srv : c.all()) BOOST_CHECK_EQUAL(read1(*srv, "entryCSN"), csn);
    // a truth change replicates and leaves each server's telemetry where it was (exattrs)
    REQUIRE_RC(modify(c.p1(), dn, {mod_replace("devicepwLabel", {"Relabelled"})}), LDAP_SUCCESS);
    BOOST_CHECK(poll_until([&] { return read1(c.consumer(), "devicepwLabel") == "Relabelled"; }));
    BOOST_CHECK_EQUAL(read1(c.consumer(), "devicepwFailureCount"), "2");
    BOOST_CHECK(read1(c.consumer(), "devicepwLastUsed") > c_used);
    BOOST_CHECK_EQUAL(read1(c.p1(), "devicepwLastUsed"), p1_used);
}

// ---- deletion wins -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(deletion_wins_over_relabel_under_partition) {
    ClusterFixture c;
    std::string pw = usable_device(c, "d1");
    std::string dn = demo::device_dn("d1");
    c.partition_providers();
    REQUIRE_RC(c.p1().root()->del(dn), LDAP_SUCCESS);
    BOOST_CHECK_EQUAL(bind_rc(c.p1(), demo::alice, pw), LDAP_INVALID_CREDENTIALS);
    BOOST_CHECK_EQUAL(bind_rc(c.p2(), demo::alice, pw), LDAP_SUCCESS);
    REQUIRE_RC(modify(c.p2(), dn, {mod_replace("devicepwLabel", {"Relabelled on p2"})}), LDAP_SUCCESS);
    auto healed = Clock::now();
    c.heal_providers();
    refused_everywhere_within(c, {pw}, dn, healed);
    // and it stays refused once both directions have settled
    check_healthy(c, "delete");
    for (auto *s : c.all())
        BOOST_CHECK_MESSAGE(bind_rc(*s, demo::alice, pw) == LDAP_INVALID_CREDENTIALS,
                            c.name_of(*s) << " accepts the deleted device after the links settled\n"
                                          << state_of(c, dn));
}

BOOST_AUTO_TEST_CASE(deletion_wins_over_concurrent_use) {
    ClusterOptions o;
    o.overlay_directives = {"devicepw-lastused-precision 0", "devicepw-telemetry-interval 1"};
    ClusterFixture c(o);
    std::string pw = usable_device(c, "d3");
    std::string dn = demo::device_dn("d3");
    std::atomic<bool> stop{false};
    std::atomic<int> binds{0};
    std::vector<std::thread> users;
    for (auto *s : {&c.p2(), &c.consumer()}) {
        users.emplace_back([&, s] {
            while (!stop) {
                bind_rc(*s, demo::alice, pw);
                ++binds;
            }
        });
    }
    poll_until([&] { return binds > 30; }, 5000ms);
    auto deleted = Clock::now();
    Result r = c.p1().root()->del(dn);
    refused_everywhere_within(c, {pw}, dn, deleted);
    int until = binds + 300;
    poll_until([&] { return binds > until; }, 4000ms);  // across telemetry flushes
    stop = true;
    for (auto &t : users) t.join();
    BOOST_CHECK_EQUAL(r.rc, LDAP_SUCCESS);
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return !ClusterFixture::exists(s, dn); }, 3000ms));
    check_healthy(c, "delete-use");
}

BOOST_AUTO_TEST_CASE(deletion_reaches_a_partitioned_consumer) {
    ClusterFixture c;
    std::string pw = usable_device(c, "d2");
    std::string dn = demo::device_dn("d2");
    c.partition_consumer();
    REQUIRE_RC(c.p2().root()->del(dn), LDAP_SUCCESS);
    for (int i = 0; i < 3; ++i) BOOST_CHECK_EQUAL(bind_rc(c.consumer(), demo::alice, pw), LDAP_SUCCESS);
    auto healed = Clock::now();
    c.heal_consumer();
    refused_everywhere_within(c, {pw}, dn, healed);
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return !ClusterFixture::exists(s, dn); }, 3000ms));
    check_healthy(c, "consumer-delete");
}

// ---- replication is never refused ----------------------------------------------------

BOOST_AUTO_TEST_CASE(device_limit_reached_on_both_sides_of_a_partition) {
    ClusterOptions o;
    o.overlay_directives = {"devicepw-max-devices 2"};
    ClusterFixture c(o);
    usable_device(c, "l1");
    c.partition_providers();
    add_device(c.p1(), "l2");
    add_device(c.p2(), "l3");
    // each side is at its limit for clients
    Result r = c.p1().root()->add(demo::device_dn("l4"), {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {"l4"}}, {"devicepwLabel", {"Third"}}});
    BOOST_CHECK_MESSAGE(r.rc != LDAP_SUCCESS, "p1 accepted a third device from a client");
    BOOST_CHECK(contains_ci(r.diag, "devices"));
    std::string pw2 = secret(c.p1(), "l2"), pw3 = secret(c.p2(), "l3");
    c.mark();
    c.heal_providers();
    auto ids = [](SlapdFixture &s) {
        std::set<std::string> out;
        auto res = s.root()->search(demo::alice, LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)", {"devicepwId"});
        for (auto &e : res.entries) out.insert(e.one("devicepwId"));
        return out;
    };
    std::set<std::string> want{"l1", "l2", "l3"};
    bool same = c.everywhere([&](SlapdFixture &s) { return ids(s) == want; }, kConverge);
    BOOST_CHECK_MESSAGE(same, "the servers do not hold the same devices");
    for (auto *s : c.all()) {
        BOOST_CHECK_EQUAL(bind_rc(*s, demo::alice, pw2), LDAP_SUCCESS);
        BOOST_CHECK_EQUAL(bind_rc(*s, demo::alice, pw3), LDAP_SUCCESS);
        BOOST_CHECK_MESSAGE(!contains_ci(s->log().substr(0), "as=replication refused"),
                            c.name_of(*s) << " refused a replicated write");
    }
    check_healthy(c, "limit");
}

// ---- side effects run once -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(user_removal_revokes_once_on_the_writing_server) {
    ClusterFixture c;
    REQUIRE_RC(modify(c.p1(), demo::alice, {mod_add("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    std::string pw = usable_device(c, "u1", demo::bob);
    std::string dn = demo::device_dn("u1");
    auto removed = Clock::now();
    REQUIRE_RC(modify(c.p1(), demo::alice, {mod_delete("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    BOOST_CHECK_EQUAL(bind_rc(c.p1(), demo::alice, pw), LDAP_INVALID_CREDENTIALS);
    refused_everywhere_within(c, {pw}, dn, removed);
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) {
        return ClusterFixture::values(s, dn, "devicepwRevoked") == std::vector<std::string>{"TRUE"} &&
               ClusterFixture::values(s, demo::alice, "devicepwUser").empty();
    }, 3000ms));
    check_healthy(c, "users");
    const std::string line = "reason=user-removed";
    BOOST_CHECK_EQUAL(count_in(c.p1().log(), line), 1u);
    BOOST_CHECK_MESSAGE(count_in(c.p2().log(), line) == 0, "p2 ran the revocation again:\n" << c.p2().log_tail());
    BOOST_CHECK_MESSAGE(count_in(c.consumer().log(), line) == 0, "the consumer ran the revocation again");
}

// ---- keys --------------------------------------------------------------------------------

namespace {
std::string stored_key(SlapdFixture &s, const std::string &id) {
    auto v = ClusterFixture::values(s, demo::device_dn(id), "devicepwSecret");
    if (v.empty()) return "";
    // dpw1$<keyid>$<hex>
    auto a = v[0].find('$'), b = v[0].find('$', a + 1);
    return a == std::string::npos || b == std::string::npos ? "" : v[0].substr(a + 1, b - a - 1);
}
// Rewrite a server's key file and make it re-read it (cn=config: olcDevicepwKeyFile).
void set_keys(SlapdFixture &s, const std::string &lines) {
    s.write_file(s.keyfile(), lines, 0600);
    auto ov = s.config()->search("cn=config", LDAP_SCOPE_SUBTREE, "(objectClass=olcDevicepwConfig)", {"1.1"});
    BOOST_REQUIRE_EQUAL(ov.entries.size(), 1u);
    REQUIRE_RC(s.config()->modify(ov.entries[0].dn, {mod_replace("olcDevicepwKeyFile", {s.keyfile()})}), LDAP_SUCCESS);
}
void set_active(SlapdFixture &s, const std::string &keyid) {
    auto ov = s.config()->search("cn=config", LDAP_SCOPE_SUBTREE, "(objectClass=olcDevicepwConfig)", {"1.1"});
    BOOST_REQUIRE_EQUAL(ov.entries.size(), 1u);
    REQUIRE_RC(s.config()->modify(ov.entries[0].dn, {mod_replace("olcDevicepwActiveKey", {keyid})}), LDAP_SUCCESS);
}
}  // namespace

BOOST_AUTO_TEST_CASE(key_rotation_across_the_cluster) {
    const std::string k1 = SlapdFixture::key_line("k1"), k2 = SlapdFixture::key_line("k2");
    ClusterOptions o;
    o.mode = ConfigMode::CnConfig;
    o.keyfiles = {k1, k1, k1};
    ClusterFixture c(o);
    std::string pw_old = usable_device(c, "k1dev");   // hashed with k1, never rotated
    std::string pw_a = usable_device(c, "adev");
    BOOST_CHECK_EQUAL(stored_key(c.p1(), "k1dev"), "k1");

    // The wrong order first: p1 gets k2 and makes it active before the others have it.
    set_keys(c.p1(), k1 + k2);
    set_active(c.p1(), "k2");
    std::string pw_a2 = secret(c.p1(), "adev");
    BOOST_CHECK_EQUAL(stored_key(c.p1(), "adev"), "k2");
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return stored_key(s, "adev") == "k2"; }, kConverge));
    BOOST_CHECK_EQUAL(bind_rc(c.p1(), demo::alice, pw_a2), LDAP_SUCCESS);
    for (auto *s : {&c.p2(), &c.consumer()}) {
        BOOST_CHECK_EQUAL(bind_rc(*s, demo::alice, pw_a2), LDAP_INVALID_CREDENTIALS);  // fails closed
        BOOST_CHECK_MESSAGE(s->log().find("key=k2") != std::string::npos,
                            c.name_of(*s) << " does not log the missing key id k2");
    }

    // The documented rotation. 1: add the new key everywhere (each server shows it).
    for (auto *s : {&c.p2(), &c.consumer()}) set_keys(*s, k1 + k2);
    for (auto *s : c.all()) {
        auto keys = ClusterFixture::values(*s, demo::base, "devicepwKey");
        BOOST_CHECK_MESSAGE(keys.size() == 2, c.name_of(*s) << " shows " << keys.size() << " devicepwKey values");
        BOOST_CHECK_EQUAL(bind_rc(*s, demo::alice, pw_a2), LDAP_SUCCESS);
    }
    // 2: switch the active key everywhere.
    for (auto *s : {&c.p2(), &c.consumer()}) set_active(*s, "k2");
    // 3: rotate the secrets (on either provider).
    std::string pw_b = usable_device(c, "bdev");
    BOOST_CHECK_EQUAL(stored_key(c.p1(), "bdev"), "k2");
    std::string pw_a3 = secret(c.p2(), "adev");
    BOOST_CHECK_EQUAL(stored_key(c.p2(), "adev"), "k2");
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return bind_rc(s, demo::alice, pw_a3) == LDAP_SUCCESS; }, kConverge));
    // 4: retire the old key: a hash still naming it fails closed, with the key id logged.
    for (auto *s : c.all()) set_keys(*s, k2);
    for (auto *s : c.all()) {
        BOOST_CHECK_EQUAL(bind_rc(*s, demo::alice, pw_b), LDAP_SUCCESS);
        BOOST_CHECK_EQUAL(bind_rc(*s, demo::alice, pw_a3), LDAP_SUCCESS);
        BOOST_CHECK_EQUAL(bind_rc(*s, demo::alice, pw_old), LDAP_INVALID_CREDENTIALS);
        BOOST_CHECK_MESSAGE(s->log().find("key=k1") != std::string::npos,
                            c.name_of(*s) << " does not log the retired key id k1");
    }
    check_healthy(c, "keys");
}

// ---- faults ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sigkill_a_provider_during_creations_on_the_other) {
    ClusterFixture c;
    std::atomic<bool> stop{false};
    std::atomic<int> acked{0};
    std::mutex mu;
    std::map<std::string, std::string> acknowledged;  // id -> secret
    std::thread creator([&] {
        for (int i = 0; !stop && i < 200; ++i) {
            std::string id = "s" + std::to_string(i);
            try {
                auto conn = c.p2().root();
                Result r = conn->add(demo::device_dn(id), {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {"Created on p2"}}});
                if (r.rc != LDAP_SUCCESS) continue;
                PasswdResult p = conn->passwd(demo::device_dn(id));
                if (p.res.rc != LDAP_SUCCESS || !p.genpasswd) continue;
                std::lock_guard<std::mutex> g(mu);
                acknowledged[id] = *p.genpasswd;
                ++acked;
            } catch (...) {
            }
        }
    });
    poll_until([&] { return acked >= 5; }, 10000ms);
    c.p1().kill9();
    poll_until([&] { return acked >= 12; }, 10000ms);
    c.p1().restart();
    poll_until([&] { return acked >= 20; }, 10000ms);
    stop = true;
    creator.join();
    BOOST_REQUIRE_GE(acked.load(), 20);
    std::map<std::string, std::string> acks;
    {
        std::lock_guard<std::mutex> g(mu);
        acks = acknowledged;
    }
    for (auto &[id, pw] : acks) {
        bool ok = c.everywhere([&](SlapdFixture &s) { return bind_rc(s, demo::alice, pw) == LDAP_SUCCESS; }, kConverge);
        BOOST_CHECK_MESSAGE(ok, "acknowledged device " << id << " does not authenticate everywhere\n"
                                                        << state_of(c, demo::device_dn(id)));
        if (!ok) break;
    }
    // none duplicated: every server holds the same devices, each entryUUID once
    auto uuids = [](SlapdFixture &s) {
        std::multiset<std::string> out;
        auto res = s.root()->search(demo::alice, LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)", {"entryUUID"});
        for (auto &e : res.entries) out.insert(e.one("entryUUID"));
        return out;
    };
    auto ref = uuids(c.p2());
    BOOST_CHECK_EQUAL(std::set<std::string>(ref.begin(), ref.end()).size(), ref.size());
    BOOST_CHECK_GE(ref.size(), acks.size());
    BOOST_CHECK(c.everywhere([&](SlapdFixture &s) { return uuids(s) == ref; }, kConverge));
    check_healthy(c, "kill");
}

// ---- convergence figures ---------------------------------------------------------------

// Not a timing assertion: prints min/median/max of the time from a write's answer on one
// provider until the result is seen by a bind on each other server (the servers are
// polled one after the other from the same start, so the second figure is an upper bound).
BOOST_AUTO_TEST_CASE(convergence_figures) {
    ClusterFixture c;
    const int tries = 7;
    std::map<std::string, std::vector<double>> fig;  // "create p1->p2" -> ms
    auto wait_ms = [](const std::function<bool()> &pred) {
        auto t0 = Clock::now();
        for (;;) {
            if (pred()) return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            if (Clock::now() - t0 > 5000ms) return -1.0;
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    };
    int n = 0;
    for (Node origin : {Node::P1, Node::P2}) {
        for (int t = 0; t < tries; ++t) {
            std::string id = "f" + std::to_string(n++);
            SlapdFixture &o = c.node(origin);
            add_device(o, id);
            std::string pw = secret(o, id);
            auto t0 = Clock::now();
            for (Node dst : {Node::P1, Node::P2, Node::C}) {
                if (dst == origin) continue;
                SlapdFixture &d = c.node(dst);
                double ms = wait_ms([&] { return bind_rc(d, demo::alice, pw) == LDAP_SUCCESS; });
                ms = ms < 0 ? -1 : std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                fig[std::string("create ") + ClusterFixture::name(origin) + "->" + ClusterFixture::name(dst)].push_back(ms);
            }
            std::string pw2 = secret(o, id);
            t0 = Clock::now();
            for (Node dst : {Node::P1, Node::P2, Node::C}) {
                if (dst == origin) continue;
                SlapdFixture &d = c.node(dst);
                double ms = wait_ms([&] { return bind_rc(d, demo::alice, pw2) == LDAP_SUCCESS; });
                ms = ms < 0 ? -1 : std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                fig[std::string("rotate ") + ClusterFixture::name(origin) + "->" + ClusterFixture::name(dst)].push_back(ms);
            }
            REQUIRE_RC(modify(o, demo::device_dn(id), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
            t0 = Clock::now();
            for (Node dst : {Node::P1, Node::P2, Node::C}) {
                if (dst == origin) continue;
                SlapdFixture &d = c.node(dst);
                double ms = wait_ms([&] { return bind_rc(d, demo::alice, pw2) == LDAP_INVALID_CREDENTIALS; });
                ms = ms < 0 ? -1 : std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                fig[std::string("revoke ") + ClusterFixture::name(origin) + "->" + ClusterFixture::name(dst)].push_back(ms);
            }
        }
    }
    std::ostringstream out;
    out << std::fixed << std::setprecision(1);
    out << "convergence (ms from the write's answer until a bind on the server sees it; " << tries
        << " tries; min / median / max)\n";
    for (auto &[k, v] : fig) {
        std::sort(v.begin(), v.end());
        bool lost = v.front() < 0;
        out << "  " << k << ": ";
        if (lost)
            out << "NOT CONVERGED within 5 s in at least one try\n";
        else
            out << v.front() << " / " << v[v.size() / 2] << " / " << v.back() << "\n";
        BOOST_CHECK_MESSAGE(!lost, k << " did not converge within 5 s");
    }
    BOOST_TEST_MESSAGE(out.str());
    std::cout << out.str() << std::flush;
}

BOOST_AUTO_TEST_SUITE_END()
