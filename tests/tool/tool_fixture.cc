#include "tool_fixture.h"

#include <chrono>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DEVICEPW_TOOL_PATH
#error "DEVICEPW_TOOL_PATH must be defined by the build"
#endif

namespace dpwtest {

Out run_devicepw(const std::vector<std::string> &args, const std::string &dir,
                 const std::map<std::string, std::string> &env, const std::string &input, int timeout_ms) {
    std::vector<std::string> argv_s = {DEVICEPW_TOOL_PATH};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::map<std::string, std::string> e = {
        {"PATH", "/usr/bin:/bin"}, {"HOME", dir}, {"TZ", "UTC"}, {"LANG", "C.UTF-8"}};
    for (const auto &[k, v] : env) e[k] = v;
    std::vector<std::string> env_s;
    for (const auto &[k, v] : e) env_s.push_back(k + "=" + v);
    std::vector<char *> av, ev;
    for (auto &s : argv_s) av.push_back(s.data());
    av.push_back(nullptr);
    for (auto &s : env_s) ev.push_back(s.data());
    ev.push_back(nullptr);

    int in[2], out[2], err[2];
    BOOST_TEST_REQUIRE(pipe2(in, O_CLOEXEC) == 0);
    BOOST_TEST_REQUIRE(pipe2(out, O_CLOEXEC) == 0);
    BOOST_TEST_REQUIRE(pipe2(err, O_CLOEXEC) == 0);
    pid_t pid = fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (chdir(dir.c_str()) != 0) _exit(126);
        execve(av[0], av.data(), ev.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    // The input is small (a confirmation): it fits in the pipe buffer.
    if (!input.empty()) {
        ssize_t n = write(in[1], input.data(), input.size());
        BOOST_TEST_REQUIRE(n == static_cast<ssize_t>(input.size()));
    }
    close(in[1]);

    Out o;
    bool timed_out = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool out_open = true, err_open = true;
    char buf[4096];
    while (out_open || err_open) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        pollfd p[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
        int r = poll(p, 2, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0) {
                (i == 0 ? out_open : err_open) = false;
                continue;
            }
            (i == 0 ? o.out : o.err).append(buf, static_cast<size_t>(n));
        }
    }
    close(out[0]);
    close(err[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) o.status = -1;
    else if (WIFEXITED(st)) o.status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) o.status = 128 + WTERMSIG(st);
    return o;
}

SlapdOptions tool_slapd_options() {
    SlapdOptions o;
    o.overlay_directives = {"devicepw-admin " + demo::carol, "devicepw-lastused-precision 0",
                            "devicepw-telemetry-interval 1"};
    // carol may write (the overlay still decides about devices); everyone reads.
    o.acl = {"access to * by dn.exact=\"" + demo::carol + "\" write by * read"};
    return o;
}

ToolFixture::ToolFixture(SlapdOptions opts) : slapd(std::move(opts)) {
    slapd.start();
    slapd.load_demo_data();
    env["LDAPBASE"] = demo::base;
}

Out ToolFixture::raw(const std::vector<std::string> &args, const std::string &input) {
    return run_devicepw(args, slapd.dir(), env, input);
}

Out ToolFixture::as(const std::string &dn, const std::string &pw, const std::vector<std::string> &args,
                    const std::string &input) {
    std::vector<std::string> a = {"-H", slapd.uri(), "-x", "-D", dn, "-w", pw};
    a.insert(a.end(), args.begin(), args.end());
    return raw(a, input);
}

Out ToolFixture::root(const std::vector<std::string> &args, const std::string &input) {
    return as(SlapdFixture::kRootDn, SlapdFixture::kRootPw, args, input);
}

std::string ToolFixture::add_device(const std::string &address, const std::string &label) {
    Out o = root({"device", "add", address, "--label", label, "--quiet"});
    BOOST_REQUIRE_MESSAGE(o.status == 0, "device add failed: " << o.status << "\n" << o.out << o.err);
    BOOST_REQUIRE(!o.out.empty() && o.out.back() == '\n');
    return o.out.substr(0, o.out.size() - 1);
}

std::vector<std::string> ToolFixture::device_ids(const std::string &mailbox_dn) {
    auto c = slapd.root();
    SearchResult r = c->search(mailbox_dn, LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)", {"devicepwId"});
    BOOST_REQUIRE(r.res.rc == LDAP_SUCCESS);
    std::vector<std::string> ids;
    for (const auto &e : r.entries) ids.push_back(e.one("devicepwid"));
    std::sort(ids.begin(), ids.end());
    return ids;
}

bool ToolFixture::binds(const std::string &dn, const std::string &pw) {
    Conn c(slapd.uri());
    return c.bind(dn, pw).rc == LDAP_SUCCESS;
}

nlohmann::json parse_json(const Out &o) {
    try {
        return nlohmann::json::parse(o.out);
    } catch (const std::exception &e) {
        BOOST_FAIL("output is not JSON (" << e.what() << "):\n" << o.out << "\nstderr:\n" << o.err);
    }
    return {};
}

std::vector<std::string> keys(const nlohmann::json &j) {
    std::vector<std::string> k;
    for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
    std::sort(k.begin(), k.end());
    return k;
}

bool has(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

bool is_iso_utc(const std::string &s) {
    static const std::regex re(R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$)");
    return std::regex_match(s, re);
}


bool ToolFixture::wait_last_used(const std::string &id, const std::string &mailbox) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        auto e = slapd.root()->read(demo::device_dn(id, mailbox), {"devicepwLastUsed"});
        if (e && e->has("devicepwlastused")) return true;
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}
}  // namespace dpwtest
