// The tool's libldap client: connection options as ldap-utils know them, one
// connection, synchronous operations bounded in time, errors with result code, text,
// the server's diagnostic message and a hint.
#ifndef DEVICEPW_TOOLS_LDAP_CLIENT_H
#define DEVICEPW_TOOLS_LDAP_CLIENT_H

#include <ldap.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"

namespace dpwtool {

// Connection options (-H -D -w -W -y -x -Y -U -X -R -Z/-ZZ). Everything not given comes
// from ldap.conf / .ldaprc / LDAP* environment variables as libldap reads them.
struct ConnOptions {
    std::optional<std::string> uri;        // -H
    std::optional<std::string> binddn;     // -D
    std::optional<std::string> password;   // -w, or read from -y / -W
    bool prompt_password = false;          // -W
    std::optional<std::string> password_file;  // -y
    bool simple = false;                   // -x
    std::optional<std::string> sasl_mech;  // -Y
    std::optional<std::string> sasl_authcid;  // -U
    std::optional<std::string> sasl_authzid;  // -X
    std::optional<std::string> sasl_realm;    // -R
    int starttls = 0;                      // -Z: 1 try, 2 require
    int timeout_s = 30;                    // per operation
};

// Reads the bind password now (-y FILE, or the -W prompt) into o.password, once, so that
// connections to several servers ask only once. Nothing to do with -w or without either.
void resolve_password(ConnOptions &o);

// An LDAP operation that failed. exit_code: kExitRefused for results that mean the
// server refused the change, kExitNotFound for noSuchObject, kExitLdap otherwise
// (always kExitLdap for connecting, StartTLS and binding).
struct LdapError : ToolError {
    LdapError(const std::string &context, int rc, const std::string &diag, const std::string &uri,
              int exit_code = -1);  // -1: by result code
    int rc;
    std::string diag;
};

// Whether e means that the server could not be reached (connect error, server down,
// timeout): what an anonymous connection reports at its first operation.
bool is_unreachable(const LdapError &e);

// "Insufficient access (50)" and, when the server sent one, ": <diagnostic>".
std::string describe_result(int rc, const std::string &diag);

struct Entry {
    std::string dn;
    std::map<std::string, std::vector<std::string>> attrs;  // attribute name in lower case
    bool has(const std::string &a) const;
    std::vector<std::string> values(const std::string &a) const;
    std::optional<std::string> first(const std::string &a) const;
};

using AddAttrs = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct Mod {
    int op;  // LDAP_MOD_ADD / LDAP_MOD_DELETE / LDAP_MOD_REPLACE
    std::string attr;
    std::vector<std::string> values;
};

class Ldap {
public:
    // Connects (and StartTLS, bind) as the options say; throws LdapError / ToolError.
    explicit Ldap(const ConnOptions &opts);
    ~Ldap();
    Ldap(const Ldap &) = delete;
    Ldap &operator=(const Ldap &) = delete;

    const std::string &uri() const { return uri_; }
    // The default search base from ldap.conf (BASE) or LDAPBASE; empty when none.
    std::string default_base() const;
    // The root DSE's namingContexts (the suffixes of the server's public databases).
    std::vector<std::string> naming_contexts();

    // Search with paging (RFC 2696) when the server supports it.
    std::vector<Entry> search(const std::string &base, int scope, const std::string &filter,
                              const std::vector<std::string> &attrs, const std::string &context);
    // Base read; nullopt on noSuchObject.
    std::optional<Entry> read(const std::string &dn, const std::vector<std::string> &attrs,
                              const std::string &context);
    // Each returns the result code when it is listed in tolerated, else throws on error.
    int add(const std::string &dn, const AddAttrs &attrs, const std::string &context,
            std::vector<int> tolerated = {});
    int modify(const std::string &dn, const std::vector<Mod> &mods, const std::string &context,
               std::vector<int> tolerated = {});
    int del(const std::string &dn, const std::string &context, std::vector<int> tolerated = {});
    // RFC 3062 Password Modify with no new password; returns the generated password.
    // The caller wipes it (sodium_memzero) when done.
    std::string passwd_generate(const std::string &dn, const std::string &context);

private:
    std::string diagnostic();
    LDAP *ld_ = nullptr;
    std::string uri_;
    int timeout_s_;
};

// RFC 4515 filter value escaping (libldap's ldap_bv2escaped_filter_value).
std::string filter_escape(const std::string &value);
// "attr=value" as an RFC 4514 RDN string (libldap's ldap_rdn2str).
std::string make_rdn(const std::string &attr, const std::string &value);
// The value of the first RDN of dn when its type is attr (case-insensitive); else nullopt.
std::optional<std::string> first_rdn_value(const std::string &dn, const std::string &attr);
// Whether s parses as a DN with at least one RDN.
bool looks_like_dn(const std::string &s);
// Case-insensitive comparison of two DNs after libldap's parsing (RFC 4514 forms).
bool same_dn(const std::string &a, const std::string &b);

}  // namespace dpwtool

#endif
