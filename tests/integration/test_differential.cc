// Standard slapd behaviour unchanged: the same operations against two slapds on the same
// data, one with the overlay and one without, must give the same results — every filter
// kind and scope, size limits, paged results, compares, operational attributes; as
// anonymous, as a user and as the rootdn; under several ACL styles, among them one that
// gives read but not search on objectClass. Then, with mailboxes and devices added to
// both, only device entries and the documented attributes may differ, and only for
// those who may not see them.
#include "test_util.h"

#include <ldap.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace dpwtest;

namespace {

// ---- data: no device, no mailbox ------------------------------------------------------
const std::string kBase = SlapdFixture::kSuffix;

std::vector<std::pair<std::string, AddAttrs>> plain_data() {
    std::vector<std::pair<std::string, AddAttrs>> d;
    d.push_back({"ou=people," + kBase, {{"objectClass", {"organizationalUnit"}}, {"ou", {"people"}},
                                        {"description", {"the people"}}}});
    for (int i = 1; i <= 5; ++i) {
        std::string uid = "p" + std::to_string(i);
        AddAttrs a = {{"objectClass", {"inetOrgPerson"}}, {"uid", {uid}}, {"cn", {"Person " + uid}},
                      {"sn", {"Number " + std::to_string(i)}}, {"mail", {uid + "@example.com"}},
                      {"userPassword", {uid + "pw"}}};
        if (i % 2) a.push_back({"description", {"odd person " + uid}});
        d.push_back({"uid=" + uid + ",ou=people," + kBase, a});
    }
    d.push_back({"ou=groups," + kBase, {{"objectClass", {"organizationalUnit"}}, {"ou", {"groups"}}}});
    d.push_back({"cn=team,ou=groups," + kBase,
                 {{"objectClass", {"groupOfNames"}}, {"cn", {"team"}},
                  {"member", {"uid=p1,ou=people," + kBase, "uid=p2,ou=people," + kBase}},
                  {"description", {"a team"}}}});
    d.push_back({"ou=org," + kBase, {{"objectClass", {"organizationalUnit"}}, {"ou", {"org"}},
                                     {"description", {"organisation"}}}});
    d.push_back({"ou=sub,ou=org," + kBase, {{"objectClass", {"organizationalUnit"}}, {"ou", {"sub"}}}});
    d.push_back({"ou=leaf,ou=sub,ou=org," + kBase, {{"objectClass", {"organizationalUnit"}}, {"ou", {"leaf"}},
                                                    {"description", {"a leaf"}}}});
    return d;
}

// Mailboxes and devices, for the second phase.
std::vector<std::pair<std::string, AddAttrs>> device_data() {
    std::vector<std::pair<std::string, AddAttrs>> d;
    const std::string mbs = "ou=mailboxes," + kBase;
    d.push_back({mbs, {{"objectClass", {"organizationalUnit"}}, {"ou", {"mailboxes"}}}});
    for (const char *who : {"m1", "m2"}) {
        const std::string mb = "uid=" + std::string(who) + "@example.com," + mbs;
        d.push_back({mb, {{"objectClass", {"inetOrgPerson", "devicepwMailbox"}},
                          {"uid", {std::string(who) + "@example.com"}}, {"cn", {who}}, {"sn", {who}},
                          {"mail", {std::string(who) + "@example.com"}},
                          {"devicepwUser", {"uid=p1,ou=people," + kBase}}}});
        d.push_back({"devicepwId=d1," + mb, {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {"d1"}},
                                            {"devicepwLabel", {"Phone of " + std::string(who)}},
                                            {"description", {"a device"}}}});
    }
    // a mailbox without devices
    d.push_back({"uid=m3@example.com," + mbs, {{"objectClass", {"inetOrgPerson", "devicepwMailbox"}},
                                               {"uid", {"m3@example.com"}}, {"cn", {"m3"}}, {"sn", {"m3"}},
                                               {"mail", {"m3@example.com"}}}});
    return d;
}

// ---- results, made comparable -----------------------------------------------------------
// Attributes that differ between two servers by nature (ids, times, CSNs).
const std::set<std::string> kVolatile = {"entryuuid", "entrycsn", "createtimestamp", "modifytimestamp",
                                         "contextcsn", "creatorsname", "modifiersname"};

struct Outcome {
    int rc = -1;
    std::map<std::string, std::map<std::string, std::vector<std::string>>> entries;  // dn -> attr -> values
    int pages = 0;
    std::string describe() const {
        std::ostringstream o;
        o << "rc=" << rc << " pages=" << pages << " entries=" << entries.size() << ":";
        for (auto &[dn, attrs] : entries) {
            o << "\n  " << dn;
            for (auto &[a, v] : attrs) {
                o << " " << a << "=";
                for (auto &x : v) o << x << "|";
            }
        }
        return o.str();
    }
    bool operator==(const Outcome &b) const { return rc == b.rc && entries == b.entries && pages == b.pages; }
};

Outcome collect(LDAP *ld, LDAPMessage *res, Outcome o) {
    for (LDAPMessage *m = ldap_first_entry(ld, res); m; m = ldap_next_entry(ld, m)) {
        Entry e = entry_of(ld, m);
        auto &attrs = o.entries[lower(e.dn)];
        for (auto &[a, v] : e.attrs) {
            if (kVolatile.count(a)) continue;
            std::vector<std::string> vs = v;
            std::sort(vs.begin(), vs.end());
            attrs[a] = vs;
        }
    }
    return o;
}

struct Query {
    std::string base;
    int scope;
    std::string filter;
    std::vector<std::string> attrs;
    int sizelimit = 0;
    int page = 0;  // paged results page size; 0 = none
};

Outcome run(Conn &c, const Query &q) {
    Outcome o;
    std::vector<char *> attrs;
    for (auto &a : q.attrs) attrs.push_back(const_cast<char *>(a.c_str()));
    attrs.push_back(nullptr);
    struct timeval tv = {10, 0};
    if (q.page == 0) {
        LDAPMessage *res = nullptr;
        int rc = ldap_search_ext_s(c.raw(), q.base.c_str(), q.scope, q.filter.c_str(),
                                   q.attrs.empty() ? nullptr : attrs.data(), 0, nullptr, nullptr, &tv,
                                   q.sizelimit, &res);
        o.rc = rc;
        if (res) {
            o = collect(c.raw(), res, o);
            ldap_msgfree(res);
        }
        return o;
    }
    struct berval cookie = {0, nullptr};
    for (int guard = 0; guard < 100; ++guard) {
        LDAPControl *page = nullptr;
        ldap_create_page_control(c.raw(), q.page, &cookie, 0, &page);
        LDAPControl *ctrls[] = {page, nullptr};
        LDAPMessage *res = nullptr;
        int rc = ldap_search_ext_s(c.raw(), q.base.c_str(), q.scope, q.filter.c_str(),
                                   q.attrs.empty() ? nullptr : attrs.data(), 0, ctrls, nullptr, &tv, 0, &res);
        ldap_control_free(page);
        if (cookie.bv_val) ber_memfree(cookie.bv_val);
        cookie = {0, nullptr};
        o.rc = rc;
        o.pages++;
        if (!res) break;
        o = collect(c.raw(), res, o);
        int err = 0;
        LDAPControl **rctrls = nullptr;
        ldap_parse_result(c.raw(), res, &err, nullptr, nullptr, nullptr, &rctrls, 0);
        o.rc = err;
        ber_int_t count = 0;
        if (rctrls) {
            LDAPControl *pc = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, nullptr);
            if (pc) ldap_parse_pageresponse_control(c.raw(), pc, &count, &cookie);
            ldap_controls_free(rctrls);
        }
        ldap_msgfree(res);
        if (err != LDAP_SUCCESS || !cookie.bv_val || cookie.bv_len == 0) break;
    }
    if (cookie.bv_val) ber_memfree(cookie.bv_val);
    return o;
}

std::vector<Query> queries() {
    const std::vector<std::string> filters = {
        "(objectClass=*)", "(description=*)", "(hasSubordinates=TRUE)", "(hasSubordinates=FALSE)",
        "(!(hasSubordinates=TRUE))", "(mail=p*)", "(cn~=Person p1)", "(uid>=p3)", "(uid<=p2)",
        "(&(objectClass=person)(|(uid=p1)(uid=p2)))", "(!(objectClass=organizationalUnit))",
        "(ou:dn:=org)", "(:dn:2.5.13.5:=org)", "(:caseIgnoreMatch:=Person p1)", "(&)", "(|)",
        "(entryDN:dnSubtreeMatch:=ou=org," + kBase + ")", "(member=uid=p1,ou=people," + kBase + ")",
        "(description=*leaf*)", "(objectClass=devicepwDevice)", "(devicepwSecret=*)", "(cn=*)",
        "(|(ou=org)(description=a team))", "(entryUUID=*)", "(structuralObjectClass=organizationalUnit)"};
    const std::vector<std::vector<std::string>> attr_sets = {{}, {"+"}, {"1.1"}, {"hasSubordinates", "description"}};
    std::vector<Query> qs;
    size_t n = 0;
    for (auto &f : filters) {
        // every filter under the suffix; the attribute lists rotate so that each filter
        // meets several of them without multiplying the runs
        qs.push_back({kBase, LDAP_SCOPE_SUBTREE, f, attr_sets[n++ % attr_sets.size()]});
        qs.push_back({kBase, LDAP_SCOPE_ONELEVEL, f, attr_sets[n++ % attr_sets.size()]});
    }
    for (auto &f : {std::string("(objectClass=*)"), std::string("(description=*)")}) {
        qs.push_back({kBase, LDAP_SCOPE_BASE, f, {"*", "+"}});
        qs.push_back({"ou=org," + kBase, LDAP_SCOPE_SUBTREE, f, {"*", "+"}});
        qs.push_back({"ou=org," + kBase, LDAP_SCOPE_SUBORDINATE, f, {}});
        for (int limit : {1, 2, 5})
            qs.push_back({kBase, LDAP_SCOPE_SUBTREE, f, {"1.1"}, limit});
        for (int page : {1, 2, 3})
            qs.push_back({kBase, LDAP_SCOPE_SUBTREE, f, {"1.1"}, 0, page});
    }
    qs.push_back({"ou=missing," + kBase, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {}});
    qs.push_back({"uid=p1,ou=people," + kBase, LDAP_SCOPE_BASE, "(objectClass=*)", {"*", "+"}});
    return qs;
}

struct Cmp {
    std::string dn, attr, value;
};
std::vector<Cmp> compares() {
    return {{"ou=org," + kBase, "description", "organisation"},
            {"ou=org," + kBase, "hasSubordinates", "TRUE"},
            {"ou=leaf,ou=sub,ou=org," + kBase, "hasSubordinates", "FALSE"},
            {"uid=p1,ou=people," + kBase, "userPassword", "p1pw"},
            {"uid=p1,ou=people," + kBase, "mail", "nope"},
            {"ou=missing," + kBase, "ou", "missing"}};
}

int compare_rc(Conn &c, const Cmp &k) { return c.compare(k.dn, k.attr, k.value).rc; }

struct AclStyle {
    std::string name;
    std::vector<std::string> acl;
};
std::vector<AclStyle> acl_styles() {
    return {{"slapd's default", {}},
            {"read but not search on objectClass", {"access to attrs=objectClass by * =r", "access to * by * read"}},
            {"users read, anonymous search only, passwords for auth",
             {"access to attrs=userPassword by self write by anonymous auth by * none",
              "access to dn.subtree=\"ou=org," + kBase + "\" by users read by * none",
              "access to * by users read by anonymous search"}}};
}

struct Pair {
    SlapdFixture with, without;
    explicit Pair(const std::vector<std::string> &acl)
        : with([&] {
              SlapdOptions o;
              o.acl = acl;
              o.db_directives = {"index objectClass eq", "index uid eq"};
              return o;
          }()),
          without([&] {
              SlapdOptions o;
              o.overlay = false;
              o.acl = acl;
              o.db_directives = {"index objectClass eq", "index uid eq"};
              return o;
          }()) {
        with.start();
        without.start();
    }
    void add(const std::vector<std::pair<std::string, AddAttrs>> &data) {
        for (auto *s : {&with, &without}) {
            auto root = s->root();
            if (!root->read(kBase, {"1.1"}))
                REQUIRE_RC(root->add(kBase, {{"objectClass", {"dcObject", "organization"}}, {"dc", {"example"}},
                                             {"o", {"Example"}}}),
                           LDAP_SUCCESS);
            for (auto &[dn, attrs] : data) REQUIRE_RC(root->add(dn, attrs), LDAP_SUCCESS);
        }
    }
};

using Identity = std::pair<std::string, std::function<std::unique_ptr<Conn>(SlapdFixture &)>>;
std::vector<Identity> identities() {
    return {{"anonymous", [](SlapdFixture &s) { return s.conn(); }},
            {"a user", [](SlapdFixture &s) { return s.conn_as("uid=p2,ou=people," + kBase, "p2pw"); }},
            {"the rootdn", [](SlapdFixture &s) { return s.root(); }}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(differential)

BOOST_AUTO_TEST_CASE(without_devices_every_result_is_the_same) {
    size_t cases = 0;
    for (const AclStyle &style : acl_styles()) {
        Pair p(style.acl);
        p.add(plain_data());
        for (auto &[who, connect] : identities()) {
            auto a = connect(p.with);
            auto b = connect(p.without);
            for (const Query &q : queries()) {
                Outcome x = run(*a, q), y = run(*b, q);
                ++cases;
                BOOST_TEST((x == y), style.name << " / " << who << " / " << q.base << " scope " << q.scope << " "
                                              << q.filter << " limit " << q.sizelimit << " page " << q.page
                                              << "\nwith devicepw:    " << x.describe()
                                              << "\nwithout devicepw: " << y.describe());
            }
            for (const Cmp &k : compares()) {
                // Stock slapd 2.5.13 (Debian bookworm) aborts in mdb_opinfo_get on the
                // operation after a compare of hasSubordinates that the ACLs refuse, with or
                // without this overlay (the refused compare leaves a read transaction
                // behind): not exercised but by the rootdn.
                if (who != "the rootdn" && k.attr == "hasSubordinates") continue;
                ++cases;
                BOOST_TEST(compare_rc(*a, k) == compare_rc(*b, k),
                           style.name << " / " << who << " compare " << k.dn << " " << k.attr);
            }
        }
    }
    BOOST_TEST_MESSAGE("differential: " << cases << " operations compared without devices");
}

// With mailboxes and devices: the rootdn sees the same; everyone else sees the same
// except for device entries, stored hashes, and what hasSubordinates says of mailboxes,
// and reads aimed at a mailbox or a device by DN (documented: for its people only).
BOOST_AUTO_TEST_CASE(with_devices_only_devices_differ) {
    size_t cases = 0;
    for (const AclStyle &style : acl_styles()) {
        Pair p(style.acl);
        p.add(plain_data());
        p.add(device_data());
        for (auto &[who, connect] : identities()) {
            auto a = connect(p.with);
            auto b = connect(p.without);
            for (const Query &q : queries()) {
                Outcome x = run(*a, q), y = run(*b, q);
                ++cases;
                if (who == "the rootdn") {
                    BOOST_TEST((x == y), style.name << " / rootdn / " << q.filter << "\nwith: " << x.describe()
                                                  << "\nwithout: " << y.describe());
                    continue;
                }
                // what the overlay may take away, and nothing else
                auto strip = [&](Outcome o) {
                    for (auto it = o.entries.begin(); it != o.entries.end();) {
                        const bool device = it->first.rfind("devicepwid=", 0) == 0;
                        const bool mailbox = it->first.find(",ou=mailboxes,") != std::string::npos &&
                                             it->first.rfind("uid=m", 0) == 0;
                        if (device || (mailbox && q.filter.find("hasSubordinates") != std::string::npos)) {
                            it = o.entries.erase(it);
                            continue;
                        }
                        it->second.erase("devicepwsecret");
                        if (mailbox) it->second.erase("hassubordinates");
                        ++it;
                    }
                    return o;
                };
                Outcome sx = strip(x), sy = strip(y);
                // size limits and pages count entries: compare them only where no device
                // could be among the candidates
                if (q.sizelimit || q.page) {
                    BOOST_TEST((x.rc == LDAP_SUCCESS || x.rc == LDAP_SIZELIMIT_EXCEEDED));
                    continue;
                }
                BOOST_TEST((sx == sy), style.name << " / " << who << " / " << q.base << " scope " << q.scope << " "
                                                << q.filter << "\nwith devicepw:    " << x.describe()
                                                << "\nwithout devicepw: " << y.describe());
                // and the overlay never shows what it hides
                for (auto &[dn, attrs] : x.entries) {
                    BOOST_TEST(dn.rfind("devicepwid=", 0) != 0, who << " got device " << dn << " for " << q.filter);
                    BOOST_TEST(!attrs.count("devicepwsecret"));
                }
            }
        }
    }
    BOOST_TEST_MESSAGE("differential: " << cases << " operations compared with devices");
}

BOOST_AUTO_TEST_SUITE_END()
