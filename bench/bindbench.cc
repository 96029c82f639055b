// devicepw-bindbench: a simple-bind load generator (libldap, asynchronous).
//
// Many connections, each with one bind in flight (LDAP allows no other operation on a
// connection while a bind is outstanding), driven by a few threads with poll(): every
// reply is checked against the expected result code, and the next bind goes out on the
// same connection, as Dovecot rebinds its authentication connections. --new-connection
// opens a fresh connection for every bind instead (a client that connects per login).
//
// Input: a file of lines "DN TAB password TAB expected-result-code" (devicepw-benchgen
// writes them), cycled through in order by all connections together.
// Output: binds/s and latency percentiles (from sending the bind to its reply), one
// human line and one machine line:
//   RESULT binds=<n> seconds=<s> rate=<binds/s> p50_us=<us> p99_us=<us> mismatches=<n>
//          mean_ns=<ns> p50_ns=<ns> p90_ns=<ns> p99_ns=<ns> p999_ns=<ns>
// --latency-file writes every measured bind's latency (ns, one a line) for statistics
// over several runs (bench/timing.sh).
// Exit status 0 only when every reply had the expected code and nothing timed out.
// Every run is bounded: --duration seconds and --max-binds binds, whichever comes first.
#include <lber.h>
#include <ldap.h>
#include <poll.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

namespace {

struct Pair {
    std::string dn, password;
    int expect;
};

struct Options {
    std::string uri, pairs, latency_file;
    int connections = 16, threads = 1;
    double duration = 10, timeout = 10;
    long long max_binds = 0, warmup = 0;
    bool new_connection = false;
};

std::vector<Pair> read_pairs(const std::string &path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<Pair> pairs;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto t1 = line.find('\t'), t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos) throw std::runtime_error(path + ": expected DN TAB password TAB code");
        pairs.push_back({line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), std::stoi(line.substr(t2 + 1))});
    }
    if (pairs.empty()) throw std::runtime_error(path + " holds no pairs");
    return pairs;
}

// Shared by all threads of one phase.
struct Shared {
    const Options &opt;
    const std::vector<Pair> &pairs;
    long long limit;                        // binds to send in this phase
    Clock::time_point deadline;
    std::atomic<long long> next{0};         // next bind (index into pairs, modulo)
    std::atomic<long long> mismatches{0};
    std::atomic<bool> failed{false};
    std::mutex report_mutex;
    int reported = 0;
    Shared(const Options &o, const std::vector<Pair> &p, long long l, Clock::time_point d)
        : opt(o), pairs(p), limit(l), deadline(d) {}
    void report(const std::string &what) {
        std::lock_guard<std::mutex> lock(report_mutex);
        if (reported++ < 5) std::cerr << "devicepw-bindbench: " << what << '\n';
    }
};

struct Conn {
    LDAP *ld = nullptr;
    int fd = -1;
    int msgid = -1;
    long long idx = -1;
    Clock::time_point sent;
};

void close_conn(Conn &c) {
    if (c.ld) ldap_unbind_ext_s(c.ld, nullptr, nullptr);
    c = Conn{};
}

bool open_conn(Shared &s, Conn &c) {
    if (ldap_initialize(&c.ld, s.opt.uri.c_str()) != LDAP_SUCCESS) {
        s.report("ldap_initialize failed for " + s.opt.uri);
        c.ld = nullptr;
        return false;
    }
    int version = LDAP_VERSION3;
    ldap_set_option(c.ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    return true;
}

// Send the next bind on c; false when the phase is over (or on error).
bool send_bind(Shared &s, Conn &c) {
    if (Clock::now() >= s.deadline || s.failed) return false;
    long long idx = s.next.fetch_add(1);
    if (idx >= s.limit) return false;
    if (!c.ld && !open_conn(s, c)) {
        s.failed = true;
        return false;
    }
    const Pair &p = s.pairs[static_cast<std::size_t>(idx % static_cast<long long>(s.pairs.size()))];
    berval cred;
    cred.bv_val = const_cast<char *>(p.password.data());
    cred.bv_len = p.password.size();
    c.idx = idx;
    c.sent = Clock::now();
    int rc = ldap_sasl_bind(c.ld, p.dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, &c.msgid);
    if (rc != LDAP_SUCCESS) {
        s.report(std::string("sending a bind failed: ") + ldap_err2string(rc));
        s.failed = true;
        return false;
    }
    if (c.fd < 0 && ldap_get_option(c.ld, LDAP_OPT_DESC, &c.fd) != LDAP_OPT_SUCCESS) {
        s.report("cannot get the connection's descriptor");
        s.failed = true;
        return false;
    }
    return true;
}

void worker(Shared &s, int nconn, std::vector<uint32_t> *lat) {
    std::vector<Conn> conns(static_cast<std::size_t>(nconn));
    std::vector<pollfd> pfds;
    std::vector<std::size_t> which;
    std::size_t active = 0;
    for (Conn &c : conns)
        if (send_bind(s, c)) ++active;
    const auto timeout = std::chrono::duration<double>(s.opt.timeout);
    while (active > 0) {
        pfds.clear();
        which.clear();
        const auto now = Clock::now();
        for (std::size_t i = 0; i < conns.size(); ++i) {
            if (conns[i].msgid < 0) continue;
            if (now - conns[i].sent > timeout) {
                s.report("no reply within --timeout for " + s.pairs[conns[i].idx % s.pairs.size()].dn);
                s.failed = true;
                for (Conn &c : conns) close_conn(c);
                return;
            }
            pfds.push_back({conns[i].fd, POLLIN, 0});
            which.push_back(i);
        }
        if (poll(pfds.data(), pfds.size(), 100) < 0) {
            if (errno == EINTR) continue;
            s.report("poll failed");
            s.failed = true;
            break;
        }
        for (std::size_t k = 0; k < pfds.size(); ++k) {
            if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Conn &c = conns[which[k]];
            LDAPMessage *res = nullptr;
            timeval zero{0, 0};
            int t = ldap_result(c.ld, c.msgid, LDAP_MSG_ALL, &zero, &res);
            if (t == 0) continue;  // not all of it yet
            const auto done = Clock::now();
            const Pair &p = s.pairs[static_cast<std::size_t>(c.idx % static_cast<long long>(s.pairs.size()))];
            int code = -1;
            if (t < 0 || ldap_parse_result(c.ld, res, &code, nullptr, nullptr, nullptr, nullptr, 1) != LDAP_SUCCESS) {
                int e = 0;
                ldap_get_option(c.ld, LDAP_OPT_RESULT_CODE, &e);
                s.report("connection failed for " + p.dn + ": " + ldap_err2string(e));
                s.failed = true;
                res = nullptr;
            }
            if (code != p.expect) {
                ++s.mismatches;
                s.report("bind as " + p.dn + ": result " + std::to_string(code) + ", expected " +
                         std::to_string(p.expect));
            }
            if (lat)  // nanoseconds, saturated at 4.29 s (--timeout bounds a reply anyway)
                lat->push_back(static_cast<uint32_t>(std::min<long long>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(done - c.sent).count(), UINT32_MAX)));
            c.msgid = -1;
            if (s.opt.new_connection || s.failed) close_conn(c);
            if (!send_bind(s, c)) {
                close_conn(c);
                --active;
            }
        }
    }
    for (Conn &c : conns) close_conn(c);
}

struct PhaseResult {
    long long binds = 0, mismatches = 0;
    double seconds = 0;
    bool failed = false;
    std::vector<uint32_t> lat;
};

PhaseResult run_phase(const Options &opt, const std::vector<Pair> &pairs, long long limit, double duration,
                      bool record) {
    Shared s(opt, pairs, limit,
             Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration)));
    std::vector<std::vector<uint32_t>> lats(static_cast<std::size_t>(opt.threads));
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int t = 0; t < opt.threads; ++t) {
        int n = opt.connections / opt.threads + (t < opt.connections % opt.threads ? 1 : 0);
        threads.emplace_back(worker, std::ref(s), n, record ? &lats[t] : nullptr);
    }
    for (auto &th : threads) th.join();
    PhaseResult r;
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.mismatches = s.mismatches;
    r.failed = s.failed;
    for (auto &l : lats) r.lat.insert(r.lat.end(), l.begin(), l.end());
    r.binds = record ? static_cast<long long>(r.lat.size()) : 0;
    return r;
}

uint32_t percentile(std::vector<uint32_t> &v, double q) {
    if (v.empty()) return 0;
    std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k];
}

}  // namespace

int main(int argc, char **argv) try {
    Options opt;
    po::options_description desc("devicepw-bindbench options");
    desc.add_options()
        ("help,h", "this help")
        ("uri,H", po::value(&opt.uri)->default_value("ldap://127.0.0.1:389/"), "LDAP URI of the server")
        ("pairs,f", po::value(&opt.pairs)->required(), "file of DN TAB password TAB expected code")
        ("connections,c", po::value(&opt.connections)->default_value(16), "connections (one bind in flight each)")
        ("threads,t", po::value(&opt.threads)->default_value(1), "client threads sharing the connections")
        ("duration,d", po::value(&opt.duration)->default_value(10), "measured seconds at most")
        ("max-binds,n", po::value(&opt.max_binds)->default_value(10000000), "measured binds at most")
        ("warmup,w", po::value(&opt.warmup)->default_value(0),
         "binds before measuring (not timed, results still checked; at most --duration seconds)")
        ("new-connection", po::bool_switch(&opt.new_connection), "a new connection for every bind")
        ("timeout", po::value(&opt.timeout)->default_value(10), "seconds to wait for any one reply")
        ("latency-file", po::value(&opt.latency_file),
         "write each measured bind's latency in ns, one a line, to this file");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
        std::cout << desc << '\n';
        return 0;
    }
    po::notify(vm);
    if (opt.connections < 1 || opt.threads < 1 || opt.threads > opt.connections || opt.duration <= 0 ||
        opt.max_binds < 1 || opt.warmup < 0)
        throw std::runtime_error("bad --connections/--threads/--duration/--max-binds/--warmup");

    const auto pairs = read_pairs(opt.pairs);
    long long mismatches = 0;
    if (opt.warmup > 0) {
        auto w = run_phase(opt, pairs, opt.warmup, opt.duration, false);
        mismatches += w.mismatches;
        if (w.failed) return 1;
    }
    auto r = run_phase(opt, pairs, opt.max_binds, opt.duration, true);
    mismatches += r.mismatches;
    const double rate = r.seconds > 0 ? static_cast<double>(r.binds) / r.seconds : 0;
    if (!opt.latency_file.empty()) {
        std::ofstream lf(opt.latency_file);
        for (uint32_t ns : r.lat) lf << ns << '\n';
        if (!lf) throw std::runtime_error("cannot write " + opt.latency_file);
    }
    double mean = 0;
    for (uint32_t ns : r.lat) mean += ns;
    mean = r.lat.empty() ? 0 : mean / static_cast<double>(r.lat.size());
    const uint32_t p50 = percentile(r.lat, 0.50), p90 = percentile(r.lat, 0.90), p99 = percentile(r.lat, 0.99),
                   p999 = percentile(r.lat, 0.999);
    std::printf("%s: %lld binds in %.2f s = %.0f binds/s, p50 %.3f ms, p99 %.3f ms, %d connections%s, "
                "%lld unexpected results\n",
                opt.pairs.c_str(), r.binds, r.seconds, rate, p50 / 1e6, p99 / 1e6, opt.connections,
                opt.new_connection ? " (new connection per bind)" : " (rebinding)", mismatches);
    std::printf("RESULT binds=%lld seconds=%.3f rate=%.1f p50_us=%u p99_us=%u mismatches=%lld "
                "mean_ns=%.0f p50_ns=%u p90_ns=%u p99_ns=%u p999_ns=%u\n",
                r.binds, r.seconds, rate, p50 / 1000, p99 / 1000, mismatches, mean, p50, p90, p99, p999);
    return (mismatches == 0 && !r.failed) ? 0 : 1;
} catch (const std::exception &e) {
    std::cerr << "devicepw-bindbench: " << e.what() << '\n';
    return 2;
}
