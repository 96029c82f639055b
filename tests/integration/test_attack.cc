// The attack matrix of the security issue "devicepw was tested alone": devicepw stacked
// with syncprov, ppolicy and sssvlv in both overlay orders, under the README's recommended
// ACLs and under `access to * by * manage`, and every control a client can send.
//
//   attack/leak   every way a stored hash (devicepwSecret) could leave the server to someone
//                 who is not a secret reader: attribute lists, every filter choice (incl.
//                 attribute-less extensible matches), compare, RFC 4527 pre/post-read, sync
//                 refresh and persist, sorting, VLV and paged results
//   attack/exist  every way someone who may not see a mailbox's devices could learn that a
//                 device exists: each operation on a device DN and below it, matchedDN, size
//                 limits, hasSubordinates
//   attack/mint   what a session bound with a device secret, or a person acting as the mailbox,
//                 must never do (mint a device, a secret or a mailbox userPassword); what
//                 administrators and the mailbox's own primary password keep; protected
//                 attributes with options and by OID; labels; moves below a device
//   attack/crash  unprivileged persistent sync searches from the suffix, mixed with subtree
//                 searches and the rootdn's writes, must not kill slapd
//
// Each case runs in four configurations (see attack_util.h); the leak, exist and mint cases
// share one slapd per configuration and work on mailboxes of their own. Every row is checked
// with BOOST_TEST_CONTEXT naming the row and the session, so that a failure says which
// attempt got through.
#include "attack_util.h"

#include <algorithm>
#include <functional>
#include <set>

using namespace dpwtest;
using namespace dpwtest::attack;

namespace {

std::string describe(const Reply &r) {
    std::ostringstream o;
    o << r.res.rc << " (" << ldap_err2string(r.res.rc) << ")";
    if (!r.res.diag.empty()) o << " \"" << r.res.diag << "\"";
    if (!r.res.matched.empty()) o << " matched \"" << r.res.matched << "\"";
    return o.str();
}

std::string join_leaks(const std::vector<std::string> &l) {
    std::string s;
    for (auto &x : l) s += "\n    " + x;
    return s;
}

#define CHECK_NO_LEAK(entries, what)                                                            \
    do {                                                                                        \
        auto _l = hash_leaks(entries);                                                          \
        BOOST_CHECK_MESSAGE(_l.empty(), what << ": the stored hash left the server:" << join_leaks(_l)); \
    } while (0)

#define CHECK_REPLY(reply, expected, what)                                                          \
    do {                                                                                            \
        const Reply &_r = (reply);                                                                  \
        BOOST_CHECK_MESSAGE(_r.res.rc == (expected), what << ": got " << describe(_r) << ", expected " \
                                                          << (expected) << " (" << ldap_err2string(expected) << ")"); \
    } while (0)

// The sessions that may see a mailbox's devices but are not secret readers.
std::vector<Session> device_viewers(World &w, const std::string &mb, const std::string &secret) {
    std::vector<Session> v;
    v.push_back(w.bob());
    v.push_back(w.dave());
    v.push_back(w.device(mb, secret));
    v.push_back(w.bob_as(mb));
    return v;
}

// The sessions that may not see a mailbox's devices.
std::vector<Session> outsiders(World &w) {
    std::vector<Session> v;
    v.push_back(w.mal());
    v.push_back(w.svc());
    v.push_back(w.erin());  // a person, but of other mailboxes
    return v;
}

std::string hex_bump(const std::string &h) {  // another stored hash of the same shape
    std::string s = h;
    s.back() = s.back() == '0' ? '1' : '0';
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(attack)

// =============================================================================================
BOOST_AUTO_TEST_SUITE(leak)

// Attribute lists: `*`, `+`, `1.1`, the name, its OID, with options, attrsonly; on the device,
// one level and subtree below the mailbox, subtree from the suffix, and paged.
ATTACK_CASE(attribute_lists_never_return_a_stored_hash) {
    const std::string mb = w.new_mailbox("attrs");
    const std::string s1 = w.bob_device("x1", mb);
    const std::string dev = demo::device_dn("x1", mb);
    {  // the detector works: the rootdn reads the hash
        auto root = w.root();
        Reply r = search(root, {dev, LDAP_SCOPE_BASE, "(objectClass=*)", {"devicepwSecret"}});
        BOOST_REQUIRE_MESSAGE(!hash_leaks(r.entries).empty(), "the rootdn does not see the stored hash: " << describe(r));
    }
    const std::vector<std::vector<std::string>> lists = {
        {},      {"*"},          {"+"},        {"*", "+"},
        {"1.1"}, {"devicepwSecret"}, {"DEVICEPWSECRET"}, {secret_oid},
        {"devicepwSecret;x-foo"}, {"devicepwSecret;lang-xx"}, {"devicepwSecret;binary"},
        {"objectClass", "devicepwSecret", "+"}, {"@devicepwDevice"},
    };
    struct Base {
        std::string what, dn;
        int scope;
    };
    const std::vector<Base> bases = {{"base on the device", dev, LDAP_SCOPE_BASE},
                                     {"one level below the mailbox", mb, LDAP_SCOPE_ONELEVEL},
                                     {"subtree of the mailbox", mb, LDAP_SCOPE_SUBTREE},
                                     {"subtree of the suffix", demo::base, LDAP_SCOPE_SUBTREE}};
    for (auto &s : device_viewers(w, mb, s1)) {
        for (auto &b : bases) {
            for (auto &l : lists) {
                for (bool only : {false, true}) {
                    std::string what = s.name + ", " + b.what + ", attrs {";
                    for (auto &a : l) what += a + " ";
                    what += only ? "} attrsonly" : "}";
                    Reply r = search(s, {b.dn, b.scope, "(objectClass=*)", l, only});
                    CHECK_NO_LEAK(r.entries, what);
                }
            }
        }
        // paged results, one entry per page, over the whole subtree
        std::string cookie;
        std::vector<Entry> all;
        for (int page = 0; page < 50; ++page) {
            std::vector<CtrlPtr> c;
            c.push_back(paged_request(s.conn->raw(), 1, cookie));
            Reply r = search(s, {mb, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"*", "+", "devicepwSecret"}}, std::move(c));
            all.insert(all.end(), r.entries.begin(), r.entries.end());
            auto it = r.ctrls.find(LDAP_CONTROL_PAGEDRESULTS);
            if (r.res.rc != LDAP_SUCCESS || it == r.ctrls.end()) break;
            LDAPControl ctl{const_cast<char *>(LDAP_CONTROL_PAGEDRESULTS), {it->second.size(), it->second.data()}, 0};
            ber_int_t count = 0;
            berval ck{};
            if (ldap_parse_pageresponse_control(s.conn->raw(), &ctl, &count, &ck) != LDAP_SUCCESS) break;
            cookie.assign(ck.bv_val ? ck.bv_val : "", ck.bv_len);
            if (ck.bv_val) ber_memfree(ck.bv_val);
            if (cookie.empty()) break;
        }
        BOOST_CHECK_MESSAGE(has_dn(all, dev), s.name << ": the paged search did not return the device");
        CHECK_NO_LEAK(all, s.name + ", paged results");
    }
}

// Every filter choice on the stored hash. A filter leaks when its answer tells two devices
// apart by their stored hash (or by having one): equality, ordering, approx, substrings,
// presence, NOT, extensible matches with the attribute, by OID, and without any attribute
// (which match every attribute whose syntax the rule fits: an ordering oracle).
ATTACK_CASE(no_filter_choice_tests_a_stored_hash) {
    const std::string mb = w.new_mailbox("filters");
    const std::string s1 = w.bob_device("x1", mb);
    w.bob_device("x2", mb);
    w.bob_device("x0", mb, false);  // no secret yet
    const std::string d1 = demo::device_dn("x1", mb), d2 = demo::device_dn("x2", mb), d0 = demo::device_dn("x0", mb);
    const std::string h1 = w.stored_hash(d1), h2 = w.stored_hash(d2);
    const bool one_low = h1 < h2;
    const std::string hmin = one_low ? h1 : h2, hmax = one_low ? h2 : h1;
    const std::string dmin = one_low ? d1 : d2, dmax = one_low ? d2 : d1;
    struct Row {
        std::string what, filter, a, b;  // leaks when the result holds exactly one of a and b
    };
    const std::string o = secret_oid;
    const std::vector<Row> rows = {
        {"equality", "(devicepwSecret=" + hmin + ")", dmin, dmax},
        {"equality, other case", "(DevicePwSecret=" + hmin + ")", dmin, dmax},
        {"equality by OID", "(" + o + "=" + hmin + ")", dmin, dmax},
        {"equality with option ;lang-xx", "(devicepwSecret;lang-xx=" + hmin + ")", dmin, dmax},
        {"equality with option ;x-foo", "(devicepwSecret;x-foo=" + hmin + ")", dmin, dmax},
        {"greater or equal", "(devicepwSecret>=" + hmax + ")", dmin, dmax},
        {"less or equal", "(devicepwSecret<=" + hmin + ")", dmin, dmax},
        {"less or equal by OID", "(" + o + "<=" + hmin + ")", dmin, dmax},
        {"approx", "(devicepwSecret~=" + hmin + ")", dmin, dmax},
        {"substrings initial", "(devicepwSecret=" + hmin.substr(0, 20) + "*)", dmin, dmax},
        {"substrings final", "(devicepwSecret=*" + hmin.substr(hmin.size() - 12) + ")", dmin, dmax},
        {"presence", "(devicepwSecret=*)", d1, d0},
        {"presence by OID", "(" + o + "=*)", d1, d0},
        {"NOT presence", "(!(devicepwSecret=*))", d1, d0},
        {"NOT equality", "(!(devicepwSecret=" + hmin + "))", dmin, dmax},
        {"NOT greater or equal", "(!(devicepwSecret>=" + hmax + "))", dmin, dmax},
        {"OR with equality", "(|(devicepwId=nosuch)(devicepwSecret=" + hmin + "))", dmin, dmax},
        {"extensible, attribute, octetStringMatch", "(devicepwSecret:octetStringMatch:=" + hmin + ")", dmin, dmax},
        {"extensible, attribute, octetStringOrderingMatch", "(devicepwSecret:octetStringOrderingMatch:=" + hmax + ")",
         dmin, dmax},
        {"extensible, OID, octetStringOrderingMatch", "(" + o + ":octetStringOrderingMatch:=" + hmax + ")", dmin, dmax},
        {"extensible, attribute with option", "(devicepwSecret;x-foo:octetStringMatch:=" + hmin + ")", dmin, dmax},
        {"extensible, no attribute, octetStringMatch", "(:octetStringMatch:=" + hmin + ")", dmin, dmax},
        {"extensible, no attribute, octetStringOrderingMatch", "(:octetStringOrderingMatch:=" + hmax + ")", dmin, dmax},
        {"extensible, no attribute, caseExactOrderingMatch", "(:caseExactOrderingMatch:=" + hmax + ")", dmin, dmax},
        {"extensible, no attribute, caseIgnoreOrderingMatch", "(:caseIgnoreOrderingMatch:=" + hmax + ")", dmin, dmax},
        {"extensible, no attribute, caseExactMatch", "(:caseExactMatch:=" + hmin + ")", dmin, dmax},
        {"extensible, no attribute, caseIgnoreIA5Match", "(:caseIgnoreIA5Match:=" + hmin + ")", dmin, dmax},
        {"extensible, no attribute, by rule OID 2.5.13.18 (octetStringOrderingMatch)",
         "(:2.5.13.18:=" + hmax + ")", dmin, dmax},
        {"extensible, no attribute, with :dn:", "(:dn:octetStringOrderingMatch:=" + hmax + ")", dmin, dmax},
        {"NOT extensible, no attribute", "(!(:octetStringOrderingMatch:=" + hmax + "))", dmin, dmax},
        {"OR with extensible, no attribute", "(|(devicepwId=nosuch)(:octetStringMatch:=" + hmin + "))", dmin, dmax},
    };
    struct Base {
        std::string what, dn;
        int scope;
    };
    const std::vector<Base> bases = {{"one level below the mailbox", mb, LDAP_SCOPE_ONELEVEL},
                                     {"subtree of the suffix", demo::base, LDAP_SCOPE_SUBTREE}};
    auto separates = [&](Session &s, const Base &b, const Row &r, Reply *out) {
        Reply rep = search(s, {b.dn, b.scope, "(&(objectClass=devicepwDevice)" + r.filter + ")", {"1.1"}});
        if (out) *out = rep;
        return has_dn(rep.entries, r.a) != has_dn(rep.entries, r.b);
    };
    {  // the detector works: for the rootdn the hash is a value like any other
        auto root = w.root();
        BOOST_REQUIRE_MESSAGE(separates(root, bases[0], rows[0], nullptr), "the rootdn's equality filter on the hash "
                                                                           "does not find the device");
        Reply r;
        bool sep = separates(root, bases[0], rows[22], &r);
        BOOST_TEST_MESSAGE("rootdn, attribute-less octetStringOrderingMatch tells the devices apart: " << sep);
    }
    for (auto &s : device_viewers(w, mb, s1)) {
        for (auto &b : bases) {
            for (auto &r : rows) {
                Reply rep;
                bool sep = separates(s, b, r, &rep);
                BOOST_CHECK_MESSAGE(!sep, s.name << ", " << b.what << ", " << r.what << " " << r.filter
                                                 << ": tells the devices apart by their stored hash (result "
                                                 << describe(rep) << ", " << rep.entries.size() << " entries)");
            }
        }
    }
}

// Compare: the attribute by name, other case, OID and with options; the right and a wrong
// hash give the same answer, and never compareTrue/compareFalse.
ATTACK_CASE(compare_never_tests_a_stored_hash) {
    const std::string mb = w.new_mailbox("compare");
    const std::string s1 = w.bob_device("x1", mb);
    const std::string dev = demo::device_dn("x1", mb);
    const std::string h = w.stored_hash(dev);
    {
        auto root = w.root();
        BOOST_REQUIRE_MESSAGE(compare(root, dev, "devicepwSecret", h).res.rc == LDAP_COMPARE_TRUE,
                              "the rootdn's compare of the hash is not compareTrue");
    }
    auto sessions = device_viewers(w, mb, s1);
    for (auto &o : outsiders(w)) sessions.push_back(o);
    for (auto &s : sessions) {
        for (const std::string &attr : std::vector<std::string>{"devicepwSecret", "DEVICEPWSECRET", secret_oid,
                                                                "devicepwSecret;x-foo", "devicepwSecret;lang-xx"}) {
            Reply right = compare(s, dev, attr, h), wrong = compare(s, dev, attr, hex_bump(h));
            BOOST_CHECK_MESSAGE(right.res.rc != LDAP_COMPARE_TRUE && right.res.rc != LDAP_COMPARE_FALSE &&
                                    right.res.rc == wrong.res.rc && right.res.diag == wrong.res.diag,
                                s.name << ", compare " << attr << ": right hash " << describe(right) << " / wrong hash "
                                       << describe(wrong));
        }
    }
}

// RFC 4527 read-entry controls on the writes the sessions may make: a person's label change
// and revocation of their own device, an administrator's label change and delete.
ATTACK_CASE(read_entry_controls_never_return_a_stored_hash) {
    const std::string mb = w.new_mailbox("readentry");
    const std::vector<std::vector<std::string>> lists = {
        {"*"}, {"devicepwSecret"}, {secret_oid}, {"*", "+"}, {"devicepwSecret;x-foo"}};
    int n = 0;
    {  // the detector works: the rootdn's pre-read returns the hash
        w.bob_device("r0", mb);
        auto root = w.root();
        std::vector<CtrlPtr> c;
        c.push_back(read_entry(LDAP_CONTROL_PRE_READ, {"devicepwSecret"}));
        Reply r = modify(root, demo::device_dn("r0", mb), {mod_replace("devicepwLabel", {"zz root"})}, std::move(c));
        auto it = r.ctrls.find(LDAP_CONTROL_PRE_READ);
        BOOST_REQUIRE_MESSAGE(r.res.rc == LDAP_SUCCESS && it != r.ctrls.end(), "rootdn pre-read: " << describe(r));
        auto e = parse_read_entry(it->second);
        BOOST_REQUIRE(e.has_value());
        BOOST_REQUIRE_MESSAGE(!hash_leaks({*e}).empty(), "the rootdn's pre-read shows no hash");
    }
    for (const char *oid : {LDAP_CONTROL_PRE_READ, LDAP_CONTROL_POST_READ}) {
        const std::string kind = std::string(oid) == LDAP_CONTROL_PRE_READ ? "pre-read" : "post-read";
        for (auto &l : lists) {
            std::string attrs;
            for (auto &a : l) attrs += a + " ";
            struct Attempt {
                std::string what;
                std::function<Reply(std::vector<CtrlPtr>)> op;
            };
            const std::string id = "r" + std::to_string(++n);
            const std::string dev = demo::device_dn(id, mb);
            w.bob_device(id, mb);
            Session bob = w.bob(), dave = w.dave();
            const std::vector<Attempt> attempts = {
                {"bob changes his device's label",
                 [&](std::vector<CtrlPtr> c) { return modify(bob, dev, {mod_replace("devicepwLabel", {"zz relabelled"})}, std::move(c)); }},
                {"dave (admin) changes the label",
                 [&](std::vector<CtrlPtr> c) { return modify(dave, dev, {mod_replace("devicepwLabel", {"zz admin"})}, std::move(c)); }},
                {"bob revokes his device",
                 [&](std::vector<CtrlPtr> c) { return modify(bob, dev, {mod_replace("devicepwRevoked", {"TRUE"})}, std::move(c)); }},
                {"dave (admin) deletes the device", [&](std::vector<CtrlPtr> c) { return del(dave, dev, std::move(c)); }},
            };
            for (auto &a : attempts) {
                // RFC 4527: no post-read on a delete (slapd answers 12 for a critical one)
                if (kind == "post-read" && a.what.find("deletes") != std::string::npos) continue;
                std::vector<CtrlPtr> c;
                c.push_back(read_entry(oid, l));
                Reply r = a.op(std::move(c));
                const std::string what = a.what + " with " + kind + " {" + attrs + "}";
                // the write goes through, or the control is refused; never the hash
                BOOST_CHECK_MESSAGE(r.res.rc == LDAP_SUCCESS || r.res.rc == LDAP_UNWILLING_TO_PERFORM ||
                                        r.res.rc == LDAP_INSUFFICIENT_ACCESS ||
                                        r.res.rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION,
                                    what << ": " << describe(r));
                auto it = r.ctrls.find(oid);
                if (it == r.ctrls.end()) continue;
                auto e = parse_read_entry(it->second);
                BOOST_CHECK_MESSAGE(e.has_value(), what << ": unparsable read-entry control");
                if (e) CHECK_NO_LEAK(std::vector<Entry>{*e}, what);
            }
        }
    }
}

// Sync searches (RFC 4533) of the people who see the devices: refreshOnly, refreshOnly with
// a cookie after changes, refreshAndPersist with changes made while it is open.
ATTACK_CASE(sync_searches_never_return_a_stored_hash) {
    const std::string mb = w.new_mailbox("sync");
    const std::string s1 = w.bob_device("x1", mb);
    w.bob_device("x2", mb);
    const std::string d1 = demo::device_dn("x1", mb), d2 = demo::device_dn("x2", mb);
    const SearchSpec q{mb, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"*", "+"}};
    {  // the detector works: the rootdn's refresh carries the hashes
        SyncSearch rs(w.root(), q, LDAP_SYNC_REFRESH_ONLY);
        rs.poll_until(10000, [&] { return rs.done(); });
        BOOST_REQUIRE_MESSAGE(rs.done() && rs.result().rc == LDAP_SUCCESS,
                              "the rootdn's refreshOnly did not complete: " << rs.result().rc);
        BOOST_REQUIRE_MESSAGE(!hash_leaks(rs.entries()).empty(), "the rootdn's refresh shows no hash");
    }
    int round = 0;
    for (auto &s : device_viewers(w, mb, s1)) {
        ++round;
        BOOST_TEST_CONTEXT(s.name) {
            // Sync searches may also be refused to non-secret-readers (a refusal sends nothing).
            auto refused = [](const SyncSearch &x) {
                const int rc = x.result().rc;
                return x.done() && (rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_INSUFFICIENT_ACCESS ||
                                    rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION);
            };
            SyncSearch ro(s, q, LDAP_SYNC_REFRESH_ONLY);
            ro.poll_until(10000, [&] { return ro.done(); });
            CHECK_NO_LEAK(ro.entries(), s.name + ", refreshOnly");
            if (refused(ro)) {
                BOOST_TEST_MESSAGE(s.name << ": refreshOnly refused: " << ro.result().rc << " " << ro.result().diag);
            } else {
                BOOST_CHECK_MESSAGE(ro.done() && ro.result().rc == LDAP_SUCCESS,
                                    "refreshOnly: " << ro.result().rc << " " << ro.result().diag);
                BOOST_CHECK_MESSAGE(has_dn(ro.entries(), d1), "refreshOnly did not return the device");
            }

            SyncSearch ps(s, q, LDAP_SYNC_REFRESH_AND_PERSIST);
            ps.poll_until(10000, [&] { return ps.refresh_done(); });
            CHECK_NO_LEAK(ps.entries(), s.name + ", refreshAndPersist, refresh phase");
            if (refused(ps)) {
                BOOST_TEST_MESSAGE(s.name << ": refreshAndPersist refused: " << ps.result().rc);
                continue;
            }
            BOOST_CHECK_MESSAGE(ps.refresh_done() && !ps.done(),
                                "refreshAndPersist: no end of the refresh phase (" << ps.result().rc << ")");
            const size_t before = ps.entries().size();
            // changes while it persists: a new label (rootdn), a rotation (bob), a new device
            Session root = w.root(), bob = w.bob();
            REQUIRE_RC(modify(root, d1, {mod_replace("devicepwLabel", {"zz round " + std::to_string(round)})}).res,
                       LDAP_SUCCESS);
            BOOST_REQUIRE(passwd(bob, d2).res.rc == LDAP_SUCCESS);
            w.bob_device("p" + std::to_string(round), mb);
            auto seen = [&](const std::string &dn) {
                for (size_t i = before; i < ps.entries().size(); ++i)
                    if (lower(ps.entries()[i].dn) == lower(dn)) return true;
                return false;
            };
            const std::string dp = demo::device_dn("p" + std::to_string(round), mb);
            BOOST_CHECK_MESSAGE(ps.poll_until(10000, [&] { return seen(d1) && seen(d2) && seen(dp); }),
                                "refreshAndPersist: the changed devices did not arrive (" << ps.entries().size() - before
                                                                                         << " entries)");
            CHECK_NO_LEAK(ps.entries(), s.name + ", refreshAndPersist, persist phase");
            ps.abandon();

            // refreshOnly from the first refresh's cookie: only what changed since
            if (refused(ro)) {
                // nothing to resume
            } else if (ro.cookie()) {
                SyncSearch again(s, q, LDAP_SYNC_REFRESH_ONLY, ro.cookie());
                again.poll_until(10000, [&] { return again.done(); });
                BOOST_CHECK_MESSAGE(again.done() && again.result().rc == LDAP_SUCCESS,
                                    "refreshOnly with a cookie: " << again.result().rc << " " << again.result().diag);
                CHECK_NO_LEAK(again.entries(), s.name + ", refreshOnly with a cookie");
            } else {
                BOOST_ERROR(s.name << ": refreshOnly returned no cookie");
            }
        }
    }
}

// Server-side sorting (RFC 2891) and VLV on the stored hash order the devices by their
// hash; paged results carry filters and attributes like any search.
ATTACK_CASE(sorting_vlv_and_paging_never_order_by_a_stored_hash) {
    const std::string mb = w.new_mailbox("sort");
    std::vector<std::pair<std::string, std::string>> by_hash;  // (hash, dn)
    std::string s1;
    for (const char *id : {"x1", "x2", "x3", "x4"}) {
        const std::string sec = w.bob_device(id, mb);
        if (s1.empty()) s1 = sec;
        const std::string dn = demo::device_dn(id, mb);
        by_hash.push_back({w.stored_hash(dn), lower(dn)});
    }
    std::sort(by_hash.begin(), by_hash.end());
    std::vector<std::string> hash_order, reverse_order;
    for (auto &p : by_hash) hash_order.push_back(p.second);
    reverse_order.assign(hash_order.rbegin(), hash_order.rend());
    const SearchSpec q{mb, LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)", {"devicepwId"}};
    auto sorted = [&](Session &s, const std::string &keys, Reply *out) {
        std::vector<CtrlPtr> c;
        c.push_back(sort_request(s.conn->raw(), keys));
        Reply r = search(s, q, std::move(c));
        std::vector<std::string> dns;
        for (auto &e : r.entries) dns.push_back(lower(e.dn));
        if (out) *out = r;
        return dns;
    };
    // by the hash, forwards and backwards: leaks when both follow the hashes
    auto sort_leaks = [&](Session &s, const std::string &key, std::string *detail) {
        Reply f, b;
        auto fwd = sorted(s, key, &f), rev = sorted(s, "-" + key, &b);
        *detail = "forwards " + describe(f) + ", backwards " + describe(b);
        return f.res.rc == LDAP_SUCCESS && b.res.rc == LDAP_SUCCESS && fwd == hash_order && rev == reverse_order;
    };
    auto vlv_target = [&](Session &s, const std::string &key, const std::string &value, Reply *out) {
        std::vector<CtrlPtr> c;
        c.push_back(sort_request(s.conn->raw(), key));
        c.push_back(vlv_request(s.conn->raw(), 0, 0, value));
        Reply r = search(s, q, std::move(c));
        if (out) *out = r;
        return r.entries.size() == 1 ? lower(r.entries[0].dn) : std::string();
    };
    const std::vector<std::string> keys = {"devicepwSecret:octetStringOrderingMatch", "devicepwSecret",
                                           secret_oid + ":octetStringOrderingMatch",
                                           "devicepwSecret:caseExactOrderingMatch"};
    {
        auto root = w.root();
        std::string detail;
        BOOST_TEST_MESSAGE("rootdn sorting by the hash follows the hashes: " << sort_leaks(root, keys[0], &detail) << " ("
                                                                             << detail << ")");
    }
    for (auto &s : device_viewers(w, mb, s1)) {
        for (auto &k : keys) {
            std::string detail;
            BOOST_CHECK_MESSAGE(!sort_leaks(s, k, &detail),
                                s.name << ", server-side sort by " << k << " orders the devices by their stored hash ("
                                       << detail << ")");
            Reply lo, hi;
            const std::string tlo = vlv_target(s, k, by_hash.front().first, &lo);
            const std::string thi = vlv_target(s, k, by_hash.back().first, &hi);
            BOOST_CHECK_MESSAGE(!(tlo == hash_order.front() && thi == hash_order.back()),
                                s.name << ", VLV by value on " << k << " finds devices by their stored hash (lowest: "
                                       << describe(lo) << ", highest: " << describe(hi) << ")");
        }
        // paged results with a filter on the hash
        std::vector<CtrlPtr> c;
        c.push_back(paged_request(s.conn->raw(), 1, ""));
        Reply r = search(s, {mb, LDAP_SCOPE_ONELEVEL, "(devicepwSecret>=" + by_hash.back().first + ")", {"1.1"}},
                         std::move(c));
        BOOST_CHECK_MESSAGE(!has_dn(r.entries, by_hash.back().second),
                            s.name << ", paged results with (devicepwSecret>=...) finds the device by its hash");
    }
}

BOOST_AUTO_TEST_SUITE_END()  // leak

// =============================================================================================
BOOST_AUTO_TEST_SUITE(exist)

// Someone who may not see a mailbox's devices gets the same answer for an existing and a
// missing device, for every operation on the device DN and below it: insufficientAccess
// (50) on the device DN, the same refusal below it, the same matchedDN and text.
ATTACK_CASE(operations_on_a_device_dn_answer_alike) {
    const std::string mb = w.new_mailbox("exist");
    w.bob_device("x1", mb);
    const std::string ex = demo::device_dn("x1", mb), nx = demo::device_dn("nosuch", mb);
    Session root = w.root();
    int n = 0;
    // entries to move below a device: one for each (session, target)
    auto movable = [&]() {
        const std::string dn = "cn=mv" + std::to_string(++n) + "-" + std::to_string(w.serial) + "," + demo::groups;
        REQUIRE_RC(add(root, dn, {{"objectClass", {"organizationalRole"}}, {"cn", {"mv" + std::to_string(n) + "-" +
                                                                                   std::to_string(w.serial)}}})
                       .res,
                   LDAP_SUCCESS);
        return dn;
    };
    struct Row {
        std::string what;
        bool on_device;  // the device DN itself (50 expected) rather than below it
        std::function<Reply(Session &, const std::string &)> op;
    };
    const AddAttrs role = {{"objectClass", {"organizationalRole"}}, {"cn", {"x"}}};
    const std::vector<Row> rows = {
        {"base search", true, [](Session &s, const std::string &d) { return search(s, {d, LDAP_SCOPE_BASE}); }},
        {"one-level search", true, [](Session &s, const std::string &d) { return search(s, {d, LDAP_SCOPE_ONELEVEL}); }},
        {"subtree search", true, [](Session &s, const std::string &d) { return search(s, {d, LDAP_SCOPE_SUBTREE}); }},
        {"compare devicepwLabel", true,
         [](Session &s, const std::string &d) { return compare(s, d, "devicepwLabel", "zz phone"); }},
        {"modify devicepwLabel", true,
         [](Session &s, const std::string &d) { return modify(s, d, {mod_replace("devicepwLabel", {"zz x"})}); }},
        {"modify devicepwRevoked", true,
         [](Session &s, const std::string &d) { return modify(s, d, {mod_replace("devicepwRevoked", {"TRUE"})}); }},
        {"modify description", true,
         [](Session &s, const std::string &d) { return modify(s, d, {mod_add("description", {"x"})}); }},
        {"modrdn (rename)", true, [](Session &s, const std::string &d) { return rename(s, d, "devicepwId=zz9"); }},
        {"modrdn (move to ou=groups)", true,
         [](Session &s, const std::string &d) { return rename(s, d, "devicepwId=zz8", demo::groups); }},
        {"delete", true, [](Session &s, const std::string &d) { return del(s, d); }},
        {"add with the same DN", true,
         [](Session &s, const std::string &d) {
             std::string id = d.substr(std::string("devicepwId=").size(), d.find(',') - std::string("devicepwId=").size());
             return add(s, d, {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {"zz"}}});
         }},
        {"Password Modify (generate)", true, [](Session &s, const std::string &d) { return passwd(s, d); }},
        {"Password Modify (new password given)", true,
         [](Session &s, const std::string &d) { return passwd(s, d, std::string("chosen-password")); }},
        {"search below (matchedDN)", false,
         [](Session &s, const std::string &d) { return search(s, {"cn=x," + d, LDAP_SCOPE_BASE}); }},
        {"compare below", false, [](Session &s, const std::string &d) { return compare(s, "cn=x," + d, "cn", "x"); }},
        {"add below", false, [&](Session &s, const std::string &d) { return add(s, "cn=x," + d, role); }},
        {"modify below", false,
         [](Session &s, const std::string &d) { return modify(s, "cn=x," + d, {mod_add("description", {"x"})}); }},
        {"delete below", false, [](Session &s, const std::string &d) { return del(s, "cn=x," + d); }},
        {"modrdn below", false, [](Session &s, const std::string &d) { return rename(s, "cn=x," + d, "cn=y"); }},
        {"modrdn of another entry with newSuperior = the device", false,
         [&](Session &s, const std::string &d) { return rename(s, movable(), "cn=moved", d); }},
    };
    for (auto &s : outsiders(w)) {
        for (auto &r : rows) {
            Reply a = r.op(s, ex), b = r.op(s, nx);
            if ((a.res.rc == LDAP_SERVER_DOWN || b.res.rc == LDAP_SERVER_DOWN) && w.slapd.exits_within(3000)) {
                BOOST_ERROR(s.name << ", " << r.what << ": slapd died (exit status "
                                   << w.slapd.exit_status().value_or(-1) << "); log tail:\n" << w.slapd.log_tail(1500));
                return;
            }
            const bool same = a.res.rc == b.res.rc && a.res.diag == b.res.diag && a.res.matched == b.res.matched &&
                              a.entries.size() == b.entries.size();
            const bool refused = a.res.rc != LDAP_SUCCESS && a.res.rc != LDAP_COMPARE_TRUE &&
                                 a.res.rc != LDAP_COMPARE_FALSE;
            BOOST_CHECK_MESSAGE(same && refused && (!r.on_device || a.res.rc == LDAP_INSUFFICIENT_ACCESS),
                                s.name << ", " << r.what << ": existing device " << describe(a) << " / no such device "
                                       << describe(b) << (r.on_device ? " (expected 50 for both)" : " (expected the same refusal)"));
        }
    }
    // nothing was changed by them, nothing lives below the device, and a broad search shows
    // them nothing of it
    for (auto &s : outsiders(w)) {
        Reply r = search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"1.1"}});
        for (auto &e : r.entries)
            BOOST_CHECK_MESSAGE(!contains_ci(e.dn, ex), s.name << ", broad search returns " << e.dn);
    }
    auto below = w.slapd.root()->search(ex, LDAP_SCOPE_ONELEVEL, "(objectClass=*)", {"1.1"});
    BOOST_CHECK_MESSAGE(below.entries.empty(), below.entries.size() << " entries now live below the device, e.g. "
                                                                    << (below.entries.empty() ? "" : below.entries[0].dn));
    auto e = w.slapd.root()->read(ex, {"devicepwLabel", "devicepwRevoked", "description"});
    BOOST_REQUIRE_MESSAGE(e.has_value(), "the device is gone");
    BOOST_TEST(e->one("devicepwLabel") == "zz phone");
    BOOST_TEST(!e->has("devicepwRevoked"));
    BOOST_TEST(!e->has("description"));
}

// Broad searches by outsiders: no device entry, and nothing on the mailbox entry (size
// limits, hasSubordinates in attributes and filters) differs between a mailbox with
// devices and one without.
ATTACK_CASE(broad_searches_tell_nothing_about_devices) {
    const std::string with = w.new_mailbox("bwith"), without = w.new_mailbox("bwithout");
    w.bob_device("x1", with);
    const std::string mail_with = with.substr(4, with.find(',') - 4), mail_without = without.substr(4, without.find(',') - 4);
    for (auto &s : outsiders(w)) {
        // no device entry whatever the filter
        for (const std::string &f : std::vector<std::string>{"(objectClass=*)", "(objectClass=devicepwDevice)", "(devicepwId=x1)",
                                    "(devicepwLabel=*)", "(!(mail=*))", "(entryDN:dnSubtreeMatch:=" + with + ")",
                                    "(:caseIgnoreMatch:=zz phone)"}) {
            Reply b = search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE, f, {"1.1"}});
            for (auto &e : b.entries)
                BOOST_CHECK_MESSAGE(!contains_ci(e.dn, "devicepwId=x1," + with), s.name << ", filter " << f << " returns " << e.dn);
        }
        // sorted, VLV and paged broad searches
        {
            std::vector<CtrlPtr> c;
            c.push_back(sort_request(s.conn->raw(), "devicepwId"));
            Reply r = search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"1.1"}}, std::move(c));
            for (auto &e : r.entries)
                BOOST_CHECK_MESSAGE(!contains_ci(e.dn, "devicepwId=x1," + with), s.name << ", sorted search returns " << e.dn);
            std::vector<CtrlPtr> c2;
            c2.push_back(sort_request(s.conn->raw(), "devicepwId"));
            c2.push_back(vlv_request(s.conn->raw(), 0, 10, std::nullopt, 1, 0));
            Reply v = search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"1.1"}}, std::move(c2));
            for (auto &e : v.entries)
                BOOST_CHECK_MESSAGE(!contains_ci(e.dn, "devicepwId=x1," + with), s.name << ", VLV search returns " << e.dn);
            std::vector<CtrlPtr> c3;
            c3.push_back(paged_request(s.conn->raw(), 100, ""));
            Reply p = search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"1.1"}}, std::move(c3));
            for (auto &e : p.entries)
                BOOST_CHECK_MESSAGE(!contains_ci(e.dn, "devicepwId=x1," + with), s.name << ", paged search returns " << e.dn);
        }
        // the size limit counts what matched: a dropped device must not count
        {
            Reply a = search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE, "(|(mail=" + mail_with + ")(devicepwId=x1))", {"1.1"},
                                 false, 1});
            Reply b = search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE,
                                 "(|(mail=" + mail_with + ")(devicepwId=nosuch))", {"1.1"}, false, 1});
            BOOST_CHECK_MESSAGE(a.res.rc == b.res.rc && a.entries.size() == b.entries.size(),
                                s.name << ", size limit 1: existing device " << describe(a) << " " << a.entries.size()
                                       << " entries / no such device " << describe(b) << " " << b.entries.size());
        }
        // hasSubordinates, as an attribute and in filters: the same for both mailboxes
        auto lookup = [&](const std::string &mail, const std::string &extra) {
            return search(s, {demo::mailboxes, LDAP_SCOPE_SUBTREE, "(&(mail=" + mail + ")" + extra + ")",
                              {"mail", "hasSubordinates"}});
        };
        for (const std::string &extra : std::vector<std::string>{std::string(""), std::string("(hasSubordinates=TRUE)"), std::string("(!(hasSubordinates=FALSE))"),
              std::string("(hasSubordinates:booleanMatch:=TRUE)"), std::string("(!(hasSubordinates:booleanMatch:=FALSE))"),
              std::string("(|(hasSubordinates=TRUE)(mail=nomatch))")}) {
            Reply a = lookup(mail_with, extra), b = lookup(mail_without, extra);
            std::vector<std::string> ha, hb;
            for (auto &e : a.entries) ha = e.values("hasSubordinates");
            for (auto &e : b.entries) hb = e.values("hasSubordinates");
            BOOST_CHECK_MESSAGE(a.res.rc == b.res.rc && a.entries.size() == b.entries.size() && ha == hb,
                                s.name << ", lookup (mail=...)" << extra << ": mailbox with a device " << describe(a)
                                       << " " << a.entries.size() << " entries hasSubordinates="
                                       << (ha.empty() ? "-" : ha[0]) << " / without " << describe(b) << " "
                                       << b.entries.size() << " entries hasSubordinates=" << (hb.empty() ? "-" : hb[0]));
        }
        // by DN: the mailbox's people only, with or without devices
        for (auto mb : {with, without}) {
            CHECK_REPLY(search(s, {mb, LDAP_SCOPE_BASE, "(objectClass=*)", {"hasSubordinates"}}), LDAP_INSUFFICIENT_ACCESS,
                        s.name << ", base read of " << mb);
            // (compare hasSubordinates: attack/crash, it can abort slapd)
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()  // exist

// =============================================================================================
BOOST_AUTO_TEST_SUITE(mint)

namespace {

// What a session acting as the mailbox (device secret, or proxied) tries, each expected to
// be refused with insufficientAccess (50); then every device is revoked and nothing the
// session tried to set may bind.
void acting_as_the_mailbox_mints_nothing(World &w, bool proxied) {
    const std::string mb = w.new_mailbox(proxied ? "mintp" : "mintd");
    const std::string s1 = w.bob_device("x1", mb);
    w.bob_device("x2", mb);
    const std::string d1 = demo::device_dn("x1", mb), d2 = demo::device_dn("x2", mb);
    Session s = proxied ? w.bob_as(mb) : w.device(mb, s1);
    if (proxied) {  // the session really acts as the mailbox
        Reply who = search(s, {mb, LDAP_SCOPE_BASE, "(objectClass=*)", {"mail"}});
        BOOST_REQUIRE_MESSAGE(who.res.rc == LDAP_SUCCESS && who.entries.size() == 1,
                              "bob cannot act as the mailbox: " << describe(who));
    }
    std::vector<std::string> tried;  // passwords the session tried to give the mailbox
    std::optional<std::string> generated;
    struct Row {
        std::string what;
        std::function<Reply()> op;
    };
    const std::vector<Row> rows = {
        {"Password Modify on the mailbox DN, no new password",
         [&] {
             Reply r = passwd(s, mb);
             if (r.genpasswd) generated = r.genpasswd;
             return r;
         }},
        {"Password Modify on itself (no user), no new password",
         [&] {
             Reply r = passwd(s, "");
             if (r.genpasswd) generated = r.genpasswd;
             return r;
         }},
        {"Password Modify on the mailbox DN with a new password",
         [&] { tried.push_back("Minted-pm-1"); return passwd(s, mb, tried.back()); }},
        {"Password Modify on itself with a new password",
         [&] { tried.push_back("Minted-pm-2"); return passwd(s, "", tried.back()); }},
        {"modify the mailbox: replace userPassword",
         [&] { tried.push_back("Minted-mod-1"); return modify(s, mb, {mod_replace("userPassword", {tried.back()})}); }},
        {"modify the mailbox: add userPassword",
         [&] { tried.push_back("Minted-mod-2"); return modify(s, mb, {mod_add("userPassword", {tried.back()})}); }},
        {"modify the mailbox: add userPassword;x-foo",
         [&] { tried.push_back("Minted-mod-3"); return modify(s, mb, {mod_add("userPassword;x-foo", {tried.back()})}); }},
        {"modify a device: add userPassword",
         [&] { return modify(s, d1, {mod_add("userPassword", {"Minted-dev-1"})}); }},
        {"add a device", [&] {
             return add(s, demo::device_dn("x9", mb),
                        {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {"x9"}}, {"devicepwLabel", {"zz new"}}});
         }},
        {"Password Modify on a device (rotate)", [&] { return passwd(s, d2); }},
        {"revoke a device", [&] { return modify(s, d2, {mod_replace("devicepwRevoked", {"TRUE"})}); }},
        {"delete a device", [&] { return del(s, d2); }},
        {"add a person to the mailbox (devicepwUser)",
         [&] { return modify(s, mb, {mod_add("devicepwUser", {mallory})}); }},
        {"replace the mailbox's people (devicepwUser)",
         [&] { return modify(s, mb, {mod_replace("devicepwUser", {demo::bob, mallory})}); }},
        {"set authzFrom on the mailbox",
         [&] { return modify(s, mb, {mod_add("authzFrom", {"dn:" + mallory})}); }},
    };
    for (auto &r : rows) {
        Reply rep = r.op();
        CHECK_REPLY(rep, LDAP_INSUFFICIENT_ACCESS, s.name << ", " << r.what);
        BOOST_CHECK_MESSAGE(!rep.genpasswd, s.name << ", " << r.what << ": a password was generated: " << *rep.genpasswd);
    }
    // nothing stored
    auto m = w.slapd.root()->read(mb, {"userPassword", "devicepwUser", "authzFrom"});
    BOOST_REQUIRE(m.has_value());
    BOOST_CHECK_MESSAGE(!m->has("userPassword"), s.name << ": the mailbox now has a userPassword");
    BOOST_CHECK_MESSAGE(m->values("devicepwUser").size() == 1, s.name << ": the mailbox's people changed");
    BOOST_CHECK_MESSAGE(!m->has("authzFrom"), s.name << ": the mailbox now has an authzFrom");
    for (auto d : {d1, d2}) {
        auto e = w.slapd.root()->read(d, {"userPassword", "devicepwRevoked"});
        BOOST_REQUIRE_MESSAGE(e.has_value(), s.name << ": device " << d << " is gone");
        BOOST_CHECK_MESSAGE(!e->has("userPassword"), s.name << ": device " << d << " now has a userPassword");
    }
    BOOST_CHECK_MESSAGE(!w.slapd.root()->read(demo::device_dn("x9", mb), {"1.1"}).has_value(), s.name << ": added a device");
    // revoke every device: nothing the session minted binds
    Session root = w.root();
    for (auto d : {d1, d2}) modify(root, d, {mod_replace("devicepwRevoked", {"TRUE"})});
    if (generated) tried.push_back(*generated);
    for (auto &pw : tried) {
        Conn c(w.slapd.uri());
        Result r = c.bind(mb, pw);
        BOOST_CHECK_MESSAGE(r.rc == LDAP_INVALID_CREDENTIALS,
                            s.name << ": after every device is revoked, the mailbox binds with '" << pw << "': " << r.rc);
    }
    Conn c(w.slapd.uri());
    BOOST_CHECK_MESSAGE(c.bind(d1, "Minted-dev-1").rc == LDAP_INVALID_CREDENTIALS, s.name << ": the device DN binds");
}

}  // namespace

ATTACK_CASE(a_device_session_mints_no_credential) { acting_as_the_mailbox_mints_nothing(w, false); }
ATTACK_CASE(a_person_acting_as_the_mailbox_mints_no_credential) { acting_as_the_mailbox_mints_nothing(w, true); }

// Administrators and the mailbox bound with its own primary password keep the right to set
// the mailbox's userPassword (also when the mailbox has devices).
ATTACK_CASE(admins_and_the_primary_password_keep_setting_userpassword) {
    const std::string mb = w.new_mailbox("primary");
    w.bob_device("x1", mb);
    Session root = w.root();
    CHECK_REPLY(passwd(root, mb, std::string("Root-set-1")), LDAP_SUCCESS, "rootdn Password Modify on the mailbox");
    auto binds = [&](const std::string &pw) { return Conn(w.slapd.uri()).bind(mb, pw).rc == LDAP_SUCCESS; };
    BOOST_REQUIRE_MESSAGE(binds("Root-set-1"), "the primary password set by the rootdn does not bind");
    {
        Session own = w.bind("the mailbox bound with its primary password", mb, "Root-set-1");
        CHECK_REPLY(passwd(own, "", std::string("Own-set-2")), LDAP_SUCCESS, own.name << ", Password Modify on itself");
        BOOST_CHECK(binds("Own-set-2"));
    }
    std::string current = "Own-set-2";
    {
        Session own = w.bind("the mailbox bound with its primary password", mb, current);
        Reply g = passwd(own, mb);
        CHECK_REPLY(g, LDAP_SUCCESS, own.name << ", Password Modify on its DN, generated");
        BOOST_CHECK(g.genpasswd.has_value());
        if (g.genpasswd) {
            BOOST_CHECK(binds(*g.genpasswd));
            current = *g.genpasswd;
        }
    }
    {
        Session own = w.bind("the mailbox bound with its primary password", mb, current);
        CHECK_REPLY(modify(own, mb, {mod_replace("userPassword", {"Own-mod-3"})}), LDAP_SUCCESS,
                    own.name << ", modify replace userPassword");
        BOOST_CHECK(binds("Own-mod-3"));
    }
    CHECK_REPLY(modify(root, mb, {mod_replace("userPassword", {"Root-mod-4"})}), LDAP_SUCCESS,
                "rootdn modify replace userPassword");
    BOOST_CHECK(binds("Root-mod-4"));
    if (w.acls == AclSet::Manage) {
        // the recommended ACLs give administrators no write on userPassword ("by * none")
        Session dave = w.dave();
        CHECK_REPLY(passwd(dave, mb, std::string("Admin-set-5")), LDAP_SUCCESS, dave.name << ", Password Modify");
        BOOST_CHECK(binds("Admin-set-5"));
        CHECK_REPLY(modify(dave, mb, {mod_replace("userPassword", {"Admin-mod-6"})}), LDAP_SUCCESS,
                    dave.name << ", modify replace userPassword");
        BOOST_CHECK(binds("Admin-mod-6"));
    }
    // the devices keep working next to it
    Session bob = w.bob();
    Reply p = passwd(bob, demo::device_dn("x1", mb));
    BOOST_REQUIRE(p.genpasswd.has_value());
    BOOST_CHECK(binds(*p.genpasswd));
}

// Protected attributes in every form: with options (;lang-xx, ;x-foo), by OID, in another
// case, on add and on modify, by a person and by an administrator (everyone but the rootdn).
ATTACK_CASE(protected_attributes_are_protected_with_options_and_oids) {
    const std::string mb = w.new_mailbox("options");
    w.bob_device("x1", mb);
    const std::string d1 = demo::device_dn("x1", mb);
    const std::string hash = w.stored_hash(d1);
    struct Row {
        std::string attr, value;
        int expected;
    };
    const std::vector<Row> rows = {
        {"devicepwSecret", hash, LDAP_UNWILLING_TO_PERFORM},
        {"DEVICEPWSECRET", hash, LDAP_UNWILLING_TO_PERFORM},
        {secret_oid, hash, LDAP_UNWILLING_TO_PERFORM},
        {"devicepwSecret;lang-xx", hash, LDAP_UNWILLING_TO_PERFORM},
        {"devicepwSecret;x-foo", hash, LDAP_UNWILLING_TO_PERFORM},
        {secret_oid + ";x-foo", hash, LDAP_UNWILLING_TO_PERFORM},
        {"devicepwLastUsed", "20260101000000Z", LDAP_UNWILLING_TO_PERFORM},
        {"devicepwLastUsed;x-foo", "20260101000000Z", LDAP_UNWILLING_TO_PERFORM},
        {"devicepwLastUsed;lang-xx", "20260101000000Z", LDAP_UNWILLING_TO_PERFORM},
        {lastused_oid, "20260101000000Z", LDAP_UNWILLING_TO_PERFORM},
        {"devicepwRevokedAt;x-foo", "20260101000000Z", LDAP_UNWILLING_TO_PERFORM},
        {"devicepwLabel;lang-xx", "zz bad \x07 bell", LDAP_CONSTRAINT_VIOLATION},
        {"devicepwLabel;x-foo", "zz \xe2\x80\xae reversed", LDAP_CONSTRAINT_VIOLATION},
    };
    int n = 0;
    std::vector<Session> sessions;
    sessions.push_back(w.bob());
    sessions.push_back(w.dave());
    for (auto &s : sessions) {
        for (auto r : rows) {
            const std::string &v = r.value;
            const std::string id = "o" + std::to_string(++n);
            const std::string dn = demo::device_dn(id, mb);
            Reply a = add(s, dn, {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}},
                                  {"devicepwLabel", {"zz phone"}}, {r.attr, {v}}});
            CHECK_REPLY(a, r.expected, s.name << ", add a device with " << r.attr);
            BOOST_CHECK_MESSAGE(!w.slapd.root()->read(dn, {"1.1"}).has_value() || a.res.rc != LDAP_SUCCESS,
                                s.name << ", add with " << r.attr << ": the device was created");
            CHECK_REPLY(modify(s, d1, {mod_replace(r.attr, {v})}), r.expected, s.name << ", modify replace " << r.attr);
        }
    }
    BOOST_CHECK_MESSAGE(w.stored_hash(d1) == hash, "the stored hash changed");
}

// Labels are shown to people: no bidi overrides, isolates, marks or zero-width characters.
ATTACK_CASE(labels_refuse_invisible_and_bidi_characters) {
    const std::string mb = w.new_mailbox("labels");
    w.bob_device("x1", mb);
    const std::string d1 = demo::device_dn("x1", mb);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"U+202E RIGHT-TO-LEFT OVERRIDE", "zz \u202e enohp"},
        {"U+202D LEFT-TO-RIGHT OVERRIDE", "zz \u202d phone"},
        {"U+202A LEFT-TO-RIGHT EMBEDDING", "zz \u202a phone"},
        {"U+2066 LEFT-TO-RIGHT ISOLATE", "zz \u2066phone\u2069"},
        {"U+200F RIGHT-TO-LEFT MARK", "zz\u200f phone"},
        {"U+200B ZERO WIDTH SPACE", "zz\u200bphone"},
        {"U+200D ZERO WIDTH JOINER", "zz\u200dphone"},
        {"U+2060 WORD JOINER", "zz\u2060phone"},
        {"U+FEFF ZERO WIDTH NO-BREAK SPACE", "\ufeffzz phone"},
        {"U+061C ARABIC LETTER MARK", "zz\u061cphone"},
        {"only U+200B", "\u200b"},
    };
    auto utf8 = [](const std::string &in) { return in; };  // the literals are UTF-8 already
    Session bob = w.bob();
    int n = 0;
    for (auto &[what, label] : bad) {
        const std::string id = "l" + std::to_string(++n);
        CHECK_REPLY(add(bob, demo::device_dn(id, mb),
                        {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {utf8(label)}}}),
                    LDAP_CONSTRAINT_VIOLATION, "add a device labelled with " << what);
        CHECK_REPLY(modify(bob, d1, {mod_replace("devicepwLabel", {utf8(label)})}), LDAP_CONSTRAINT_VIOLATION,
                    "relabel with " << what);
    }
    // readable labels still pass
    for (const std::string &ok : std::vector<std::string>{"Marie's iPhone", "T\u00e9l\u00e9phone de Zo\u00eb", "\u65e5\u672c\u306e\u96fb\u8a71",
                                 "\u05d8\u05dc\u05e4\u05d5\u05df (Hebrew)"}) {
        CHECK_REPLY(modify(bob, d1, {mod_replace("devicepwLabel", {utf8(ok)})}), LDAP_SUCCESS, "relabel with " << ok);
    }
}

// Nothing moves below a device: modrdn with newSuperior = a device is a naming violation for
// the rootdn and an administrator alike (an ACL that refuses it first is fine).
ATTACK_CASE(nothing_moves_below_a_device) {
    const std::string mb = w.new_mailbox("move"), empty = w.new_mailbox("moveempty");
    w.bob_device("x1", mb);
    const std::string d1 = demo::device_dn("x1", mb);
    Session root = w.root(), dave = w.dave();
    int n = 0;
    auto entry = [&]() {
        const std::string cn = "mv" + std::to_string(++n) + "-" + std::to_string(w.serial);
        const std::string dn = "cn=" + cn + "," + demo::groups;
        REQUIRE_RC(add(root, dn, {{"objectClass", {"organizationalRole"}}, {"cn", {cn}}}).res, LDAP_SUCCESS);
        return std::pair{dn, "cn=" + cn};
    };
    for (Session *s : {&root, &dave}) {
        auto [dn, rdn] = entry();
        Reply r = rename(*s, dn, rdn, d1);
        const bool ok = r.res.rc == LDAP_NAMING_VIOLATION ||
                        (s == &dave && w.acls == AclSet::Recommended && r.res.rc == LDAP_INSUFFICIENT_ACCESS);
        BOOST_CHECK_MESSAGE(ok, s->name << ", modrdn " << dn << " newSuperior=" << d1 << ": got " << describe(r)
                                        << ", expected 64 (namingViolation)");
        BOOST_CHECK_MESSAGE(!w.slapd.root()->read(rdn + "," + d1, {"1.1"}).has_value(),
                            s->name << ": an entry now lives below the device");
    }
    // a mailbox without devices moved below a device
    const std::string rdn = empty.substr(0, empty.find(','));
    Reply r = rename(root, empty, rdn, d1);
    CHECK_REPLY(r, LDAP_NAMING_VIOLATION, "rootdn moves a mailbox below a device");
    BOOST_CHECK_MESSAGE(!w.slapd.root()->read(rdn + "," + d1, {"1.1"}).has_value(), "a mailbox now lives below a device");
}

BOOST_AUTO_TEST_SUITE_END()  // mint

// =============================================================================================
BOOST_AUTO_TEST_SUITE(crash)

// syncprov shares a filter between operations; an overlay that appends a clause to it in
// place leaves a pointer into a finished operation's memory, which a later persistent
// search follows. An unprivileged person's persistent sync searches from the suffix, kept
// open and abandoned, mixed with subtree searches and the rootdn's writes: slapd must still
// be running and answering, and the searches must show outsiders no device and nobody a hash.
ATTACK_CASE_OWN_SLAPD(persistent_sync_searches_by_people_do_not_crash_slapd) {
    const std::string mb = w.new_mailbox("crash");
    w.bob_device("x1", mb);
    Session root = w.root();
    auto answering = [&]() {
        if (!w.slapd.alive()) return false;
        try {
            Conn c(w.slapd.uri());
            std::string id;
            return c.whoami(id).rc == LDAP_SUCCESS;
        } catch (...) {
            return false;
        }
    };
    struct Open {
        bool outsider;
        std::unique_ptr<SyncSearch> ps;
    };
    std::vector<Open> open;
    std::vector<Entry> seen_by_outsiders, seen_by_people;
    auto drain = [&]() {
        for (auto &o : open)
            if (o.ps) o.ps->read_some(0);
    };
    auto keep = [&](Open &o) {
        auto &dst = o.outsider ? seen_by_outsiders : seen_by_people;
        dst.insert(dst.end(), o.ps->entries().begin(), o.ps->entries().end());
    };
    const SearchSpec broad{demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"*", "+"}};
    Session searcher = w.mal();
    bool died = false;
    // A session that may fail to bind because slapd died: then stop.
    auto try_session = [&](const std::string &name, const std::string &dn, const std::string &pw) -> std::optional<Session> {
        auto c = std::make_shared<Conn>(w.slapd.uri());
        if (c->bind(dn, pw).rc != LDAP_SUCCESS) return std::nullopt;
        return Session{name, c, ""};
    };
    for (int i = 0; i < 80 && !died; ++i) {
        const bool outsider = i % 3 != 2;
        auto maybe = outsider ? (i % 2 ? try_session("mallory", mallory, mallorypw) : try_session("dovecot", dovecot, dovecotpw))
                              : try_session("bob", demo::bob, demo::bobpw);
        if (!maybe) {
            died = w.slapd.exits_within(3000);
            BOOST_CHECK_MESSAGE(died, "round " << i << ": a bind failed while slapd runs");
            break;
        }
        Session s = *maybe;
        const int mode = i % 4 == 3 ? LDAP_SYNC_REFRESH_ONLY : LDAP_SYNC_REFRESH_AND_PERSIST;
        open.push_back({outsider, std::make_unique<SyncSearch>(s, broad, mode)});
        open.back().ps->poll_until(5000, [&] { return open.back().ps->refresh_done(); });
        // ordinary subtree searches, and the rootdn's writes that syncprov matches against
        // every persistent search
        for (int k = 0; k < 3; ++k) {
            search(searcher, {demo::base, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"1.1"}});
            search(searcher, {demo::mailboxes, LDAP_SCOPE_SUBTREE, "(|(mail=*)(devicepwId=*))", {"1.1"}});
            modify(root, mb, {mod_replace("description", {"round " + std::to_string(i) + "." + std::to_string(k)})});
        }
        const std::string id = "c" + std::to_string(i);
        add(root, demo::device_dn(id, mb),
            {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {"zz crash"}}});
        modify(root, demo::device_dn("x1", mb), {mod_replace("devicepwLabel", {"zz round " + std::to_string(i)})});
        passwd(root, demo::device_dn(id, mb));
        drain();
        if (i % 3 == 1 && open.size() > 2) {  // abandon the oldest still open
            for (auto &o : open) {
                if (o.ps && !o.ps->done()) {
                    keep(o);
                    o.ps->abandon();
                    o.ps.reset();
                    break;
                }
            }
        }
        died = !w.slapd.alive();
        if (died) BOOST_TEST_MESSAGE("slapd died in round " << i);
    }
    for (auto &o : open) {
        if (!o.ps) continue;
        o.ps->read_some(100);
        keep(o);
        o.ps->abandon();
    }
    open.clear();
    const bool alive = w.slapd.alive();
    BOOST_CHECK_MESSAGE(alive, "slapd died (exit status " << w.slapd.exit_status().value_or(-1)
                                                          << ", 139 = SIGSEGV); log tail:\n" << w.slapd.log_tail(2500));
    if (alive) BOOST_CHECK_MESSAGE(answering(), "slapd no longer answers; log tail:\n" << w.slapd.log_tail(2500));
    for (auto &e : seen_by_outsiders)
        BOOST_CHECK_MESSAGE(!contains_ci(e.dn, "devicepwId="), "an outsider's sync search returned " << e.dn);
    CHECK_NO_LEAK(seen_by_outsiders, "outsiders' sync searches");
    CHECK_NO_LEAK(seen_by_people, "bob's sync searches from the suffix");
}

// A compare of hasSubordinates by someone who may not see devices, on a device that does
// not exist, followed by a write on the same connection. slapd answers such compares itself
// (the overlay's compare handler never sees them); observed to leave back-mdb in a state
// where the next write aborts slapd (mdb_opinfo_get assertion) in one configuration.
ATTACK_CASE_OWN_SLAPD(compare_has_subordinates_tells_nothing_and_does_not_crash_slapd) {
    const std::string mb = w.new_mailbox("hassub");
    w.bob_device("x1", mb);
    const std::string ex = demo::device_dn("x1", mb), nx = demo::device_dn("nosuch", mb);
    const std::string empty = w.new_mailbox("hassubempty");
    for (auto &s : outsiders(w)) {
        Reply a = compare(s, ex, "hasSubordinates", "FALSE");
        Reply b = compare(s, nx, "hasSubordinates", "FALSE");
        // slapd's frontend answers these compares itself (the overlay's compare handler never
        // runs): what the overlay can make of them is the same answer for both, never 5/6
        BOOST_CHECK_MESSAGE(a.res.rc == b.res.rc && a.res.diag == b.res.diag && a.res.rc != LDAP_COMPARE_TRUE &&
                                a.res.rc != LDAP_COMPARE_FALSE,
                            s.name << ", compare hasSubordinates on a device DN: existing device " << describe(a)
                                   << " / no such device " << describe(b) << " (expected the same refusal for both)");
        modify(s, ex, {mod_replace("devicepwLabel", {"zz x"})});
        modify(s, nx, {mod_replace("devicepwLabel", {"zz x"})});
        if (!w.slapd.alive()) break;
        Reply c = compare(s, mb, "hasSubordinates", "TRUE");
        Reply d = compare(s, empty, "hasSubordinates", "TRUE");
        BOOST_CHECK_MESSAGE(c.res.rc == d.res.rc && c.res.diag == d.res.diag && c.res.rc != LDAP_COMPARE_TRUE &&
                                c.res.rc != LDAP_COMPARE_FALSE,
                            s.name << ", compare hasSubordinates on a mailbox: with a device " << describe(c)
                                   << " / without " << describe(d) << " (expected the same refusal for both)");
        modify(s, mb, {mod_replace("description", {"x"})});
        if (!w.slapd.alive()) break;
    }
    BOOST_CHECK_MESSAGE(w.slapd.alive(), "slapd died (exit status " << w.slapd.exit_status().value_or(-1)
                                                                   << ", 134 = SIGABRT); log tail:\n" << w.slapd.log_tail(1200));
}

BOOST_AUTO_TEST_SUITE_END()  // crash

BOOST_AUTO_TEST_SUITE_END()  // attack
