// The tool's libldap client (ldap_client.h): connecting and binding as ldap-utils do,
// synchronous operations bounded in time, and the DN and filter helpers.
#include "ldap_client.h"

#include <sasl/sasl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace dpwtool {

namespace {

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A hint for the administrator, by result code.
std::string hint_for(int rc, const std::string &uri) {
    switch (rc) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
        return "is slapd running and reachable at " + (uri.empty() ? std::string("the configured URI") : uri) +
               "? Give the server with -H URI or URI in ldap.conf.";
    case LDAP_TIMEOUT:
        return "the server did not answer in time; check the network and the server's load.";
    case LDAP_INVALID_CREDENTIALS:
        return "check the bind DN (-D) and the password (-w, -W or -y FILE).";
    case LDAP_STRONG_AUTH_REQUIRED:
        return "bind first: -x -D DN -W (or -Y EXTERNAL -H ldapi:/// as root on the server).";
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_AUTH_METHOD_NOT_SUPPORTED:
        return "use a simple bind (-x -D DN -W) or a SASL mechanism the server offers (-Y MECH).";
    case LDAP_CONFIDENTIALITY_REQUIRED:
        return "the server wants an encrypted connection: use -ZZ (StartTLS) or an ldaps:// URI.";
    case LDAP_INSUFFICIENT_ACCESS:
        return "bind as an identity allowed to manage devices and users: the rootdn or a "
               "devicepw-admin (slapo-devicepw(5)); with the ACLs allowing it for other entries.";
    case LDAP_ADMINLIMIT_EXCEEDED:
        return "delete a device the mailbox no longer needs (revoked ones count too): "
               "devicepw device delete ADDRESS ID.";
    case LDAP_NOT_ALLOWED_ON_NONLEAF:
        return "the entry still has entries below it that are not devices; remove them first.";
    default:
        return "";
    }
}

int classify(int rc) {
    switch (rc) {
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_UNWILLING_TO_PERFORM:
    case LDAP_CONSTRAINT_VIOLATION:
    case LDAP_NAMING_VIOLATION:
    case LDAP_ADMINLIMIT_EXCEEDED:
    case LDAP_NOT_ALLOWED_ON_NONLEAF:
    case LDAP_NOT_ALLOWED_ON_RDN:
    case LDAP_OBJECT_CLASS_VIOLATION:
    case LDAP_ALREADY_EXISTS:
    case LDAP_TYPE_OR_VALUE_EXISTS:
    case LDAP_INVALID_SYNTAX:
    case LDAP_UNDEFINED_TYPE:
    case LDAP_NO_SUCH_ATTRIBUTE:
        return kExitRefused;
    case LDAP_NO_SUCH_OBJECT:
        return kExitNotFound;
    default:
        return kExitLdap;
    }
}

std::string read_password_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ToolError(kExitFailure, "cannot read the password file " + path + ": " + std::strerror(errno),
                        "-y FILE names a file that holds the bind password.");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string pw = ss.str();
    // Unlike ldap-utils, one trailing newline is not part of the password.
    if (!pw.empty() && pw.back() == '\n') pw.pop_back();
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    return pw;
}

// -W: read the password from the terminal without echo; without a terminal, one line
// from standard input.
std::string prompt_password(const std::string &binddn) {
    FILE *tty = std::fopen("/dev/tty", "r+");
    FILE *in = tty ? tty : stdin;
    termios old{};
    bool restore = false;
    if (tty) {
        std::fprintf(tty, "Enter LDAP password for %s: ", binddn.empty() ? "the bind DN" : binddn.c_str());
        std::fflush(tty);
        if (tcgetattr(fileno(tty), &old) == 0) {
            termios noecho = old;
            noecho.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            restore = tcsetattr(fileno(tty), TCSAFLUSH, &noecho) == 0;
        }
    }
    std::string pw;
    int c;
    while ((c = std::fgetc(in)) != EOF && c != '\n') pw.push_back(static_cast<char>(c));
    if (restore) tcsetattr(fileno(tty), TCSAFLUSH, &old);
    if (tty) {
        std::fputc('\n', tty);
        std::fclose(tty);
    }
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    return pw;
}

struct SaslDefaults {
    std::string mech, authcid, authzid, realm, passwd;
};

extern "C" int sasl_interact(LDAP *, unsigned, void *defaults, void *in) {
    auto *d = static_cast<SaslDefaults *>(defaults);
    for (auto *it = static_cast<sasl_interact_t *>(in); it->id != SASL_CB_LIST_END; ++it) {
        const std::string *v = nullptr;
        switch (it->id) {
        case SASL_CB_AUTHNAME: v = &d->authcid; break;
        case SASL_CB_USER: v = &d->authzid; break;
        case SASL_CB_GETREALM: v = &d->realm; break;
        case SASL_CB_PASS: v = &d->passwd; break;
        default: break;
        }
        if (v && !v->empty()) {
            it->result = v->c_str();
            it->len = static_cast<unsigned>(v->size());
        } else {
            it->result = it->defresult ? it->defresult : "";
            it->len = static_cast<unsigned>(std::strlen(static_cast<const char *>(it->result)));
        }
    }
    return LDAP_SUCCESS;
}

struct MsgFree {
    void operator()(LDAPMessage *m) const { ldap_msgfree(m); }
};
using MsgPtr = std::unique_ptr<LDAPMessage, MsgFree>;

}  // namespace

std::string describe_result(int rc, const std::string &diag) {
    std::string s = ldap_err2string(rc);
    s += " (" + std::to_string(rc) + ")";
    if (!diag.empty()) s += ": " + diag;
    return s;
}

LdapError::LdapError(const std::string &context, int rc_, const std::string &diag_, const std::string &uri,
                     int exit_code)
    : ToolError(exit_code >= 0 ? exit_code : classify(rc_), context + " failed: " + describe_result(rc_, diag_), hint_for(rc_, uri)),
      rc(rc_),
      diag(diag_) {}

bool is_unreachable(const LdapError &e) {
    return e.rc == LDAP_SERVER_DOWN || e.rc == LDAP_CONNECT_ERROR || e.rc == LDAP_TIMEOUT;
}

void resolve_password(ConnOptions &o) {
    if (o.password) return;
    if (o.password_file) o.password = read_password_file(*o.password_file);
    else if (o.prompt_password) o.password = prompt_password(o.binddn.value_or(""));
}

bool Entry::has(const std::string &a) const { return attrs.count(lower(a)) != 0; }

std::vector<std::string> Entry::values(const std::string &a) const {
    auto it = attrs.find(lower(a));
    return it == attrs.end() ? std::vector<std::string>{} : it->second;
}

std::optional<std::string> Entry::first(const std::string &a) const {
    auto it = attrs.find(lower(a));
    if (it == attrs.end() || it->second.empty()) return std::nullopt;
    return it->second.front();
}

Ldap::Ldap(const ConnOptions &o) : timeout_s_(o.timeout_s) {
    int rc = ldap_initialize(&ld_, o.uri ? o.uri->c_str() : nullptr);
    if (rc != LDAP_SUCCESS || !ld_)
        throw LdapError("opening " + (o.uri ? *o.uri : std::string("the LDAP URI from ldap.conf")), rc, "",
                        o.uri.value_or(""), kExitLdap);
    // ~Ldap does not run when the constructor throws: until it returns, a throw unbinds.
    struct UnbindOnThrow {
        LDAP *&ld;
        bool armed = true;
        ~UnbindOnThrow() {
            if (armed && ld) ldap_unbind_ext_s(ld, nullptr, nullptr);
            if (armed) ld = nullptr;
        }
    } guard{ld_};
    char *u = nullptr;
    if (ldap_get_option(ld_, LDAP_OPT_URI, &u) == LDAP_OPT_SUCCESS && u) {
        uri_ = u;
        ldap_memfree(u);
    }
    int version = LDAP_VERSION3;
    ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld_, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    // Bounded in time: keep ldap.conf's NETWORK_TIMEOUT when set, else 10 s.
    timeval *ntv = nullptr;
    if (ldap_get_option(ld_, LDAP_OPT_NETWORK_TIMEOUT, &ntv) != LDAP_OPT_SUCCESS || !ntv) {
        timeval tv{10, 0};
        ldap_set_option(ld_, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    } else {
        ldap_memfree(ntv);
    }
    timeval tv{timeout_s_, 0};
    ldap_set_option(ld_, LDAP_OPT_TIMEOUT, &tv);

    if (o.starttls > 0) {
        rc = ldap_start_tls_s(ld_, nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            if (o.starttls > 1) throw LdapError("StartTLS with " + uri_, rc, diagnostic(), uri_, kExitLdap);
            std::cerr << "devicepw: warning: StartTLS with " << uri_ << " failed ("
                      << describe_result(rc, diagnostic()) << "); continuing without it (use -ZZ to require it)\n";
        }
    }

    std::string pw;
    if (o.password) pw = *o.password;
    else if (o.password_file) pw = read_password_file(*o.password_file);
    else if (o.prompt_password) pw = prompt_password(o.binddn.value_or(""));

    char *confmech = nullptr;
    ldap_get_option(ld_, LDAP_OPT_X_SASL_MECH, &confmech);
    std::string mech = o.sasl_mech ? *o.sasl_mech : (confmech ? confmech : "");
    if (confmech) ldap_memfree(confmech);
    const bool have_simple_creds = o.binddn || o.password || o.password_file || o.prompt_password;
    const bool use_sasl = !o.simple && (o.sasl_mech || (!have_simple_creds && !mech.empty()));

    if (use_sasl) {
        SaslDefaults d{mech, o.sasl_authcid.value_or(""), o.sasl_authzid.value_or(""), o.sasl_realm.value_or(""), pw};
        rc = ldap_sasl_interactive_bind_s(ld_, nullptr, mech.empty() ? nullptr : mech.c_str(), nullptr, nullptr,
                                          LDAP_SASL_QUIET, sasl_interact, &d);
        sodium_memzero(d.passwd.data(), d.passwd.size());
        sodium_memzero(pw.data(), pw.size());
        if (rc != LDAP_SUCCESS)
            throw LdapError("SASL bind (" + (mech.empty() ? std::string("default mechanism") : mech) + ") to " + uri_,
                            rc, diagnostic(), uri_, kExitLdap);
    } else if (have_simple_creds) {
        berval cred{static_cast<ber_len_t>(pw.size()), pw.data()};
        const std::string dn = o.binddn.value_or("");
        rc = ldap_sasl_bind_s(ld_, dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
        sodium_memzero(pw.data(), pw.size());
        if (rc != LDAP_SUCCESS)
            throw LdapError("simple bind as \"" + dn + "\" to " + uri_, rc, diagnostic(), uri_, kExitLdap);
    }
    // else: anonymous, with no bind at all (the first operation connects).
    guard.armed = false;
}

Ldap::~Ldap() {
    if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

std::string Ldap::default_base() const {
    char *b = nullptr;
    std::string out;
    if (ldap_get_option(ld_, LDAP_OPT_DEFBASE, &b) == LDAP_OPT_SUCCESS && b) {
        out = b;
        ldap_memfree(b);
    }
    return out;
}

std::vector<std::string> Ldap::naming_contexts() {
    auto e = read("", {"namingContexts"}, "reading the root DSE's namingContexts");
    return e ? e->values("namingContexts") : std::vector<std::string>{};
}

std::string Ldap::diagnostic() {
    char *msg = nullptr;
    std::string out;
    if (ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS && msg) {
        out = msg;
        ldap_memfree(msg);
    }
    return out;
}

std::vector<Entry> Ldap::search(const std::string &base, int scope, const std::string &filter,
                                const std::vector<std::string> &attrs, const std::string &context) {
    std::vector<char *> av;
    for (const auto &a : attrs) av.push_back(const_cast<char *>(a.c_str()));
    av.push_back(nullptr);
    std::vector<Entry> out;
    berval *cookie = nullptr;
    bool paging = true;
    for (;;) {
        LDAPControl *page = nullptr;
        LDAPControl *ctrls[2] = {nullptr, nullptr};
        if (paging && ldap_create_page_control(ld_, 500, cookie, 0, &page) == LDAP_SUCCESS) ctrls[0] = page;
        ber_bvfree(cookie);
        cookie = nullptr;
        timeval tv{timeout_s_, 0};
        LDAPMessage *res = nullptr;
        int rc = ldap_search_ext_s(ld_, base.c_str(), scope, filter.c_str(), av.data(), 0, ctrls, nullptr, &tv,
                                   LDAP_NO_LIMIT, &res);
        if (page) ldap_control_free(page);
        MsgPtr hold(res);
        if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && !res) throw LdapError(context, rc, diagnostic(), uri_);
        for (LDAPMessage *e = ldap_first_entry(ld_, res); e; e = ldap_next_entry(ld_, e)) {
            Entry entry;
            char *dn = ldap_get_dn(ld_, e);
            if (dn) {
                entry.dn = dn;
                ldap_memfree(dn);
            }
            BerElement *ber = nullptr;
            for (char *a = ldap_first_attribute(ld_, e, &ber); a; a = ldap_next_attribute(ld_, e, ber)) {
                auto &vals = entry.attrs[lower(a)];
                if (berval **bv = ldap_get_values_len(ld_, e, a)) {
                    for (int i = 0; bv[i]; ++i) vals.emplace_back(bv[i]->bv_val, bv[i]->bv_len);
                    ldap_value_free_len(bv);
                }
                ldap_memfree(a);
            }
            if (ber) ber_free(ber, 0);
            out.push_back(std::move(entry));
        }
        int err = rc;
        char *diag = nullptr;
        LDAPControl **rctrls = nullptr;
        if (res) {
            LDAPMessage *r = ldap_first_message(ld_, res);
            while (r && ldap_msgtype(r) != LDAP_RES_SEARCH_RESULT) r = ldap_next_message(ld_, r);
            if (r) ldap_parse_result(ld_, r, &err, nullptr, &diag, nullptr, &rctrls, 0);
        }
        std::string d = diag ? diag : "";
        if (diag) ldap_memfree(diag);
        if (err == LDAP_UNAVAILABLE_CRITICAL_EXTENSION && paging) {
            // Cannot happen with a non-critical control, but be safe: retry unpaged.
            if (rctrls) ldap_controls_free(rctrls);
            paging = false;
            out.clear();
            continue;
        }
        if (err != LDAP_SUCCESS) {
            if (rctrls) ldap_controls_free(rctrls);
            throw LdapError(context, err, d, uri_);
        }
        LDAPControl *resp = rctrls ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, nullptr) : nullptr;
        ber_int_t count = 0;
        berval next{0, nullptr};
        if (resp && ldap_parse_pageresponse_control(ld_, resp, &count, &next) == LDAP_SUCCESS && next.bv_len > 0) {
            cookie = ber_bvdup(&next);
            ldap_memfree(next.bv_val);
        } else if (next.bv_val) {
            ldap_memfree(next.bv_val);
        }
        if (rctrls) ldap_controls_free(rctrls);
        if (!cookie) break;
    }
    return out;
}

std::optional<Entry> Ldap::read(const std::string &dn, const std::vector<std::string> &attrs,
                                const std::string &context) {
    try {
        auto v = search(dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, context);
        if (v.empty()) return std::nullopt;
        return v.front();
    } catch (const LdapError &e) {
        if (e.rc == LDAP_NO_SUCH_OBJECT) return std::nullopt;
        throw;
    }
}

namespace {

struct ModStore {
    std::vector<std::vector<berval>> vals;
    std::vector<std::vector<berval *>> ptrs;
    std::vector<LDAPMod> mods;
    std::vector<LDAPMod *> list;
    void add(int op, const std::string &attr, const std::vector<std::string> &values) {
        std::vector<berval> v;
        for (const auto &s : values) v.push_back(berval{static_cast<ber_len_t>(s.size()), const_cast<char *>(s.data())});
        vals.push_back(std::move(v));
        LDAPMod m{};
        m.mod_op = op | LDAP_MOD_BVALUES;
        m.mod_type = const_cast<char *>(attr.c_str());
        mods.push_back(m);
    }
    LDAPMod **finish() {
        ptrs.resize(vals.size());
        for (size_t i = 0; i < vals.size(); ++i) {
            for (auto &b : vals[i]) ptrs[i].push_back(&b);
            ptrs[i].push_back(nullptr);
            mods[i].mod_bvalues = vals[i].empty() ? nullptr : ptrs[i].data();
        }
        for (auto &m : mods) list.push_back(&m);
        list.push_back(nullptr);
        return list.data();
    }
};

bool tolerated_rc(int rc, const std::vector<int> &t) { return std::find(t.begin(), t.end(), rc) != t.end(); }

}  // namespace

int Ldap::add(const std::string &dn, const AddAttrs &attrs, const std::string &context, std::vector<int> tolerated) {
    ModStore s;
    for (const auto &[a, v] : attrs) s.add(LDAP_MOD_ADD, a, v);
    int rc = ldap_add_ext_s(ld_, dn.c_str(), s.finish(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS && !tolerated_rc(rc, tolerated)) throw LdapError(context, rc, diagnostic(), uri_);
    return rc;
}

int Ldap::modify(const std::string &dn, const std::vector<Mod> &mods, const std::string &context,
                 std::vector<int> tolerated) {
    ModStore s;
    for (const auto &m : mods) s.add(m.op, m.attr, m.values);
    int rc = ldap_modify_ext_s(ld_, dn.c_str(), s.finish(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS && !tolerated_rc(rc, tolerated)) throw LdapError(context, rc, diagnostic(), uri_);
    return rc;
}

int Ldap::del(const std::string &dn, const std::string &context, std::vector<int> tolerated) {
    int rc = ldap_delete_ext_s(ld_, dn.c_str(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS && !tolerated_rc(rc, tolerated)) throw LdapError(context, rc, diagnostic(), uri_);
    return rc;
}

std::string Ldap::passwd_generate(const std::string &dn, const std::string &context) {
    berval user{static_cast<ber_len_t>(dn.size()), const_cast<char *>(dn.data())};
    berval gen{0, nullptr};
    int rc = ldap_passwd_s(ld_, &user, nullptr, nullptr, &gen, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
        if (gen.bv_val) {
            sodium_memzero(gen.bv_val, gen.bv_len);
            ber_memfree(gen.bv_val);
        }
        throw LdapError(context, rc, diagnostic(), uri_);
    }
    if (!gen.bv_val || gen.bv_len == 0)
        throw ToolError(kExitLdap, context + " failed: the server returned no generated password",
                        "is the devicepw overlay loaded on the database that holds this mailbox?");
    std::string out(gen.bv_val, gen.bv_len);
    sodium_memzero(gen.bv_val, gen.bv_len);
    ber_memfree(gen.bv_val);
    return out;
}

std::string filter_escape(const std::string &value) {
    berval in{static_cast<ber_len_t>(value.size()), const_cast<char *>(value.data())};
    berval out{0, nullptr};
    if (ldap_bv2escaped_filter_value(&in, &out) != 0 || !out.bv_val) throw std::bad_alloc();
    std::string s(out.bv_val, out.bv_len);
    ber_memfree(out.bv_val);
    return s;
}

std::string make_rdn(const std::string &attr, const std::string &value) {
    LDAPAVA ava{};
    ava.la_attr = berval{static_cast<ber_len_t>(attr.size()), const_cast<char *>(attr.data())};
    ava.la_value = berval{static_cast<ber_len_t>(value.size()), const_cast<char *>(value.data())};
    ava.la_flags = LDAP_AVA_STRING;
    LDAPAVA *rdn[2] = {&ava, nullptr};
    char *str = nullptr;
    if (ldap_rdn2str(rdn, &str, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !str)
        throw UsageError("\"" + value + "\" cannot be used in a DN");
    std::string s = str;
    ldap_memfree(str);
    return s;
}

std::optional<std::string> first_rdn_value(const std::string &dn, const std::string &attr) {
    LDAPDN parsed = nullptr;
    if (ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS || !parsed) return std::nullopt;
    std::optional<std::string> out;
    if (parsed[0] && parsed[0][0]) {
        const LDAPAVA *a = parsed[0][0];
        if (lower(std::string(a->la_attr.bv_val, a->la_attr.bv_len)) == lower(attr))
            out = std::string(a->la_value.bv_val, a->la_value.bv_len);
    }
    ldap_dnfree(parsed);
    return out;
}

bool looks_like_dn(const std::string &s) {
    if (s.find('=') == std::string::npos) return false;
    LDAPDN parsed = nullptr;
    if (ldap_str2dn(s.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS) return false;
    const bool ok = parsed && parsed[0];
    ldap_dnfree(parsed);
    return ok;
}

bool same_dn(const std::string &a, const std::string &b) {
    auto norm = [](const std::string &s) {
        LDAPDN parsed = nullptr;
        if (ldap_str2dn(s.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS) return lower(s);
        char *str = nullptr;
        std::string out = lower(s);
        if (ldap_dn2str(parsed, &str, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && str) {
            out = lower(str);
            ldap_memfree(str);
        }
        ldap_dnfree(parsed);
        return out;
    };
    return norm(a) == norm(b);
}

}  // namespace dpwtool
