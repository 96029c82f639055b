#include "cluster_fixture.h"

#include "test_util.h"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstring>
#include <regex>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace dpwtest {

// ---- Relay -------------------------------------------------------------------------------

namespace {
void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
}
}  // namespace

Relay::Relay(std::string name, std::function<int()> target) : name_(std::move(name)), target_(std::move(target)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("relay: socket failed");
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = loopback(0);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(listen_fd_, 64) != 0)
        throw std::runtime_error("relay: bind/listen on 127.0.0.1 failed");
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    set_nonblock(listen_fd_);
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("relay: pipe failed");
    thread_ = std::thread([this] { run(); });
}

Relay::~Relay() {
    command('q');
    if (thread_.joinable()) thread_.join();
    close_all();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void Relay::command(char c) {
    while (::write(wake_[1], &c, 1) < 0 && errno == EINTR) {
    }
}

// pause()/cut() return once the relay thread has closed the connections: the
// command pipe is processed in order, and the test waits for the thread's answer.
void Relay::pause() {
    paused_ = true;
    cut();
}
void Relay::resume() { paused_ = false; }
void Relay::cut() {
    unsigned want = ++cuts_req_;
    command('c');
    for (int i = 0; i < 2000 && cuts_done_ < want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Relay::close_all() {
    for (auto &p : pairs_) {
        if (p.a >= 0) ::close(p.a);
        if (p.b >= 0) ::close(p.b);
    }
    pairs_.clear();
}

void Relay::run() {
    char buf[65536];
    for (;;) {
        std::vector<pollfd> fds;
        fds.push_back({wake_[0], POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        for (auto &p : pairs_) {
            fds.push_back({p.a, static_cast<short>(POLLIN | (p.ba.empty() ? 0 : POLLOUT)), 0});
            fds.push_back({p.b, static_cast<short>(POLLIN | (p.ab.empty() ? 0 : POLLOUT)), 0});
        }
        int n = poll(fds.data(), fds.size(), 1000);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[0].revents & POLLIN) {
            char c;
            bool quit = false;
            while (::read(wake_[0], &c, 1) == 1) {
                if (c == 'q') quit = true;
                if (c == 'c') {
                    close_all();
                    cuts_done_ = cuts_req_.load();
                }
            }
            if (quit) return;
            continue;  // pairs_ may have changed: rebuild the poll set
        }
        if (fds[1].revents & POLLIN) {
            for (;;) {
                int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) break;
                ++accepted_;
                if (paused_) {  // a partition: the connection is refused
                    ::close(c);
                    continue;
                }
                int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                sockaddr_in a = loopback(target_());
                if (u < 0 || connect(u, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
                    if (u >= 0) ::close(u);
                    ::close(c);
                    continue;
                }
                set_nonblock(c);
                set_nonblock(u);
                int one = 1;
                setsockopt(c, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
                setsockopt(u, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
                Pair p;
                p.a = c;
                p.b = u;
                pairs_.push_back(std::move(p));
            }
        }
        std::vector<Pair> keep;
        for (size_t i = 0; i < pairs_.size(); ++i) {
            Pair &p = pairs_[i];
            bool dead = false;
            auto pump = [&](int from, short rev, std::string &out) {
                if (rev & (POLLIN | POLLHUP | POLLERR)) {
                    ssize_t r = ::read(from, buf, sizeof buf);
                    if (r > 0)
                        out.append(buf, static_cast<size_t>(r));
                    else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                        dead = true;
                }
            };
            auto flush = [&](int to, std::string &out) {
                while (!out.empty()) {
                    ssize_t w = ::send(to, out.data(), out.size(), MSG_NOSIGNAL);
                    if (w > 0) {
                        out.erase(0, static_cast<size_t>(w));
                    } else {
                        if (w < 0 && errno != EAGAIN && errno != EINTR) dead = true;
                        break;
                    }
                }
            };
            short ra = fds[2 + 2 * i].revents, rb = fds[3 + 2 * i].revents;
            pump(p.a, ra, p.ab);
            pump(p.b, rb, p.ba);
            flush(p.b, p.ab);
            flush(p.a, p.ba);
            if (dead) {
                ::close(p.a);
                ::close(p.b);
            } else {
                keep.push_back(std::move(p));
            }
        }
        pairs_ = std::move(keep);
    }
}

// ---- ClusterFixture -------------------------------------------------------------------

namespace {
constexpr int kRidP1FromP2 = 2, kRidP2FromP1 = 1, kRidCFromP1 = 101;

std::string syncrepl_line(int rid, int relay_port) {
    char ridtxt[8];
    snprintf(ridtxt, sizeof ridtxt, "%03d", rid);
    return std::string("syncrepl rid=") + ridtxt + " provider=ldap://127.0.0.1:" + std::to_string(relay_port) +
           " bindmethod=simple binddn=\"" + ClusterFixture::kReplDn + "\" credentials=" + ClusterFixture::kReplPw +
           " searchbase=\"" + SlapdFixture::kSuffix + "\" type=refreshAndPersist retry=\"1 +\" timeout=3"
           " network-timeout=3 keepalive=30:3:5"
           " exattrs=devicepwLastUsed,devicepwFailureCount,devicepwLastFailure";
}
}  // namespace

SlapdOptions ClusterFixture::server_options(Node n) const {
    SlapdOptions o;
    o.mode = opts_.mode;
    o.loglevel = opts_.loglevel;
    o.write_keyfile = false;  // written below: the same keys on every server
    o.global_directives = {"moduleload syncprov"};
    if (n != Node::C) o.global_directives.push_back(std::string("serverID ") + (n == Node::P1 ? "1" : "2"));
    o.db_directives = {
        "index objectClass eq",
        "index entryCSN,entryUUID eq",
        "index devicepwUser,devicepwOwner eq",
        std::string("limits dn.exact=\"") + kReplDn + "\" size=unlimited time=unlimited",
    };
    if (n == Node::P1) o.db_directives.push_back(syncrepl_line(kRidP1FromP2, relays_[0]->port()));
    if (n == Node::P2) o.db_directives.push_back(syncrepl_line(kRidP2FromP1, relays_[1]->port()));
    if (n == Node::C) o.db_directives.push_back(syncrepl_line(kRidCFromP1, relays_[2]->port()));
    if (n != Node::C) {
        o.db_directives.push_back("multiprovider on");
        o.db_directives.push_back("overlay syncprov");
        o.db_directives.push_back("syncprov-checkpoint 100 1");
    }
    o.overlay_directives = {std::string("devicepw-secret-reader \"") + kReplDn + "\""};
    for (auto &d : opts_.overlay_directives) o.overlay_directives.push_back(d);
    return o;
}

ClusterFixture::ClusterFixture(ClusterOptions o) : opts_(std::move(o)) {
    for (auto &n : nodes_) {
        SlapdOptions base;
        base.write_keyfile = false;
        n = std::make_unique<SlapdFixture>(base);
    }
    relays_[0] = std::make_unique<Relay>("p1<-p2", [this] { return p2().port(); });
    relays_[1] = std::make_unique<Relay>("p2<-p1", [this] { return p1().port(); });
    relays_[2] = std::make_unique<Relay>("c<-p1", [this] { return p1().port(); });
    std::string shared = SlapdFixture::key_line("k1");
    for (int i = 0; i < 3; ++i) {
        nodes_[i]->options() = server_options(static_cast<Node>(i));
        std::string keys = opts_.keyfiles.size() == 3 ? opts_.keyfiles[i] : shared;
        nodes_[i]->write_file(nodes_[i]->keyfile(), keys, 0600);
    }
    for (auto &n : nodes_) n->start();
    p1().load_demo_data();
    {
        auto c = p1().root();
        Result r = c->add(kReplDn, {{"objectClass", {"applicationProcess", "simpleSecurityObject"}},
                                    {"cn", {"replicator"}},
                                    {"userPassword", {kReplPw}}});
        BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "adding the replicator failed: " << r.rc << " " << r.diag);
    }
    BOOST_REQUIRE_MESSAGE(everywhere([](SlapdFixture &s) { return exists(s, kReplDn) && exists(s, demo::devadmins); },
                                     std::chrono::milliseconds(20000)),
                          "the demo data did not reach every server; p2 log tail:\n"
                              << p2().log_tail() << "\nconsumer log tail:\n"
                              << consumer().log_tail());
    // Every link up (the first attempts fail while the replicator is not yet everywhere),
    // then the logs' baseline for check_no_retry_loop().
    check_links_alive("start");
    for (int i = 0; i < 3; ++i) start_marks_[i] = nodes_[i]->log().size();
}

ClusterFixture::~ClusterFixture() {
    // Relays first: no replication traffic while the servers stop.
    for (auto &r : relays_) r.reset();
    for (auto &n : nodes_) n.reset();
}

const char *ClusterFixture::name_of(const SlapdFixture &s) const {
    for (int i = 0; i < 3; ++i)
        if (nodes_[i].get() == &s) return name(static_cast<Node>(i));
    return "?";
}

void ClusterFixture::partition_providers() {
    link_p1_from_p2().pause();
    link_p2_from_p1().pause();
}
void ClusterFixture::heal_providers() {
    link_p1_from_p2().resume();
    link_p2_from_p1().resume();
}
void ClusterFixture::partition_consumer() { link_c_from_p1().pause(); }
void ClusterFixture::heal_consumer() { link_c_from_p1().resume(); }

bool ClusterFixture::exists(SlapdFixture &s, const std::string &dn) {
    try {
        return s.root()->read(dn, {"1.1"}).has_value();
    } catch (...) {
        return false;
    }
}

std::vector<std::string> ClusterFixture::values(SlapdFixture &s, const std::string &dn, const std::string &attr) {
    auto e = s.root()->read(dn, {attr});
    return e ? e->values(attr) : std::vector<std::string>{};
}

bool ClusterFixture::everywhere(const std::function<bool(SlapdFixture &)> &pred, std::chrono::milliseconds deadline) {
    return poll_until(
        [&] {
            for (auto *s : all())
                if (!pred(*s)) return false;
            return true;
        },
        deadline);
}

void ClusterFixture::check_links_alive(const std::string &tag) {
    int i = 0;
    for (auto *origin : {&p1(), &p2()}) {
        std::string dn = "cn=probe-" + tag + "-" + std::to_string(i++) + "," + demo::base;
        Result r = origin->root()->add(dn, {{"objectClass", {"device"}}, {"cn", {dn.substr(3, dn.find(',') - 3)}}});
        BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "probe add on " << name_of(*origin) << " failed: " << r.rc);
        for (auto *s : all()) {
            bool ok = poll_until([&] { return exists(*s, dn); }, std::chrono::milliseconds(10000));
            BOOST_CHECK_MESSAGE(ok, "a fresh change on " << name_of(*origin) << " (" << dn << ") did not reach "
                                                         << name_of(*s) << ": the link is wedged; its log tail:\n"
                                                         << s->log_tail(3000));
        }
    }
}

void ClusterFixture::mark() {
    for (int i = 0; i < 3; ++i) marks_[i] = nodes_[i]->log().size();
}

void ClusterFixture::check_no_retry_loop() {
    static const std::regex retry("do_syncrepl: (rid=[0-9]+) rc (-?[0-9]+) retrying");
    for (int i = 0; i < 3; ++i) {
        std::string log = nodes_[i]->log();
        for (auto it = std::sregex_iterator(log.begin(), log.end(), retry); it != std::sregex_iterator(); ++it) {
            const auto &m = *it;
            if (static_cast<size_t>(m.position(0)) < start_marks_[i]) continue;  // while starting
            bool since_mark = static_cast<size_t>(m.position(0)) >= marks_[i];
            BOOST_CHECK_MESSAGE(m[2].str()[0] == '-' && !since_mark,
                                name(static_cast<Node>(i)) << " logs a syncrepl retry: '" << m[0] << "'"
                                << (since_mark ? " after the cluster converged" : " (an LDAP result, not a connection failure)"));
        }
    }
}

}  // namespace dpwtest
