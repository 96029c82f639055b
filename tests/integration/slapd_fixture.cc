#include "slapd_fixture.h"

#include <boost/test/unit_test.hpp>

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DEVICEPW_MODULE_PATH
#error "DEVICEPW_MODULE_PATH must be defined by the build"
#endif
#ifndef DEVICEPW_SCHEMA_DIR
#error "DEVICEPW_SCHEMA_DIR must be defined by the build"
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace dpwtest {

namespace {

constexpr const char *kSlapd = "/usr/sbin/slapd";
constexpr const char *kSlaptest = "/usr/sbin/slaptest";
constexpr const char *kSlapadd = "/usr/sbin/slapadd";
constexpr const char *kSystemSchema = "/etc/ldap/schema";
constexpr int kStartTimeoutMs = 20000;
constexpr int kStopTimeoutMs = 15000;
constexpr int kOpTimeoutSec = 30;

std::string env_or(const char *name, const char *fallback) {
    const char *v = std::getenv(name);
    return (v && *v) ? std::string(v) : std::string(fallback);
}

// DEVICEPW_IT_SLAPD_WRAPPER runs slapd, and slapadd/slaptest (slapd in tool mode: they
// load the module too), under a tool, e.g. "valgrind --log-file=/tmp/vg-%p.log" or the
// sanitizer build's tests/sanitize/slapd-wrapper.sh (words separated by spaces).
std::vector<std::string> slapd_argv(std::initializer_list<std::string> args) {
    std::vector<std::string> argv;
    if (const char *w = std::getenv("DEVICEPW_IT_SLAPD_WRAPPER")) {
        std::istringstream words(w);
        for (std::string word; words >> word;) argv.push_back(word);
    }
    argv.insert(argv.end(), args);
    return argv;
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : static_cast<int>(fd);
#else
    (void)pid;
    return -1;
#endif
}

int decode_status(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

// Wait at most timeout_ms for pid to exit. Returns the decoded status or nullopt.
// With a pidfd this is a poll() on the process itself; without one, a bounded loop.
std::optional<int> wait_exit(pid_t pid, int pidfd, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return decode_status(st);
        if (r < 0 && errno != EINTR) return -1;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return std::nullopt;
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left, 5)));
        }
    }
}

std::vector<char *> make_argv(const std::vector<std::string> &args) {
    std::vector<char *> v;
    for (auto &a : args) v.push_back(const_cast<char *>(a.c_str()));
    v.push_back(nullptr);
    return v;
}

std::string acl_to_olc(const std::string &line) {
    std::string s = line;
    if (s.rfind("access ", 0) == 0) s = s.substr(7);
    return s;
}

// The stock modules the stacked overlays need, each once, in order.
std::vector<std::string> stacked_modules(const SlapdOptions &o) {
    std::vector<std::string> names;
    for (auto *list : {&o.overlays_before, &o.overlays_after})
        for (auto &ov : *list)
            if (std::find(names.begin(), names.end(), ov.name) == names.end()) names.push_back(ov.name);
    return names;
}

}  // namespace

StackedOverlay syncprov_overlay() {
    return {"syncprov", "olcSyncProvConfig", {"syncprov-checkpoint 100 10", "syncprov-sessionlog 100"},
            {"olcSpCheckpoint: 100 10", "olcSpSessionlog: 100"}};
}
StackedOverlay ppolicy_overlay() { return {"ppolicy", "olcPPolicyConfig", {}, {}}; }
StackedOverlay sssvlv_overlay() {
    return {"sssvlv", "olcSssVlvConfig", {"sssvlv-max 32", "sssvlv-maxkeys 5", "sssvlv-maxperconn 8"},
            {"olcSssVlvMax: 32", "olcSssVlvMaxKeys: 5", "olcSssVlvMaxPerConn: 8"}};
}

std::string module_path() { return env_or("DEVICEPW_MODULE", DEVICEPW_MODULE_PATH); }
std::string schema_dir() { return env_or("DEVICEPW_SCHEMA_DIR", DEVICEPW_SCHEMA_DIR); }

// ---- helpers ------------------------------------------------------------------------

std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
std::string upper(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
std::string strip_dashes(const std::string &s) {
    std::string r;
    for (char c : s)
        if (c != '-') r += c;
    return r;
}
bool contains_ci(const std::string &hay, const std::string &needle) {
    return lower(hay).find(lower(needle)) != std::string::npos;
}

std::optional<long long> parse_gentime(const std::string &s) {
    // YYYYMMDDHHMMSS[.fraction]Z
    if (s.size() < 15 || s.back() != 'Z') return std::nullopt;
    for (int i = 0; i < 14; ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    std::tm tm{};
    tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
    tm.tm_mon = std::stoi(s.substr(4, 2)) - 1;
    tm.tm_mday = std::stoi(s.substr(6, 2));
    tm.tm_hour = std::stoi(s.substr(8, 2));
    tm.tm_min = std::stoi(s.substr(10, 2));
    tm.tm_sec = std::stoi(s.substr(12, 2));
    return static_cast<long long>(timegm(&tm));
}

std::string format_gentime(long long epoch) {
    time_t t = static_cast<time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    return buf;
}

long long now_epoch() { return static_cast<long long>(time(nullptr)); }

bool is_device_secret(const std::string &s, const std::string &id) {
    static const std::string alphabet = "23456789abcdefghijkmnpqrstuvwxyz";
    if (s.size() != id.size() + 20) return false;
    if (s.compare(0, id.size(), id) != 0) return false;
    std::string rest = s.substr(id.size());
    for (size_t i = 0; i < rest.size(); ++i) {
        if (i % 5 == 0) {
            if (rest[i] != '-') return false;
        } else if (alphabet.find(rest[i]) == std::string::npos) {
            return false;
        }
    }
    return true;
}

// ---- Entry ------------------------------------------------------------------------------

bool Entry::has(const std::string &attr) const { return attrs.count(lower(attr)) > 0; }

std::vector<std::string> Entry::values(const std::string &attr) const {
    auto it = attrs.find(lower(attr));
    return it == attrs.end() ? std::vector<std::string>{} : it->second;
}

std::string Entry::one(const std::string &attr) const {
    auto v = values(attr);
    BOOST_REQUIRE_MESSAGE(v.size() == 1, "entry " << dn << ": expected exactly one " << attr
                                                  << " value, got " << v.size());
    return v[0];
}

const Entry *SearchResult::find(const std::string &dn) const {
    for (auto &e : entries)
        if (lower(e.dn) == lower(dn)) return &e;
    return nullptr;
}

Mod mod_add(std::string attr, std::vector<std::string> v) { return {LDAP_MOD_ADD, std::move(attr), std::move(v)}; }
Mod mod_replace(std::string attr, std::vector<std::string> v) {
    return {LDAP_MOD_REPLACE, std::move(attr), std::move(v)};
}
Mod mod_delete(std::string attr, std::vector<std::string> v) {
    return {LDAP_MOD_DELETE, std::move(attr), std::move(v)};
}

// ---- Conn -------------------------------------------------------------------------------

Conn::Conn(const std::string &uri) {
    int rc = ldap_initialize(&ld_, uri.c_str());
    if (rc != LDAP_SUCCESS || !ld_) throw std::runtime_error("ldap_initialize(" + uri + ") failed");
    int version = LDAP_VERSION3;
    ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld_, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    timeval net{5, 0};
    ldap_set_option(ld_, LDAP_OPT_NETWORK_TIMEOUT, &net);
    timeval op{kOpTimeoutSec, 0};
    ldap_set_option(ld_, LDAP_OPT_TIMEOUT, &op);
}

Conn::~Conn() {
    if (ld_) ldap_unbind_ext(ld_, nullptr, nullptr);
}

Result Conn::start_failed(int rc) {
    Result r;
    r.rc = rc;
    char *msg = nullptr;
    if (ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS && msg) {
        r.diag = msg;
        ldap_memfree(msg);
    }
    return r;
}

Result Conn::wait(int msgid, LDAPMessage **keep) {
    Result r;
    LDAPMessage *res = nullptr;
    timeval tv{kOpTimeoutSec, 0};
    int t = ldap_result(ld_, msgid, LDAP_MSG_ALL, &tv, &res);
    if (t <= 0) {
        int err = LDAP_TIMEOUT;
        if (t < 0) ldap_get_option(ld_, LDAP_OPT_RESULT_CODE, &err);
        if (res) ldap_msgfree(res);
        r.rc = err;
        r.diag = t == 0 ? "client timeout waiting for the result" : ldap_err2string(err);
        return r;
    }
    int err = -1;
    char *matched = nullptr, *diag = nullptr;
    int prc = ldap_parse_result(ld_, res, &err, &matched, &diag, nullptr, nullptr, 0);
    if (prc != LDAP_SUCCESS) err = prc;
    r.rc = err;
    if (matched) {
        r.matched = matched;
        ldap_memfree(matched);
    }
    if (diag) {
        r.diag = diag;
        ldap_memfree(diag);
    }
    if (keep)
        *keep = res;
    else
        ldap_msgfree(res);
    return r;
}

Result Conn::bind(const std::string &dn, const std::string &pw) {
    berval cred;
    cred.bv_val = const_cast<char *>(pw.data());
    cred.bv_len = pw.size();
    int msgid = -1;
    int rc = ldap_sasl_bind(ld_, dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(rc);
    return wait(msgid);
}

Result Conn::whoami(std::string &authzid) {
    int msgid = -1;
    int rc = ldap_whoami(ld_, nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(rc);
    LDAPMessage *res = nullptr;
    Result r = wait(msgid, &res);
    authzid.clear();
    if (res) {
        if (r.rc == LDAP_SUCCESS) {
            char *oid = nullptr;
            berval *data = nullptr;
            if (ldap_parse_extended_result(ld_, res, &oid, &data, 0) == LDAP_SUCCESS && data) {
                authzid.assign(data->bv_val, data->bv_len);
            }
            if (oid) ldap_memfree(oid);
            if (data) ber_bvfree(data);
        }
        ldap_msgfree(res);
    }
    return r;
}

std::string Conn::whoami() {
    std::string id;
    Result r = whoami(id);
    BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "whoami failed: " << r.rc << " " << r.diag);
    return id;
}

namespace {
struct ModBuilder {
    std::vector<LDAPMod> mods;
    std::vector<std::vector<berval>> vals;
    std::vector<std::vector<berval *>> ptrs;
    std::vector<LDAPMod *> list;

    void add(int op, const std::string &attr, const std::vector<std::string> &values) {
        LDAPMod m{};
        m.mod_op = op | LDAP_MOD_BVALUES;
        m.mod_type = const_cast<char *>(attr.c_str());
        mods.push_back(m);
        std::vector<berval> bv;
        for (auto &v : values) {
            berval b;
            b.bv_val = const_cast<char *>(v.data());
            b.bv_len = v.size();
            bv.push_back(b);
        }
        vals.push_back(std::move(bv));
    }
    LDAPMod **finish() {
        ptrs.resize(vals.size());
        for (size_t i = 0; i < mods.size(); ++i) {
            if (vals[i].empty()) {
                mods[i].mod_bvalues = nullptr;
            } else {
                for (auto &b : vals[i]) ptrs[i].push_back(&b);
                ptrs[i].push_back(nullptr);
                mods[i].mod_bvalues = ptrs[i].data();
            }
        }
        for (auto &m : mods) list.push_back(&m);
        list.push_back(nullptr);
        return list.data();
    }
};
}  // namespace

Result Conn::add(const std::string &dn, const AddAttrs &attrs) {
    ModBuilder b;
    b.mods.reserve(attrs.size());
    for (auto &[a, v] : attrs) b.add(LDAP_MOD_ADD, a, v);
    int msgid = -1;
    int rc = ldap_add_ext(ld_, dn.c_str(), b.finish(), nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(rc);
    return wait(msgid);
}

Result Conn::modify(const std::string &dn, const std::vector<Mod> &mods) {
    ModBuilder b;
    b.mods.reserve(mods.size());
    for (auto &m : mods) b.add(m.op, m.attr, m.values);
    int msgid = -1;
    int rc = ldap_modify_ext(ld_, dn.c_str(), b.finish(), nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(rc);
    return wait(msgid);
}

Result Conn::del(const std::string &dn) {
    int msgid = -1;
    int rc = ldap_delete_ext(ld_, dn.c_str(), nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(rc);
    return wait(msgid);
}

Result Conn::rename(const std::string &dn, const std::string &newrdn, const std::string &new_superior,
                    bool delete_old) {
    int msgid = -1;
    int rc = ldap_rename(ld_, dn.c_str(), newrdn.c_str(), new_superior.empty() ? nullptr : new_superior.c_str(),
                         delete_old ? 1 : 0, nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(rc);
    return wait(msgid);
}

Result Conn::compare(const std::string &dn, const std::string &attr, const std::string &value) {
    berval bv;
    bv.bv_val = const_cast<char *>(value.data());
    bv.bv_len = value.size();
    int msgid = -1;
    int rc = ldap_compare_ext(ld_, dn.c_str(), attr.c_str(), &bv, nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(rc);
    return wait(msgid);
}

Entry entry_of(LDAP *ld, LDAPMessage *msg) {
    Entry entry;
    char *dn = ldap_get_dn(ld, msg);
    if (dn) {
        entry.dn = dn;
        ldap_memfree(dn);
    }
    BerElement *ber = nullptr;
    for (char *a = ldap_first_attribute(ld, msg, &ber); a; a = ldap_next_attribute(ld, msg, ber)) {
        berval **vals = ldap_get_values_len(ld, msg, a);
        auto &dst = entry.attrs[lower(a)];
        if (vals) {
            for (int i = 0; vals[i]; ++i) dst.emplace_back(vals[i]->bv_val, vals[i]->bv_len);
            ldap_value_free_len(vals);
        }
        ldap_memfree(a);
    }
    if (ber) ber_free(ber, 0);
    return entry;
}

SearchResult Conn::search(const std::string &base, int scope, const std::string &filter,
                          const std::vector<std::string> &attrs) {
    SearchResult out;
    std::vector<char *> av;
    for (auto &a : attrs) av.push_back(const_cast<char *>(a.c_str()));
    av.push_back(nullptr);
    int msgid = -1;
    timeval tv{kOpTimeoutSec, 0};
    int rc = ldap_search_ext(ld_, base.c_str(), scope, filter.c_str(), attrs.empty() ? nullptr : av.data(), 0,
                             nullptr, nullptr, &tv, 0, &msgid);
    if (rc != LDAP_SUCCESS) {
        out.res = start_failed(rc);
        return out;
    }
    LDAPMessage *res = nullptr;
    out.res = wait(msgid, &res);
    if (!res) return out;
    for (LDAPMessage *e = ldap_first_entry(ld_, res); e; e = ldap_next_entry(ld_, e))
        out.entries.push_back(entry_of(ld_, e));
    ldap_msgfree(res);
    return out;
}

std::optional<Entry> Conn::read(const std::string &dn, const std::vector<std::string> &attrs) {
    SearchResult s = search(dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs);
    if (s.res.rc != LDAP_SUCCESS || s.entries.size() != 1) return std::nullopt;
    return s.entries[0];
}

PasswdResult Conn::passwd(const std::string &user, const std::optional<std::string> &oldpw,
                          const std::optional<std::string> &newpw) {
    PasswdResult out;
    berval u{user.size(), const_cast<char *>(user.data())};
    berval o{}, n{};
    if (oldpw) o = berval{oldpw->size(), const_cast<char *>(oldpw->data())};
    if (newpw) n = berval{newpw->size(), const_cast<char *>(newpw->data())};
    int msgid = -1;
    int rc = ldap_passwd(ld_, &u, oldpw ? &o : nullptr, newpw ? &n : nullptr, nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS) {
        out.res = start_failed(rc);
        return out;
    }
    LDAPMessage *res = nullptr;
    out.res = wait(msgid, &res);
    if (res) {
        berval gen{};
        if (ldap_parse_passwd(ld_, res, &gen) == LDAP_SUCCESS && gen.bv_val) {
            out.genpasswd = std::string(gen.bv_val, gen.bv_len);
            ber_memfree(gen.bv_val);
        }
        ldap_msgfree(res);
    }
    return out;
}

// ---- SlapdFixture -----------------------------------------------------------------------

SlapdFixture::SlapdFixture(SlapdOptions opts) : opts_(std::move(opts)) {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
    keep_ = std::getenv("DEVICEPW_IT_KEEP") != nullptr;
    std::string tmpl = (fs::temp_directory_path() / "devicepw-it-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = buf.data();
    fs::create_directory(path("db"));
    if (opts_.write_keyfile) write_file(keyfile(), key_line(opts_.keyid), 0600);
    pick_port();
}

SlapdFixture::~SlapdFixture() {
    try {
        stop();
    } catch (...) {
    }
    if (!keep_ && !dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::string SlapdFixture::uri() const { return "ldap://127.0.0.1:" + std::to_string(port_) + "/"; }

void SlapdFixture::pick_port() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        close(s);
        throw std::runtime_error("bind to 127.0.0.1:0 failed");
    }
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    close(s);
}

std::string SlapdFixture::key_line(const std::string &keyid) {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    return keyid + " " + hex + "\n";
}

void SlapdFixture::write_file(const std::string &p, const std::string &content, mode_t mode) {
    std::error_code ec;
    fs::remove(p, ec);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("cannot create " + p);
    size_t off = 0;
    while (off < content.size()) {
        ssize_t w = ::write(fd, content.data() + off, content.size() - off);
        if (w <= 0) {
            ::close(fd);
            throw std::runtime_error("cannot write " + p);
        }
        off += static_cast<size_t>(w);
    }
    ::fchmod(fd, mode);  // not subject to the umask
    ::close(fd);
}

std::string SlapdFixture::slapd_conf_text() const {
    std::ostringstream c;
    c << "# generated by the devicepw integration-test fixture\n";
    for (auto s : {"core", "cosine", "inetorgperson"}) c << "include " << kSystemSchema << "/" << s << ".schema\n";
    c << "include " << schema_dir() << "/devicepw.schema\n";
    c << "pidfile " << path("slapd.pid") << "\n";
    c << "argsfile " << path("slapd.args") << "\n";
    c << "modulepath /usr/lib/ldap\n";
    c << "moduleload back_mdb\n";
    if (opts_.overlay) c << "moduleload " << module_path() << "\n";
    for (auto &m : stacked_modules(opts_)) c << "moduleload " << m << "\n";
    for (auto &l : opts_.global_directives) c << l << "\n";
    c << "\ndatabase config\n";
    c << "rootdn \"" << kConfigDn << "\"\n";
    c << "rootpw " << kConfigPw << "\n";
    c << "\ndatabase mdb\n";
    c << "suffix \"" << kSuffix << "\"\n";
    if (opts_.db_rootdn) {
        c << "rootdn \"" << kRootDn << "\"\n";
        c << "rootpw " << kRootPw << "\n";
    }
    c << "directory " << path("db") << "\n";
    c << "maxsize 67108864\n";
    for (auto &l : opts_.db_directives) c << l << "\n";
    for (auto &l : opts_.acl) c << l << "\n";
    auto stacked = [&](const std::vector<StackedOverlay> &list) {
        for (auto &ov : list) {
            c << "\noverlay " << ov.name << "\n";
            for (auto &l : ov.directives) c << l << "\n";
        }
    };
    stacked(opts_.overlays_before);
    if (opts_.overlay) {
        c << "\noverlay devicepw\n";
        if (opts_.keyfile_directive) c << "devicepw-keyfile " << keyfile() << "\n";
        for (auto &l : opts_.overlay_directives) c << l << "\n";
    }
    stacked(opts_.overlays_after);
    return c.str();
}

std::string SlapdFixture::ldif_config_text() const {
    std::ostringstream c;
    c << "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n";
    c << "olcPidFile: " << path("slapd.pid") << "\n";
    c << "olcArgsFile: " << path("slapd.args") << "\n";
    for (auto &l : opts_.global_olc) c << l << "\n";
    c << "\n";
    c << "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n";
    c << "olcModulePath: /usr/lib/ldap\nolcModuleLoad: {0}back_mdb\n";
    int modx = 1;
    if (opts_.overlay) c << "olcModuleLoad: {" << modx++ << "}" << module_path() << "\n";
    for (auto &m : stacked_modules(opts_)) c << "olcModuleLoad: {" << modx++ << "}" << m << "\n";
    c << "\n";
    c << "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n";
    for (auto s : {"core", "cosine", "inetorgperson"}) {
        c << read_file(std::string(kSystemSchema) + "/" + s + ".ldif") << "\n\n";
    }
    c << read_file(schema_dir() + "/devicepw.ldif") << "\n\n";
    c << "dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n"
         "objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\n\n";
    c << "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {0}config\n"
      << "olcRootDN: " << kConfigDn << "\nolcRootPW: " << kConfigPw << "\n\n";
    c << "dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\n"
      << "olcDatabase: {1}mdb\nolcSuffix: " << kSuffix << "\nolcRootDN: " << kRootDn << "\nolcRootPW: " << kRootPw
      << "\nolcDbDirectory: " << path("db") << "\nolcDbMaxSize: 67108864\n";
    int i = 0;
    for (auto &l : opts_.acl) c << "olcAccess: {" << i++ << "}" << acl_to_olc(l) << "\n";
    c << "\n";
    int ovx = 0;
    auto stacked = [&](const std::vector<StackedOverlay> &list) {
        for (auto &ov : list) {
            const std::string rdn = "{" + std::to_string(ovx++) + "}" + ov.name;
            c << "dn: olcOverlay=" << rdn << ",olcDatabase={1}mdb,cn=config\nobjectClass: olcOverlayConfig\n"
              << "objectClass: " << ov.olc_class << "\nolcOverlay: " << rdn << "\n";
            for (auto &l : ov.olc) c << l << "\n";
            c << "\n";
        }
    };
    stacked(opts_.overlays_before);
    if (opts_.overlay) {
        c << "dn: " << overlay_dn() << "\nobjectClass: olcOverlayConfig\nobjectClass: olcDevicepwConfig\n"
          << "olcOverlay: {" << ovx++ << "}devicepw\n";
        if (opts_.keyfile_directive) c << "olcDevicepwKeyFile: " << keyfile() << "\n";
        for (auto &l : opts_.overlay_olc) c << l << "\n";
        c << "\n";
    }
    stacked(opts_.overlays_after);
    return c.str();
}

pid_t SlapdFixture::spawn(const std::vector<std::string> &argv, int out_fd) const {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        if (chdir(dir_.c_str()) != 0) _exit(126);
        auto av = make_argv(argv);
        execvp(av[0], av.data());
        _exit(127);
    }
    return pid;
}

ToolRun SlapdFixture::run_tool(const std::vector<std::string> &argv, int timeout_ms) {
    ToolRun out;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = spawn(argv, pfd[1]);
    close(pfd[1]);
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            out.timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        pollfd p{pfd[0], POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = ::read(pfd[0], buf, sizeof buf);
        if (n <= 0) break;
        out.output.append(buf, static_cast<size_t>(n));
    }
    close(pfd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    out.status = decode_status(st);
    return out;
}

ToolRun SlapdFixture::write_config() {
    write_file(path("slapd.conf"), slapd_conf_text(), 0600);
    std::error_code ec;
    switch (opts_.mode) {
    case ConfigMode::SlapdConf:
        return ToolRun{0, false, ""};
    case ConfigMode::CnConfig:
        fs::remove_all(path("slapd.d"), ec);
        fs::create_directory(path("slapd.d"));
    {
        // slaptest opens the databases read-only, and -u (dry run) writes no slapd.d:
        // create the (empty) mdb environment first.
        ToolRun init = run_tool(slapd_argv({kSlapadd, "-b", kSuffix, "-f", path("slapd.conf"), "-l", "/dev/null"}));
        if (init.status != 0) return init;
        return run_tool(slapd_argv({kSlaptest, "-f", path("slapd.conf"), "-F", path("slapd.d")}));
    }
    case ConfigMode::LdifConfig:
        fs::remove_all(path("slapd.d"), ec);
        fs::create_directory(path("slapd.d"));
        write_file(path("config.ldif"), ldif_config_text(), 0600);
        return run_tool(slapd_argv({kSlapadd, "-n0", "-F", path("slapd.d"), "-l", path("config.ldif")}));
    }
    return ToolRun{};
}

void SlapdFixture::start() {
    ToolRun conf = write_config();
    BOOST_REQUIRE_MESSAGE(conf.status == 0, "writing the slapd configuration failed (status " << conf.status
                                                << "):\n" << conf.output << "\nslapd.conf:\n" << slapd_conf_text());
    start_process(false, nullptr);
}

void SlapdFixture::restart() {
    stop();
    start_process(false, nullptr);
}

ToolRun SlapdFixture::start_expect_failure(bool config_written) {
    ToolRun out;
    if (!config_written) {
        ToolRun conf = write_config();
        if (conf.status != 0) return conf;  // refused already at conversion time
    }
    start_process(true, &out);
    return out;
}

void SlapdFixture::start_process(bool expect_failure, ToolRun *failure) {
    BOOST_REQUIRE_MESSAGE(pid_ < 0, "slapd already running");
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (attempt > 0) pick_port();
        size_t log_start = 0;
        {
            std::error_code ec;
            auto sz = fs::file_size(logfile(), ec);
            if (!ec) log_start = static_cast<size_t>(sz);
        }
        std::vector<std::string> argv = slapd_argv({kSlapd, "-d", opts_.loglevel, "-h", uri()});
        if (opts_.mode == ConfigMode::SlapdConf) {
            argv.insert(argv.end(), {"-f", path("slapd.conf")});
        } else {
            argv.insert(argv.end(), {"-F", path("slapd.d")});
        }
        int log_fd = ::open(logfile().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log_fd < 0) throw std::runtime_error("cannot open " + logfile());
        pid_t pid = spawn(argv, log_fd);
        close(log_fd);
        pid_ = pid;
        pidfd_ = open_pidfd(pid);

        auto deadline = Clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
        std::optional<int> exited;
        bool ready = false;
        while (Clock::now() < deadline) {
            exited = wait_exit(pid_, pidfd_, 0);
            if (exited) break;
            try {
                Conn c(uri());
                std::string id;
                if (c.whoami(id).rc == LDAP_SUCCESS) {
                    ready = true;
                    break;
                }
            } catch (...) {
            }
            // Bounded readiness poll: wake up early if the process exits.
            exited = wait_exit(pid_, pidfd_, 20);
            if (exited) break;
        }
        if (exited) {
            if (pidfd_ >= 0) close(pidfd_);
            pidfd_ = -1;
            pid_ = -1;
            std::string all = log();
            std::string this_run = log_start < all.size() ? all.substr(log_start) : std::string();
            if (!expect_failure && this_run.find("bind(") != std::string::npos &&
                this_run.find("failed errno=98") != std::string::npos) {
                continue;  // port taken between pick_port() and slapd's bind: try another
            }
            if (expect_failure) {
                failure->status = *exited;
                failure->output = this_run;
                return;
            }
            BOOST_FAIL("slapd exited during startup with status " << *exited << "; log tail:\n" << log_tail());
        }
        if (!ready) {
            stop();
            BOOST_FAIL("slapd did not answer within " << kStartTimeoutMs << " ms; log tail:\n" << log_tail());
        }
        if (expect_failure) {
            std::string tail = log_tail();
            stop();
            BOOST_FAIL("slapd started although it was expected to refuse; log tail:\n" << tail);
        }
        return;
    }
    BOOST_FAIL("could not find a free port for slapd; log tail:\n" << log_tail());
}

void SlapdFixture::stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    std::optional<int> st = wait_exit(pid_, pidfd_, kStopTimeoutMs);
    if (!st) {
        kill(pid_, SIGKILL);
        int s = 0;
        while (waitpid(pid_, &s, 0) < 0 && errno == EINTR) {
        }
    }
    if (pidfd_ >= 0) close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
}

void SlapdFixture::kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int s = 0;
    while (waitpid(pid_, &s, 0) < 0 && errno == EINTR) {
    }
    if (pidfd_ >= 0) close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
}

std::string SlapdFixture::overlay_dn() const {
    return "olcOverlay={" + std::to_string(opts_.overlays_before.size()) + "}devicepw,olcDatabase={1}mdb,cn=config";
}

bool SlapdFixture::alive() {
    if (pid_ <= 0) return false;
    std::optional<int> st = wait_exit(pid_, pidfd_, 0);
    if (!st) return true;
    last_exit_ = st;
    if (pidfd_ >= 0) close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
    return false;
}

bool SlapdFixture::exits_within(int timeout_ms) {
    if (pid_ <= 0) return true;
    std::optional<int> st = wait_exit(pid_, pidfd_, timeout_ms);
    if (!st) return false;
    last_exit_ = st;
    if (pidfd_ >= 0) close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
    return true;
}

std::string SlapdFixture::log() const { return read_file(logfile()); }

std::string SlapdFixture::log_tail(size_t bytes) const {
    std::string l = log();
    return l.size() > bytes ? l.substr(l.size() - bytes) : l;
}

std::unique_ptr<Conn> SlapdFixture::conn() { return std::make_unique<Conn>(uri()); }

std::unique_ptr<Conn> SlapdFixture::conn_as(const std::string &dn, const std::string &pw) {
    auto c = conn();
    Result r = c->bind(dn, pw);
    BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "bind as " << dn << " failed: " << r.rc << " (" << ldap_err2string(r.rc)
                                                           << ") " << r.diag);
    return c;
}

std::unique_ptr<Conn> SlapdFixture::root() { return conn_as(kRootDn, kRootPw); }
std::unique_ptr<Conn> SlapdFixture::config() { return conn_as(kConfigDn, kConfigPw); }

void SlapdFixture::load_demo_data() {
    auto c = root();
    auto must = [&](const std::string &dn, const AddAttrs &a) {
        Result r = c->add(dn, a);
        BOOST_REQUIRE_MESSAGE(r.rc == LDAP_SUCCESS, "demo data: adding " << dn << " failed: " << r.rc << " " << r.diag);
    };
    must(demo::base, {{"objectClass", {"dcObject", "organization"}}, {"dc", {"example"}}, {"o", {"Example"}}});
    must(demo::mailboxes, {{"objectClass", {"organizationalUnit"}}, {"ou", {"mailboxes"}}});
    must(demo::people, {{"objectClass", {"organizationalUnit"}}, {"ou", {"people"}}});
    must(demo::groups, {{"objectClass", {"organizationalUnit"}}, {"ou", {"groups"}}});
    for (auto [dn, uid] : {std::pair{demo::alice, "alice@example.com"}, std::pair{demo::frank, "frank@example.com"}}) {
        must(dn, {{"objectClass", {"inetOrgPerson", "devicepwMailbox"}},
                  {"uid", {uid}},
                  {"cn", {uid}},
                  {"sn", {"Mailbox"}},
                  {"mail", {uid}}});
    }
    for (auto [dn, uid, pw] : {std::tuple{demo::bob, "bob", demo::bobpw}, std::tuple{demo::carol, "carol", demo::carolpw},
                               std::tuple{demo::dave, "dave", demo::davepw}, std::tuple{demo::erin, "erin", demo::erinpw}}) {
        must(dn, {{"objectClass", {"inetOrgPerson"}}, {"uid", {uid}}, {"cn", {uid}}, {"sn", {"Person"}},
                  {"userPassword", {pw}}});
    }
    must(demo::devadmins, {{"objectClass", {"groupOfNames"}}, {"cn", {"devadmins"}}, {"member", {demo::dave}}});
}

std::string demo::device_dn(const std::string &id, const std::string &mailbox) { return "devicepwId=" + id + "," + mailbox; }

}  // namespace dpwtest
