#include "attack_util.h"

#include <chrono>
#include <cstring>

namespace dpwtest::attack {

namespace {
constexpr int kOpTimeoutSec = 30;

struct BerFree {
    void operator()(BerElement *b) const { ber_free(b, 1); }
};
using BerPtr = std::unique_ptr<BerElement, BerFree>;

CtrlPtr make_ctrl(const char *oid, bool critical, BerElement *ber) {
    berval bv{};
    BOOST_REQUIRE(ber_flatten2(ber, &bv, 0) == 0);
    LDAPControl *c = nullptr;
    BOOST_REQUIRE(ldap_control_create(oid, critical ? 1 : 0, &bv, 1, &c) == LDAP_SUCCESS);
    return CtrlPtr(c);
}

// The server controls of one operation: the session's proxy control and the extras.
struct Ctrls {
    std::vector<CtrlPtr> own;
    std::vector<LDAPControl *> list;
    Ctrls(Session &s, std::vector<CtrlPtr> extra) {
        if (!s.as.empty()) own.push_back(proxy_authz(s.as));
        for (auto &c : extra) own.push_back(std::move(c));
        for (auto &c : own) list.push_back(c.get());
        list.push_back(nullptr);
    }
    LDAPControl **get() { return own.empty() ? nullptr : list.data(); }
};

Reply start_failed(LDAP *ld, int rc) {
    Reply r;
    r.res.rc = rc;
    char *msg = nullptr;
    if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS && msg) {
        r.res.diag = msg;
        ldap_memfree(msg);
    }
    return r;
}

void parse_final(LDAP *ld, LDAPMessage *m, Reply &out) {
    int err = -1;
    char *matched = nullptr, *diag = nullptr;
    LDAPControl **sctrls = nullptr;
    int prc = ldap_parse_result(ld, m, &err, &matched, &diag, nullptr, &sctrls, 0);
    out.res.rc = prc == LDAP_SUCCESS ? err : prc;
    if (matched) out.res.matched = matched, ldap_memfree(matched);
    if (diag) out.res.diag = diag, ldap_memfree(diag);
    if (sctrls) {
        for (int i = 0; sctrls[i]; ++i)
            out.ctrls[sctrls[i]->ldctl_oid] =
                std::string(sctrls[i]->ldctl_value.bv_val ? sctrls[i]->ldctl_value.bv_val : "",
                            sctrls[i]->ldctl_value.bv_len);
        ldap_controls_free(sctrls);
    }
}

// Collect every message of msgid up to its final result.
Reply collect(LDAP *ld, int msgid, bool is_passwd = false) {
    Reply out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kOpTimeoutSec);
    for (;;) {
        if (std::chrono::steady_clock::now() >= deadline) {
            out.timed_out = true;
            out.res.rc = LDAP_TIMEOUT;
            out.res.diag = "client timeout waiting for the result";
            ldap_abandon_ext(ld, msgid, nullptr, nullptr);
            return out;
        }
        timeval tv{1, 0};
        LDAPMessage *m = nullptr;
        int t = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &m);
        if (t == 0) continue;
        if (t < 0) {
            int err = LDAP_SERVER_DOWN;
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
            out.res.rc = err;
            out.res.diag = ldap_err2string(err);
            return out;
        }
        int type = ldap_msgtype(m);
        if (type == LDAP_RES_SEARCH_ENTRY) {
            out.entries.push_back(entry_of(ld, m));
            ldap_msgfree(m);
            continue;
        }
        if (type == LDAP_RES_SEARCH_REFERENCE || type == LDAP_RES_INTERMEDIATE) {
            ldap_msgfree(m);
            continue;
        }
        parse_final(ld, m, out);
        if (is_passwd && out.res.rc == LDAP_SUCCESS) {
            berval gen{};
            if (ldap_parse_passwd(ld, m, &gen) == LDAP_SUCCESS && gen.bv_val) {
                out.genpasswd = std::string(gen.bv_val, gen.bv_len);
                ber_memfree(gen.bv_val);
            }
        }
        ldap_msgfree(m);
        return out;
    }
}

struct ModList {
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
        for (auto &v : values) bv.push_back(berval{v.size(), const_cast<char *>(v.data())});
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

// ---- configurations -------------------------------------------------------------------------

std::string config_name(Stack s, AclSet a) {
    std::string n = s == Stack::StockThenDpw ? "syncprov,ppolicy,sssvlv then devicepw (slapd.conf)"
                                             : "ppolicy, devicepw, then syncprov,sssvlv (cn=config)";
    return n + (a == AclSet::Recommended ? ", recommended ACLs" : ", access to * by * manage");
}

SlapdOptions attack_options(Stack s, AclSet a) {
    SlapdOptions o;
    o.acl = a == AclSet::Recommended ? recommended_acls() : std::vector<std::string>{"access to * by * manage"};
    o.global_directives = {"authz-policy from", "attributeoptions x- lang-"};
    o.global_olc = {"olcAuthzPolicy: from", "olcAttributeOptions: x- lang-"};
    o.db_directives = {"index objectClass eq", "index devicepwUser eq", "index devicepwOwner eq",
                       "index entryCSN,entryUUID eq"};
    o.overlay_directives = {"devicepw-admin " + demo::devadmins};
    o.overlay_olc = {"olcDevicepwAdmin: " + demo::devadmins};
    if (s == Stack::StockThenDpw) {
        o.mode = ConfigMode::SlapdConf;
        o.overlays_before = {syncprov_overlay(), ppolicy_overlay(), sssvlv_overlay()};
    } else {
        o.mode = ConfigMode::LdifConfig;
        o.overlays_before = {ppolicy_overlay()};
        o.overlays_after = {syncprov_overlay(), sssvlv_overlay()};
    }
    return o;
}

// ---- controls -----------------------------------------------------------------------------

CtrlPtr proxy_authz(const std::string &dn) {
    std::string v = "dn:" + dn;
    berval bv{v.size(), v.data()};
    LDAPControl *c = nullptr;
    BOOST_REQUIRE(ldap_control_create(LDAP_CONTROL_PROXY_AUTHZ, 1, &bv, 1, &c) == LDAP_SUCCESS);
    return CtrlPtr(c);
}

CtrlPtr read_entry(const char *oid, const std::vector<std::string> &attrs) {
    BerPtr ber(ber_alloc_t(LBER_USE_DER));
    BOOST_REQUIRE(ber_printf(ber.get(), "{") != -1);
    for (auto &a : attrs) BOOST_REQUIRE(ber_printf(ber.get(), "s", a.c_str()) != -1);
    BOOST_REQUIRE(ber_printf(ber.get(), "}") != -1);
    return make_ctrl(oid, true, ber.get());
}

CtrlPtr sync_request(int mode, const std::optional<std::string> &cookie) {
    BerPtr ber(ber_alloc_t(LBER_USE_DER));
    BOOST_REQUIRE(ber_printf(ber.get(), "{e", static_cast<ber_int_t>(mode)) != -1);
    if (cookie) {
        berval bv{cookie->size(), const_cast<char *>(cookie->data())};
        BOOST_REQUIRE(ber_printf(ber.get(), "O", &bv) != -1);
    }
    BOOST_REQUIRE(ber_printf(ber.get(), "}") != -1);
    return make_ctrl(LDAP_CONTROL_SYNC, true, ber.get());
}

CtrlPtr sort_request(LDAP *ld, const std::string &keys) {
    LDAPSortKey **kl = nullptr;
    BOOST_REQUIRE(ldap_create_sort_keylist(&kl, const_cast<char *>(keys.c_str())) == LDAP_SUCCESS);
    LDAPControl *c = nullptr;
    int rc = ldap_create_sort_control(ld, kl, 1, &c);
    ldap_free_sort_keylist(kl);
    BOOST_REQUIRE(rc == LDAP_SUCCESS);
    return CtrlPtr(c);
}

CtrlPtr vlv_request(LDAP *ld, int before, int after, const std::optional<std::string> &value, int offset, int count) {
    LDAPVLVInfo info{};
    info.ldvlv_version = 1;
    info.ldvlv_before_count = before;
    info.ldvlv_after_count = after;
    berval v{};
    if (value) {
        v = berval{value->size(), const_cast<char *>(value->data())};
        info.ldvlv_attrvalue = &v;
    } else {
        info.ldvlv_offset = offset;
        info.ldvlv_count = count;
    }
    LDAPControl *c = nullptr;
    BOOST_REQUIRE(ldap_create_vlv_control(ld, &info, &c) == LDAP_SUCCESS);
    return CtrlPtr(c);
}

CtrlPtr paged_request(LDAP *ld, int size, const std::string &cookie) {
    berval ck{cookie.size(), const_cast<char *>(cookie.data())};
    LDAPControl *c = nullptr;
    BOOST_REQUIRE(ldap_create_page_control(ld, size, &ck, 1, &c) == LDAP_SUCCESS);
    return CtrlPtr(c);
}

// ---- operations ---------------------------------------------------------------------------

Reply search(Session &s, const SearchSpec &q, std::vector<CtrlPtr> extra) {
    LDAP *ld = s.conn->raw();
    Ctrls ctrls(s, std::move(extra));
    std::vector<char *> av;
    for (auto &a : q.attrs) av.push_back(const_cast<char *>(a.c_str()));
    av.push_back(nullptr);
    timeval tv{kOpTimeoutSec, 0};
    int msgid = -1;
    int rc = ldap_search_ext(ld, q.base.c_str(), q.scope, q.filter.c_str(), q.attrs.empty() ? nullptr : av.data(),
                             q.attrsonly ? 1 : 0, ctrls.get(), nullptr, &tv, q.sizelimit, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(ld, rc);
    return collect(ld, msgid);
}

Reply modify(Session &s, const std::string &dn, const std::vector<Mod> &mods, std::vector<CtrlPtr> extra) {
    LDAP *ld = s.conn->raw();
    Ctrls ctrls(s, std::move(extra));
    ModList b;
    b.mods.reserve(mods.size());
    for (auto &m : mods) b.add(m.op, m.attr, m.values);
    int msgid = -1;
    int rc = ldap_modify_ext(ld, dn.c_str(), b.finish(), ctrls.get(), nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(ld, rc);
    return collect(ld, msgid);
}

Reply add(Session &s, const std::string &dn, const AddAttrs &attrs, std::vector<CtrlPtr> extra) {
    LDAP *ld = s.conn->raw();
    Ctrls ctrls(s, std::move(extra));
    ModList b;
    b.mods.reserve(attrs.size());
    for (auto &[a, v] : attrs) b.add(LDAP_MOD_ADD, a, v);
    int msgid = -1;
    int rc = ldap_add_ext(ld, dn.c_str(), b.finish(), ctrls.get(), nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(ld, rc);
    return collect(ld, msgid);
}

Reply del(Session &s, const std::string &dn, std::vector<CtrlPtr> extra) {
    LDAP *ld = s.conn->raw();
    Ctrls ctrls(s, std::move(extra));
    int msgid = -1;
    int rc = ldap_delete_ext(ld, dn.c_str(), ctrls.get(), nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(ld, rc);
    return collect(ld, msgid);
}

Reply rename(Session &s, const std::string &dn, const std::string &newrdn, const std::string &new_superior,
             std::vector<CtrlPtr> extra) {
    LDAP *ld = s.conn->raw();
    Ctrls ctrls(s, std::move(extra));
    int msgid = -1;
    int rc = ldap_rename(ld, dn.c_str(), newrdn.c_str(), new_superior.empty() ? nullptr : new_superior.c_str(), 1,
                         ctrls.get(), nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(ld, rc);
    return collect(ld, msgid);
}

Reply compare(Session &s, const std::string &dn, const std::string &attr, const std::string &value) {
    LDAP *ld = s.conn->raw();
    Ctrls ctrls(s, {});
    berval bv{value.size(), const_cast<char *>(value.data())};
    int msgid = -1;
    int rc = ldap_compare_ext(ld, dn.c_str(), attr.c_str(), &bv, ctrls.get(), nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(ld, rc);
    return collect(ld, msgid);
}

Reply passwd(Session &s, const std::string &user, const std::optional<std::string> &newpw) {
    LDAP *ld = s.conn->raw();
    Ctrls ctrls(s, {});
    berval u{user.size(), const_cast<char *>(user.data())};
    berval n{};
    if (newpw) n = berval{newpw->size(), const_cast<char *>(newpw->data())};
    int msgid = -1;
    int rc = ldap_passwd(ld, user.empty() ? nullptr : &u, nullptr, newpw ? &n : nullptr, ctrls.get(), nullptr, &msgid);
    if (rc != LDAP_SUCCESS) return start_failed(ld, rc);
    return collect(ld, msgid, true);
}

std::optional<Entry> parse_read_entry(const std::string &value) {
    berval in{value.size(), const_cast<char *>(value.data())};
    BerPtr ber(ber_init(&in));
    if (!ber) return std::nullopt;
    berval dn{};
    if (ber_scanf(ber.get(), "{m{" /*}}*/, &dn) == LBER_ERROR) return std::nullopt;
    Entry e;
    e.dn.assign(dn.bv_val, dn.bv_len);
    ber_len_t len = 0;
    while (ber_peek_tag(ber.get(), &len) == LBER_SEQUENCE) {
        berval type{};
        BerVarray vals = nullptr;
        if (ber_scanf(ber.get(), "{m[W]}", &type, &vals) == LBER_ERROR) break;
        auto &dst = e.attrs[lower(std::string(type.bv_val, type.bv_len))];
        for (int i = 0; vals && vals[i].bv_val; ++i) dst.emplace_back(vals[i].bv_val, vals[i].bv_len);
        if (vals) ber_bvarray_free(vals);
    }
    return e;
}

std::optional<std::string> sync_cookie(const std::string &value, bool intermediate) {
    berval in{value.size(), const_cast<char *>(value.data())};
    BerPtr ber(ber_init(&in));
    if (!ber) return std::nullopt;
    ber_len_t len = 0;
    ber_tag_t tag = ber_peek_tag(ber.get(), &len);
    berval ck{};
    if (intermediate) {
        if (tag == LDAP_TAG_SYNC_NEW_COOKIE) {
            if (ber_scanf(ber.get(), "m", &ck) == LBER_ERROR) return std::nullopt;
            return std::string(ck.bv_val, ck.bv_len);
        }
        if (tag != LDAP_TAG_SYNC_REFRESH_DELETE && tag != LDAP_TAG_SYNC_REFRESH_PRESENT) return std::nullopt;
    }
    if (ber_scanf(ber.get(), "{" /*}*/) == LBER_ERROR) return std::nullopt;
    if (ber_peek_tag(ber.get(), &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber.get(), "m", &ck) != LBER_ERROR)
        return std::string(ck.bv_val, ck.bv_len);
    return std::nullopt;
}

// ---- sync searches ------------------------------------------------------------------------

SyncSearch::SyncSearch(Session s, const SearchSpec &q, int mode, const std::optional<std::string> &cookie)
    : s_(std::move(s)) {
    std::vector<CtrlPtr> extra;
    extra.push_back(sync_request(mode, cookie));
    Ctrls ctrls(s_, std::move(extra));
    std::vector<char *> av;
    for (auto &a : q.attrs) av.push_back(const_cast<char *>(a.c_str()));
    av.push_back(nullptr);
    start_rc_ = ldap_search_ext(s_.conn->raw(), q.base.c_str(), q.scope, q.filter.c_str(),
                                q.attrs.empty() ? nullptr : av.data(), 0, ctrls.get(), nullptr, nullptr, 0, &msgid_);
    if (start_rc_ != LDAP_SUCCESS) done_ = true;
}

SyncSearch::~SyncSearch() {
    if (!done_ && !abandoned_) abandon();
}

void SyncSearch::abandon() {
    if (done_ || abandoned_) return;
    ldap_abandon_ext(s_.conn->raw(), msgid_, nullptr, nullptr);
    abandoned_ = true;
    done_ = true;
}

void SyncSearch::read_some(int timeout_ms) {
    if (done_) return;
    LDAP *ld = s_.conn->raw();
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    for (;;) {
        LDAPMessage *m = nullptr;
        int t = ldap_result(ld, msgid_, LDAP_MSG_ONE, &tv, &m);
        if (t == 0) return;
        if (t < 0) {
            int err = LDAP_SERVER_DOWN;
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
            res_.rc = err;
            res_.diag = "connection lost";
            done_ = true;
            return;
        }
        int type = ldap_msgtype(m);
        if (type == LDAP_RES_SEARCH_ENTRY) {
            entries_.push_back(entry_of(ld, m));
        } else if (type == LDAP_RES_INTERMEDIATE) {
            char *oid = nullptr;
            berval *data = nullptr;
            if (ldap_parse_intermediate(ld, m, &oid, &data, nullptr, 0) == LDAP_SUCCESS) {
                if (oid && std::strcmp(oid, LDAP_SYNC_INFO) == 0 && data) {
                    auto ck = sync_cookie(std::string(data->bv_val, data->bv_len), true);
                    if (ck) cookie_ = ck;
                    // refreshPresent / refreshDelete end the refresh phase (refreshDone
                    // defaults to TRUE); a bare new cookie does not
                    berval in{data->bv_len, data->bv_val};
                    BerElement *b = ber_init(&in);
                    ber_len_t len = 0;
                    ber_tag_t tag = b ? ber_peek_tag(b, &len) : LBER_ERROR;
                    if (b) ber_free(b, 1);
                    if (tag == LDAP_TAG_SYNC_REFRESH_DELETE || tag == LDAP_TAG_SYNC_REFRESH_PRESENT)
                        refresh_done_ = true;
                }
            }
            if (oid) ldap_memfree(oid);
            if (data) ber_bvfree(data);
        } else if (type == LDAP_RES_SEARCH_RESULT) {
            Reply r;
            parse_final(ld, m, r);
            res_ = r.res;
            auto it = r.ctrls.find(LDAP_CONTROL_SYNC_DONE);
            if (it != r.ctrls.end()) {
                auto ck = sync_cookie(it->second, false);
                if (ck) cookie_ = ck;
            }
            refresh_done_ = true;
            done_ = true;
            ldap_msgfree(m);
            return;
        }
        ldap_msgfree(m);
        tv = timeval{0, 0};  // drain what is already there, then return
    }
}

// ---- leaks ------------------------------------------------------------------------------------

std::vector<std::string> hash_leaks(const std::vector<Entry> &entries) {
    std::vector<std::string> out;
    for (auto &e : entries) {
        for (auto &[name, vals] : e.attrs) {
            if (name.rfind("devicepwsecret", 0) == 0 || name.rfind(secret_oid, 0) == 0)
                out.push_back(e.dn + ": attribute " + name + (vals.empty() ? "" : " = " + vals[0]));
            for (auto &v : vals)
                if (v.find("dpw1$") != std::string::npos) out.push_back(e.dn + ": " + name + " = " + v);
        }
    }
    return out;
}

bool has_dn(const std::vector<Entry> &entries, const std::string &dn) {
    for (auto &e : entries)
        if (lower(e.dn) == lower(dn)) return true;
    return false;
}

// ---- the shared directory ----------------------------------------------------------------------

World::World(Stack s, AclSet a) : stack(s), acls(a), slapd(attack_options(s, a)) {
    slapd.start();
    slapd.load_demo_data();
    Session r = root();
    auto must = [&](Reply rep, const std::string &what) {
        BOOST_REQUIRE_MESSAGE(rep.res.rc == LDAP_SUCCESS, what << ": " << rep.res.rc << " " << rep.res.diag);
    };
    must(add(r, mallory, {{"objectClass", {"inetOrgPerson"}}, {"uid", {"mallory"}}, {"cn", {"mallory"}},
                          {"sn", {"Person"}}, {"userPassword", {mallorypw}}}),
         "adding mallory");
    must(add(r, services, {{"objectClass", {"organizationalUnit"}}, {"ou", {"services"}}}), "adding ou=services");
    must(add(r, dovecot, {{"objectClass", {"applicationProcess", "simpleSecurityObject"}}, {"cn", {"dovecot"}},
                          {"userPassword", {dovecotpw}}}),
         "adding cn=dovecot");
}

std::string World::new_mailbox(const std::string &tag, const std::vector<std::string> &people) {
    const std::string uid = tag + "-" + std::to_string(++serial) + "@example.com";
    const std::string dn = "uid=" + uid + "," + demo::mailboxes;
    AddAttrs a = {{"objectClass", {"inetOrgPerson", "devicepwMailbox"}},
                  {"uid", {uid}},
                  {"cn", {uid}},
                  {"sn", {"Mailbox"}},
                  {"mail", {uid}}};
    if (!people.empty()) a.push_back({"devicepwUser", people});
    Session r = root();
    Reply rep = add(r, dn, a);
    BOOST_REQUIRE_MESSAGE(rep.res.rc == LDAP_SUCCESS, "adding mailbox " << dn << ": " << rep.res.rc << " " << rep.res.diag);
    return dn;
}

std::string World::bob_device(const std::string &id, const std::string &mailbox, bool secret, const std::string &label) {
    Session b = bob();
    const std::string dn = demo::device_dn(id, mailbox);
    Reply rep = add(b, dn, {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}});
    BOOST_REQUIRE_MESSAGE(rep.res.rc == LDAP_SUCCESS, "bob adding " << dn << ": " << rep.res.rc << " " << rep.res.diag);
    if (!secret) return "";
    Reply p = passwd(b, dn);
    BOOST_REQUIRE_MESSAGE(p.res.rc == LDAP_SUCCESS && p.genpasswd && is_device_secret(*p.genpasswd, id),
                          "bob generating the secret of " << dn << ": " << p.res.rc << " " << p.res.diag);
    return *p.genpasswd;
}

std::string World::stored_hash(const std::string &dn) {
    auto e = slapd.root()->read(dn, {"devicepwSecret"});
    BOOST_REQUIRE_MESSAGE(e.has_value(), "cannot read " << dn << " as the rootdn");
    auto v = e->values("devicepwSecret");
    BOOST_REQUIRE_MESSAGE(v.size() == 1 && v[0].rfind("dpw1$", 0) == 0, "no stored hash on " << dn);
    return v[0];
}

Session World::bind(const std::string &name, const std::string &dn, const std::string &pw) {
    return Session{name, std::shared_ptr<Conn>(slapd.conn_as(dn, pw)), ""};
}
Session World::root() { return bind("the rootdn", SlapdFixture::kRootDn, SlapdFixture::kRootPw); }
Session World::bob() { return bind("bob (a person of the mailbox)", demo::bob, demo::bobpw); }
Session World::erin() { return bind("erin", demo::erin, demo::erinpw); }
Session World::mal() { return bind("mallory (listed nowhere)", mallory, mallorypw); }
Session World::dave() { return bind("dave (devicepw-admin group)", demo::dave, demo::davepw); }
Session World::svc() { return bind("cn=dovecot (mail service)", dovecot, dovecotpw); }
Session World::device(const std::string &mailbox, const std::string &secret) {
    return bind("the mailbox bound with a device secret", mailbox, secret);
}
Session World::bob_as(const std::string &mailbox) {
    Session s = bind("bob acting as the mailbox (proxied authorization)", demo::bob, demo::bobpw);
    s.as = mailbox;
    return s;
}

World &world(Stack s, AclSet a) {
    static std::map<std::pair<int, int>, std::unique_ptr<World>> worlds;
    auto key = std::pair{static_cast<int>(s), static_cast<int>(a)};
    auto &w = worlds[key];
    if (w && !w->slapd.alive()) {
        BOOST_ERROR("slapd of configuration [" << w->name() << "] died during an earlier case (status "
                                               << w->slapd.exit_status().value_or(-1) << "); starting a new one. Log tail:\n"
                                               << w->slapd.log_tail(3000));
        w.reset();
    }
    if (!w) w = std::make_unique<World>(s, a);
    BOOST_TEST_MESSAGE("configuration: " << w->name());
    return *w;
}

}  // namespace dpwtest::attack
