// The attack matrix (test_attack.cc): devicepw stacked with stock overlays (syncprov,
// ppolicy, sssvlv) in both orders, under the README's recommended ACLs and under
// `access to * by * manage`, attacked with every control a client can send.
//
// This header holds the matrix's configurations, the shared slapd per configuration, and
// a raw libldap client that sends any control (Proxied Authorization, RFC 4527 read-entry,
// sync, sorting, VLV, paged results).
#ifndef DEVICEPW_IT_ATTACK_UTIL_H
#define DEVICEPW_IT_ATTACK_UTIL_H

#include "test_util.h"

#include <lber.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dpwtest::attack {

// ---- configurations -----------------------------------------------------------------------

// Where the stock overlays sit. slapd runs overlays in reverse order of configuration.
enum class Stack {
    // slapd.conf: overlay syncprov, ppolicy, sssvlv, then devicepw (devicepw runs first)
    StockThenDpw,
    // cn=config LDIF: overlay ppolicy, devicepw, then syncprov, sssvlv (syncprov and
    // sssvlv run before devicepw; ppolicy after it, as the README recommends)
    DpwThenStock,
};
enum class AclSet { Recommended, Manage };

std::string config_name(Stack s, AclSet a);
SlapdOptions attack_options(Stack s, AclSet a);

inline const std::string mallory = "uid=mallory,ou=people,dc=example,dc=com";
inline const std::string mallorypw = "mallorypw";
inline const std::string services = "ou=services,dc=example,dc=com";
inline const std::string dovecot = "cn=dovecot,ou=services,dc=example,dc=com";
inline const std::string dovecotpw = "dovecotpw";
inline const std::string secret_oid = "2.25.255856649164264369961457662193972977575.1.4";
inline const std::string lastused_oid = "2.25.255856649164264369961457662193972977575.1.8";

// ---- controls and raw operations -----------------------------------------------------------

struct CtrlFree {
    void operator()(LDAPControl *c) const { ldap_control_free(c); }
};
using CtrlPtr = std::unique_ptr<LDAPControl, CtrlFree>;

CtrlPtr proxy_authz(const std::string &dn);                                  // RFC 4370, critical
CtrlPtr read_entry(const char *oid, const std::vector<std::string> &attrs);  // RFC 4527 pre/post read
CtrlPtr sync_request(int mode, const std::optional<std::string> &cookie = std::nullopt);  // RFC 4533
CtrlPtr sort_request(LDAP *ld, const std::string &keys);                     // RFC 2891, critical
CtrlPtr vlv_request(LDAP *ld, int before, int after, const std::optional<std::string> &value, int offset = 1,
                    int count = 0);
CtrlPtr paged_request(LDAP *ld, int size, const std::string &cookie);

// A session: a bound connection, optionally acting as another identity (Proxied
// Authorization on every operation).
struct Session {
    std::string name;
    std::shared_ptr<Conn> conn;
    std::string as;  // "" = itself
};

struct Reply {
    Result res;
    std::vector<Entry> entries;
    std::map<std::string, std::string> ctrls;  // response controls: oid -> value
    std::optional<std::string> genpasswd;      // Password Modify
    bool timed_out = false;
};

struct SearchSpec {
    std::string base;
    int scope = LDAP_SCOPE_SUBTREE;
    std::string filter = "(objectClass=*)";
    std::vector<std::string> attrs;  // empty = all user attributes
    bool attrsonly = false;
    int sizelimit = 0;
    SearchSpec(std::string b, int sc = LDAP_SCOPE_SUBTREE, std::string f = "(objectClass=*)",
               std::vector<std::string> a = {}, bool only = false, int limit = 0)
        : base(std::move(b)), scope(sc), filter(std::move(f)), attrs(std::move(a)), attrsonly(only), sizelimit(limit) {}
};

// Every call sends the session's proxy control (if any) plus `extra`.
Reply search(Session &s, const SearchSpec &q, std::vector<CtrlPtr> extra = {});
Reply modify(Session &s, const std::string &dn, const std::vector<Mod> &mods, std::vector<CtrlPtr> extra = {});
Reply add(Session &s, const std::string &dn, const AddAttrs &attrs, std::vector<CtrlPtr> extra = {});
Reply del(Session &s, const std::string &dn, std::vector<CtrlPtr> extra = {});
Reply rename(Session &s, const std::string &dn, const std::string &newrdn, const std::string &new_superior = "",
             std::vector<CtrlPtr> extra = {});
Reply compare(Session &s, const std::string &dn, const std::string &attr, const std::string &value);
// Password Modify; user "" = the session's own identity (field absent).
Reply passwd(Session &s, const std::string &user, const std::optional<std::string> &newpw = std::nullopt);

// The entry of an RFC 4527 read-entry response control value.
std::optional<Entry> parse_read_entry(const std::string &value);
// The cookie of a sync done control value, or of a syncInfo intermediate value.
std::optional<std::string> sync_cookie(const std::string &value, bool intermediate);

// A persistent (refreshAndPersist) or refreshOnly sync search kept open on its connection.
class SyncSearch {
public:
    SyncSearch(Session s, const SearchSpec &q, int mode, const std::optional<std::string> &cookie = std::nullopt);
    ~SyncSearch();
    // Read what has arrived, waiting at most timeout_ms for each message, until pred() is
    // true or the deadline passes. Returns pred().
    template <class Pred>
    bool poll_until(int deadline_ms, Pred pred) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
        while (!pred()) {
            if (done_ || std::chrono::steady_clock::now() >= deadline) return pred();
            read_some(50);
        }
        return true;
    }
    void read_some(int timeout_ms);  // consumes at most the messages available within timeout_ms
    void abandon();
    bool refresh_done() const { return refresh_done_; }
    bool done() const { return done_; }
    int start_rc() const { return start_rc_; }
    const Result &result() const { return res_; }
    const std::vector<Entry> &entries() const { return entries_; }
    const std::optional<std::string> &cookie() const { return cookie_; }

private:
    Session s_;
    int msgid_ = -1;
    int start_rc_ = LDAP_SUCCESS;
    bool refresh_done_ = false, done_ = false, abandoned_ = false;
    Result res_;
    std::vector<Entry> entries_;
    std::optional<std::string> cookie_;
};

// ---- what counts as a leak -------------------------------------------------------------------

// Descriptions of every place a stored hash shows in the entries: an attribute named
// devicepwSecret (any option) or by its OID, or any value that looks like a stored hash.
std::vector<std::string> hash_leaks(const std::vector<Entry> &entries);
bool has_dn(const std::vector<Entry> &entries, const std::string &dn);

// ---- the shared directory ------------------------------------------------------------------

// One slapd per configuration, started on first use and shared by every case of the
// configuration (cases work on mailboxes of their own). Cast: the demo data; mallory,
// listed nowhere; dave, an administrator (cn=devadmins = devicepw-admin); bob and erin,
// people; cn=dovecot, the mail service account.
struct World {
    Stack stack;
    AclSet acls;
    SlapdFixture slapd;
    int serial = 0;

    World(Stack s, AclSet a);
    std::string name() const { return config_name(stack, acls); }

    // A new mailbox uid=<tag>-<n>@example.com with the given people.
    std::string new_mailbox(const std::string &tag, const std::vector<std::string> &people = {demo::bob});
    // bob adds device id to mailbox (he owns it); with a secret generated by him unless !secret.
    // Returns the secret ("" without).
    std::string bob_device(const std::string &id, const std::string &mailbox, bool secret = true,
                           const std::string &label = "zz phone");
    std::string stored_hash(const std::string &dn);

    Session root();
    Session bob();
    Session erin();
    Session mal();
    Session dave();  // administrator through cn=devadmins
    Session svc();   // the mail service
    Session device(const std::string &mailbox, const std::string &secret);  // bound with a device secret
    Session bob_as(const std::string &mailbox);                             // bob acting as the mailbox
    Session bind(const std::string &name, const std::string &dn, const std::string &pw);
};

// The shared World of a configuration; restarted (with a failed check) when its slapd died.
World &world(Stack s, AclSet a);

}  // namespace dpwtest::attack

// One test case per configuration: name_stock_then_dpw_recommended, ..._manage, and the same
// for dpw_then_stock. The body receives `World &w`.
#define ATTACK_CASE(name)                                                                             \
    static void name(::dpwtest::attack::World &w);                                                    \
    BOOST_AUTO_TEST_CASE(name##__stock_then_dpw__recommended) {                                      \
        name(::dpwtest::attack::world(::dpwtest::attack::Stack::StockThenDpw,                          \
                                      ::dpwtest::attack::AclSet::Recommended));                        \
    }                                                                                                 \
    BOOST_AUTO_TEST_CASE(name##__stock_then_dpw__manage) {                                           \
        name(::dpwtest::attack::world(::dpwtest::attack::Stack::StockThenDpw,                          \
                                      ::dpwtest::attack::AclSet::Manage));                             \
    }                                                                                                 \
    BOOST_AUTO_TEST_CASE(name##__dpw_then_stock__recommended) {                                      \
        name(::dpwtest::attack::world(::dpwtest::attack::Stack::DpwThenStock,                          \
                                      ::dpwtest::attack::AclSet::Recommended));                        \
    }                                                                                                 \
    BOOST_AUTO_TEST_CASE(name##__dpw_then_stock__manage) {                                           \
        name(::dpwtest::attack::world(::dpwtest::attack::Stack::DpwThenStock,                          \
                                      ::dpwtest::attack::AclSet::Manage));                             \
    }                                                                                                 \
    static void name(::dpwtest::attack::World &w)

// The same with a slapd of its own per configuration (for cases that may kill it).
#define ATTACK_CASE_OWN_SLAPD(name)                                                                   \
    static void name(::dpwtest::attack::World &w);                                                    \
    BOOST_AUTO_TEST_CASE(name##__stock_then_dpw__recommended) {                                      \
        ::dpwtest::attack::World w(::dpwtest::attack::Stack::StockThenDpw,                              \
                                   ::dpwtest::attack::AclSet::Recommended);                             \
        name(w);                                                                                      \
    }                                                                                                 \
    BOOST_AUTO_TEST_CASE(name##__stock_then_dpw__manage) {                                           \
        ::dpwtest::attack::World w(::dpwtest::attack::Stack::StockThenDpw, ::dpwtest::attack::AclSet::Manage); \
        name(w);                                                                                      \
    }                                                                                                 \
    BOOST_AUTO_TEST_CASE(name##__dpw_then_stock__recommended) {                                      \
        ::dpwtest::attack::World w(::dpwtest::attack::Stack::DpwThenStock,                              \
                                   ::dpwtest::attack::AclSet::Recommended);                             \
        name(w);                                                                                      \
    }                                                                                                 \
    BOOST_AUTO_TEST_CASE(name##__dpw_then_stock__manage) {                                           \
        ::dpwtest::attack::World w(::dpwtest::attack::Stack::DpwThenStock, ::dpwtest::attack::AclSet::Manage); \
        name(w);                                                                                      \
    }                                                                                                 \
    static void name(::dpwtest::attack::World &w)

#endif
