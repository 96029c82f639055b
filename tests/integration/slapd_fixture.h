// Integration-test fixture: a real slapd (Debian's /usr/sbin/slapd) on 127.0.0.1, on a
// free port, in its own temporary directory, with the devicepw overlay loaded from the
// module built in this tree. Plus a thin libldap client for the tests.
//
// Every SlapdFixture owns its directory and its slapd process: the destructor stops slapd
// and removes the directory, also when a test fails (BOOST_REQUIRE throws, the stack
// unwinds). The child is started with PR_SET_PDEATHSIG so that a crashing test process
// does not leave a slapd behind. Set DEVICEPW_IT_KEEP=1 to keep the directories.
#ifndef DEVICEPW_IT_SLAPD_FIXTURE_H
#define DEVICEPW_IT_SLAPD_FIXTURE_H

#include <ldap.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace dpwtest {

// Paths known at build time (set by tests/integration/CMakeLists.txt).
std::string module_path();   // absolute path of devicepw.so
std::string schema_dir();    // the tree's schema/ directory

// ---- LDAP client ------------------------------------------------------------------

struct Result {
    int rc = -1;
    std::string diag;     // diagnostic message (may be empty)
    std::string matched;  // matched DN
};

// attribute (lower case) -> values
using Attrs = std::map<std::string, std::vector<std::string>>;

struct Entry {
    std::string dn;
    Attrs attrs;
    bool has(const std::string &attr) const;
    // The single value of attr; fails the test when there is not exactly one.
    std::string one(const std::string &attr) const;
    std::vector<std::string> values(const std::string &attr) const;
};

// A search entry message as an Entry (attribute names lower-cased).
Entry entry_of(LDAP *ld, LDAPMessage *msg);

struct SearchResult {
    Result res;
    std::vector<Entry> entries;
    const Entry *find(const std::string &dn) const;  // case-insensitive DN match
};

struct Mod {
    int op;  // LDAP_MOD_ADD / LDAP_MOD_DELETE / LDAP_MOD_REPLACE
    std::string attr;
    std::vector<std::string> values;
};
Mod mod_add(std::string attr, std::vector<std::string> v);
Mod mod_replace(std::string attr, std::vector<std::string> v);
Mod mod_delete(std::string attr, std::vector<std::string> v = {});

using AddAttrs = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct PasswdResult {
    Result res;
    std::optional<std::string> genpasswd;  // the response's genPasswd, when present
};

// One LDAP connection (LDAPv3, ldap://127.0.0.1:port/). Every call is bounded in time.
class Conn {
public:
    explicit Conn(const std::string &uri);
    ~Conn();
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;

    LDAP *raw() const { return ld_; }

    Result bind(const std::string &dn, const std::string &pw);
    // ldap_whoami; on success authzid holds the answer ("dn:..." or "").
    Result whoami(std::string &authzid);
    std::string whoami();  // fails the test on error
    Result add(const std::string &dn, const AddAttrs &attrs);
    Result modify(const std::string &dn, const std::vector<Mod> &mods);
    Result del(const std::string &dn);
    Result rename(const std::string &dn, const std::string &newrdn,
                  const std::string &new_superior = "", bool delete_old = true);
    Result compare(const std::string &dn, const std::string &attr, const std::string &value);
    SearchResult search(const std::string &base, int scope, const std::string &filter,
                        const std::vector<std::string> &attrs = {});
    // Read one entry (base search, "*" and "+"); nullopt when it cannot be read.
    std::optional<Entry> read(const std::string &dn, const std::vector<std::string> &attrs = {"*", "+"});
    // RFC 3062 Password Modify. Empty optional = field absent.
    PasswdResult passwd(const std::string &user, const std::optional<std::string> &oldpw = std::nullopt,
                        const std::optional<std::string> &newpw = std::nullopt);

private:
    Result wait(int msgid, LDAPMessage **keep = nullptr);
    Result start_failed(int rc);
    LDAP *ld_ = nullptr;
};

// ---- slapd ------------------------------------------------------------------------

enum class ConfigMode {
    SlapdConf,   // slapd -f slapd.conf
    CnConfig,    // slaptest -f slapd.conf -F slapd.d, then slapd -F slapd.d
    LdifConfig,  // slapadd -n0 -F slapd.d from a cn=config LDIF that includes devicepw.ldif
};

// A stock overlay stacked on the mdb database around devicepw (loaded from /usr/lib/ldap).
struct StackedOverlay {
    std::string name;                     // module and overlay name: "syncprov"
    std::string olc_class;                // its cn=config objectClass: "olcSyncProvConfig"
    std::vector<std::string> directives;  // slapd.conf lines after "overlay <name>"
    std::vector<std::string> olc;         // the same as attributes of its cn=config entry
};
StackedOverlay syncprov_overlay();  // checkpoint 100 10, sessionlog 100
StackedOverlay ppolicy_overlay();   // no default policy (2.5 has the schema built in)
StackedOverlay sssvlv_overlay();    // server-side sorting, VLV, paged results inside a sort

struct SlapdOptions {
    ConfigMode mode = ConfigMode::SlapdConf;
    bool overlay = true;                   // load devicepw.so and put the overlay on the mdb db
    std::vector<std::string> overlay_directives;  // slapd.conf lines after "overlay devicepw"
    // olc attributes for the overlay entry in LdifConfig mode ("olcDevicepwMaxDevices: 3")
    std::vector<std::string> overlay_olc;
    // ACL lines for the mdb database ("access to * by * read"); empty = slapd's default
    std::vector<std::string> acl;
    // extra lines for the mdb database (before the overlay), e.g. "index objectClass eq"
    std::vector<std::string> db_directives;
    // global slapd.conf lines before the first database, e.g. "authz-policy from"
    std::vector<std::string> global_directives;
    // the same as attributes of cn=config in LdifConfig mode ("olcAuthzPolicy: from")
    std::vector<std::string> global_olc;
    std::string keyid = "k1";
    bool write_keyfile = true;             // write a fresh key file with one key
    bool keyfile_directive = true;         // emit devicepw-keyfile <path>
    std::string loglevel = "stats";
    bool db_rootdn = true;                 // give the mdb database its rootdn (slapd.conf mode)
    // Stock overlays on the same database, configured before (slapd runs them after
    // devicepw) and after (slapd runs them before devicepw) "overlay devicepw".
    std::vector<StackedOverlay> overlays_before;
    std::vector<StackedOverlay> overlays_after;
};

struct ToolRun {
    int status = -1;     // exit status (or 128+signal)
    bool timed_out = false;
    std::string output;  // stdout+stderr
};

class SlapdFixture {
public:
    static constexpr const char *kSuffix = "dc=example,dc=com";
    static constexpr const char *kRootDn = "cn=admin,dc=example,dc=com";
    static constexpr const char *kRootPw = "rootsecret";
    static constexpr const char *kConfigDn = "cn=config";
    static constexpr const char *kConfigPw = "configsecret";
    // The overlay's cn=config entry when no overlay is configured before it (see overlay_dn()).
    static constexpr const char *kOverlayDn = "olcOverlay={0}devicepw,olcDatabase={1}mdb,cn=config";

    // Creates the directory and key file; does not start slapd.
    explicit SlapdFixture(SlapdOptions opts = {});
    ~SlapdFixture();
    SlapdFixture(const SlapdFixture &) = delete;
    SlapdFixture &operator=(const SlapdFixture &) = delete;

    SlapdOptions &options() { return opts_; }
    const std::string &dir() const { return dir_; }
    std::string path(const std::string &name) const { return dir_ + "/" + name; }
    std::string keyfile() const { return path("devicepw.key"); }
    std::string logfile() const { return path("slapd.log"); }
    std::string uri() const;
    int port() const { return port_; }

    // Write the configuration (slapd.conf, and slapd.d in the cn=config modes).
    // Returns the tool run of slaptest/slapadd (status 0 for SlapdConf).
    ToolRun write_config();
    // write_config() + start slapd; fails the test (with the log tail) when slapd does
    // not answer an anonymous whoami within a bounded time.
    void start();
    // write_config() + start slapd expecting it to fail; returns its status and output.
    // Fails the test when slapd starts serving. Also usable on an existing slapd.d (when
    // config_written is true the config is not rewritten).
    ToolRun start_expect_failure(bool config_written = false);
    // Stop slapd (SIGTERM, bounded wait, then SIGKILL). Idempotent.
    void stop();
    // Start again with the existing configuration and database.
    void restart();
    // Kill slapd with SIGKILL (a crash: nothing is flushed) and reap it.
    void kill9();
    bool running() const { return pid_ > 0; }
    // Whether slapd is still alive: false (and the exit status in exit_status()) when the
    // process has exited or died on its own since it was started.
    bool alive();
    std::optional<int> exit_status() const { return last_exit_; }
    // Wait at most timeout_ms (on the process, not a sleep) for slapd to exit; false when it
    // is still running then.
    bool exits_within(int timeout_ms);
    // The devicepw overlay's cn=config entry: its index shifts with overlays_before.
    std::string overlay_dn() const;

    // Run a program (argv[0] absolute), bounded in time; output captured.
    ToolRun run_tool(const std::vector<std::string> &argv, int timeout_ms = 30000);

    // Key file helpers.
    static std::string key_line(const std::string &keyid);  // "<id> <64 hex>\n"
    void write_file(const std::string &path, const std::string &content, mode_t mode);

    std::string log() const;                       // the whole slapd log
    std::string log_tail(size_t bytes = 4000) const;

    // Connections.
    std::unique_ptr<Conn> conn();                                  // anonymous
    std::unique_ptr<Conn> conn_as(const std::string &dn, const std::string &pw);  // bind must succeed
    std::unique_ptr<Conn> root();                                  // rootdn of the mdb db
    std::unique_ptr<Conn> config();                                // rootdn of cn=config

    // Demo data: base, ou=mailboxes, ou=people, mailbox alice (no userPassword),
    // people bob, carol, dave, erin (each with password "<uid>pw"), group
    // cn=devadmins,ou=groups containing dave, group cn=readers containing erin.
    void load_demo_data();

    // The generated slapd.conf text (for tests that inspect it).
    std::string slapd_conf_text() const;
    std::string ldif_config_text() const;

private:
    void start_process(bool expect_failure, ToolRun *failure);
    // Fork and exec argv (PATH searched) in the fixture's directory, stdin from
    // /dev/null, stdout and stderr to out_fd; the child dies with the test process.
    pid_t spawn(const std::vector<std::string> &argv, int out_fd) const;
    void pick_port();

    SlapdOptions opts_;
    std::string dir_;
    int port_ = 0;
    pid_t pid_ = -1;
    int pidfd_ = -1;
    bool keep_ = false;
    std::optional<int> last_exit_;
};

// ---- demo names ---------------------------------------------------------------------

namespace demo {
inline const std::string base = "dc=example,dc=com";
inline const std::string mailboxes = "ou=mailboxes,dc=example,dc=com";
inline const std::string people = "ou=people,dc=example,dc=com";
inline const std::string groups = "ou=groups,dc=example,dc=com";
inline const std::string alice = "uid=alice@example.com,ou=mailboxes,dc=example,dc=com";
inline const std::string frank = "uid=frank@example.com,ou=mailboxes,dc=example,dc=com";
inline const std::string bob = "uid=bob,ou=people,dc=example,dc=com";      // plain person
inline const std::string carol = "uid=carol,ou=people,dc=example,dc=com";  // admin by DN (when configured)
inline const std::string dave = "uid=dave,ou=people,dc=example,dc=com";    // admin via group
inline const std::string erin = "uid=erin,ou=people,dc=example,dc=com";    // secret reader
inline const std::string devadmins = "cn=devadmins,ou=groups,dc=example,dc=com";
inline const std::string bobpw = "bobpw", carolpw = "carolpw", davepw = "davepw", erinpw = "erinpw";
std::string device_dn(const std::string &id, const std::string &mailbox = alice);
}  // namespace demo

// ---- helpers --------------------------------------------------------------------------

std::string lower(std::string s);
std::string upper(std::string s);
std::string strip_dashes(const std::string &s);
bool contains_ci(const std::string &hay, const std::string &needle);
// GeneralizedTime "YYYYMMDDHHMMSS[.f]Z" -> epoch seconds; nullopt when malformed.
std::optional<long long> parse_gentime(const std::string &s);
std::string format_gentime(long long epoch);
long long now_epoch();
// Whether s is "<id>-xxxx-xxxx-xxxx-xxxx" with the random part from the secret alphabet.
bool is_device_secret(const std::string &s, const std::string &id);

}  // namespace dpwtest

#endif
