// A replication cluster for the integration tests: two providers in multi-provider
// syncrepl and one read-only consumer, each a real slapd (SlapdFixture) with the overlay,
// on loopback. Every replication link goes through a Relay, a small TCP proxy in the test
// process that the test can pause (a partition: forwarded connections are closed and new
// ones refused) and resume.
//
//   p1 <- relay "p1<-p2" <- p2        (p1's syncrepl rid=002 pulls from p2)
//   p2 <- relay "p2<-p1" <- p1        (p2's syncrepl rid=001 pulls from p1)
//   consumer <- relay "c<-p1" <- p1   (the consumer's syncrepl rid=101 pulls from p1)
//
// Only 127.0.0.1, ever.
#ifndef DEVICEPW_IT_CLUSTER_FIXTURE_H
#define DEVICEPW_IT_CLUSTER_FIXTURE_H

#include "slapd_fixture.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dpwtest {

// A TCP relay 127.0.0.1:<port()> -> 127.0.0.1:<target()>, one thread with poll().
class Relay {
public:
    // target is asked at every new connection (a restarted slapd may have a new port).
    Relay(std::string name, std::function<int()> target);
    ~Relay();
    Relay(const Relay &) = delete;
    Relay &operator=(const Relay &) = delete;

    int port() const { return port_; }
    const std::string &name() const { return name_; }
    // Close every forwarded connection and refuse new ones until resume().
    void pause();
    void resume();
    bool paused() const { return paused_; }
    // Close every forwarded connection now (new ones are still accepted).
    void cut();
    int accepted() const { return accepted_; }

private:
    struct Pair {
        int a = -1, b = -1;        // a: accepted from the consumer; b: to the provider
        std::string ab, ba;        // bytes read from a for b, from b for a
    };
    void run();
    void command(char c);
    void close_all();

    std::string name_;
    std::function<int()> target_;
    int listen_fd_ = -1;
    int wake_[2] = {-1, -1};
    int port_ = 0;
    std::atomic<bool> paused_{false};
    std::atomic<int> accepted_{0};
    std::atomic<unsigned> cuts_req_{0}, cuts_done_{0};
    std::vector<Pair> pairs_;  // owned by the relay thread
    std::thread thread_;
};

enum class Node { P1 = 0, P2 = 1, C = 2 };

struct ClusterOptions {
    ConfigMode mode = ConfigMode::SlapdConf;  // SlapdConf or CnConfig (slaptest-converted)
    std::vector<std::string> overlay_directives;  // for every server, after the cluster's own
    std::string loglevel = "stats,sync";
    // Key file lines per server (p1, p2, consumer); empty = one shared key "k1".
    std::vector<std::string> keyfiles;
};

class ClusterFixture {
public:
    static constexpr const char *kReplDn = "cn=replicator,dc=example,dc=com";
    static constexpr const char *kReplPw = "replsecret";

    // Writes the configuration, starts the three servers, loads the demo data (and the
    // replicator) on p1 and waits until every server has it.
    explicit ClusterFixture(ClusterOptions o = {});
    ~ClusterFixture();

    SlapdFixture &node(Node n) { return *nodes_[static_cast<int>(n)]; }
    SlapdFixture &p1() { return node(Node::P1); }
    SlapdFixture &p2() { return node(Node::P2); }
    SlapdFixture &consumer() { return node(Node::C); }
    std::vector<SlapdFixture *> all() { return {nodes_[0].get(), nodes_[1].get(), nodes_[2].get()}; }
    static const char *name(Node n) { return n == Node::P1 ? "p1" : n == Node::P2 ? "p2" : "consumer"; }
    const char *name_of(const SlapdFixture &s) const;

    Relay &link_p1_from_p2() { return *relays_[0]; }
    Relay &link_p2_from_p1() { return *relays_[1]; }
    Relay &link_c_from_p1() { return *relays_[2]; }

    // Partition the providers from each other (both directions) / heal.
    void partition_providers();
    void heal_providers();
    void partition_consumer();
    void heal_consumer();

    // Whether entry dn exists on s (read as the rootdn).
    static bool exists(SlapdFixture &s, const std::string &dn);
    // The values of attr on dn as the rootdn sees them on s (empty when missing).
    static std::vector<std::string> values(SlapdFixture &s, const std::string &dn, const std::string &attr);
    // Wait until pred(server) holds on every server; returns false at the deadline.
    bool everywhere(const std::function<bool(SlapdFixture &)> &pred,
                    std::chrono::milliseconds deadline = std::chrono::milliseconds(10000));

    // A fresh change made on each provider reaches every other server (fails the test
    // otherwise): checks that no link is wedged.
    void check_links_alive(const std::string &tag);
    // No syncrepl retry loop: no "do_syncrepl: ... retrying" line with an LDAP result
    // code (only connection failures, negative client-side codes, which partitions and kills cause), and no
    // retrying at all in the log written since mark().
    void mark();
    void check_no_retry_loop();

    const ClusterOptions &options() const { return opts_; }

private:
    SlapdOptions server_options(Node n) const;
    ClusterOptions opts_;
    std::unique_ptr<SlapdFixture> nodes_[3];
    std::unique_ptr<Relay> relays_[3];
    size_t marks_[3] = {0, 0, 0};
    size_t start_marks_[3] = {0, 0, 0};
};

}  // namespace dpwtest

#endif
