// The devicepw tool's directory model (tools/model.h): devices read from entries, their
// status, which device "ID|LABEL" names, and the listing order. No server involved.
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "model.h"

namespace dpwtool {  // for Boost.Test's messages
inline std::ostream &operator<<(std::ostream &o, DeviceStatus s) { return o << status_name(s); }
inline std::ostream &operator<<(std::ostream &o, DeviceSelection::Outcome x) {
    return o << (x == DeviceSelection::kFound ? "found" : x == DeviceSelection::kNotFound ? "not found" : "ambiguous");
}
}  // namespace dpwtool

using namespace dpwtool;

namespace {

Device dev(const std::string &id, const std::string &label, std::optional<int64_t> created = std::nullopt) {
    Device d;
    d.id = id;
    d.dn = "devicepwId=" + id + ",uid=alice@example.com,ou=mailboxes,dc=example,dc=com";
    d.label = label;
    d.created = created;
    return d;
}

std::vector<std::string> ids(const std::vector<Device> &v) {
    std::vector<std::string> out;
    for (const auto &d : v) out.push_back(d.id);
    return out;
}

// Entry attribute names are kept in lower case (ldap_client.h).
Entry entry(const std::string &dn, std::map<std::string, std::vector<std::string>> attrs) {
    return Entry{dn, std::move(attrs)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tool_model)

BOOST_AUTO_TEST_CASE(device_from_reads_every_attribute) {
    const Device d = device_from(entry("devicepwId=k3x9,uid=alice@example.com,dc=example,dc=com",
                                       {{"devicepwid", {"k3x9"}},
                                        {"devicepwlabel", {"Marie's iPhone"}},
                                        {"devicepwowner", {"uid=bob,ou=people,dc=example,dc=com"}},
                                        {"createtimestamp", {"20300101000000Z"}},
                                        {"devicepwlastused", {"20300102000000Z"}},
                                        {"devicepwexpires", {"20310101000000Z"}},
                                        {"devicepwrevoked", {"FALSE"}}}));
    BOOST_TEST(d.id == "k3x9");
    BOOST_TEST(d.dn == "devicepwId=k3x9,uid=alice@example.com,dc=example,dc=com");
    BOOST_TEST(d.label == "Marie's iPhone");
    BOOST_TEST(d.owner.value_or("") == "uid=bob,ou=people,dc=example,dc=com");
    BOOST_TEST(d.created.value_or(0) == 1893456000);
    BOOST_TEST(d.last_used.value_or(0) == 1893456000 + 86400);
    BOOST_TEST(d.expires.value_or(0) == 1893456000 + 365 * 86400);
    BOOST_TEST(!d.revoked_at.has_value());
    BOOST_TEST(!d.revoked);
}

BOOST_AUTO_TEST_CASE(device_from_fills_in_what_is_missing) {
    // No devicepwId value readable: the id comes from the RDN; no label: empty.
    const Device d = device_from(entry("devicepwId=p8w2,uid=alice@example.com,dc=example,dc=com",
                                       {{"devicepwrevoked", {"true"}},
                                        {"devicepwrevokedat", {"20300101000000Z"}},
                                        {"devicepwexpires", {"not a time"}}}));
    BOOST_TEST(d.id == "p8w2");
    BOOST_TEST(d.label.empty());
    BOOST_TEST(!d.owner.has_value());
    BOOST_TEST(!d.created.has_value());
    BOOST_TEST(!d.expires.has_value());  // malformed: left out
    BOOST_TEST(d.revoked);               // TRUE in any case
    BOOST_TEST(d.revoked_at.value_or(0) == 1893456000);
    // Neither attribute nor RDN: "?".
    BOOST_TEST(device_from(entry("cn=odd,dc=example,dc=com", {})).id == "?");
}

BOOST_AUTO_TEST_CASE(status_revoked_then_expired_then_active) {
    const int64_t now = 1893456000;
    Device d = dev("k3x9", "iPhone");
    BOOST_TEST(status_name(device_status(d, now)) == std::string("active"));
    d.expires = now + 1;
    BOOST_TEST(status_name(device_status(d, now)) == std::string("active"));
    d.expires = now;  // expired from the instant devicepwExpires names
    BOOST_TEST(status_name(device_status(d, now)) == std::string("expired"));
    d.expires = now - 3600;
    BOOST_TEST(status_name(device_status(d, now)) == std::string("expired"));
    d.revoked = true;  // revocation wins over expiry
    BOOST_TEST(status_name(device_status(d, now)) == std::string("revoked"));
    d.expires.reset();
    BOOST_TEST(status_name(device_status(d, now)) == std::string("revoked"));
}

BOOST_AUTO_TEST_CASE(status_ignores_what_the_tool_cannot_know) {
    // Whether a device has a devicepwSecret is invisible to the tool (model.h): a device
    // entry as read, with nothing else set, is active.
    const Device d = device_from(entry("devicepwId=ab12,uid=a,dc=x", {{"devicepwid", {"ab12"}}}));
    BOOST_TEST(device_status(d, 0) == DeviceStatus::kActive);
}

BOOST_AUTO_TEST_CASE(select_by_id_or_label) {
    const std::vector<Device> all = {dev("k3x9", "iPhone"), dev("p8w2", "Outlook"), dev("ab12", "k3x9")};
    auto by = [&](const std::string &spec) { return select_device(all, spec); };

    auto s = by("p8w2");
    BOOST_TEST(s.outcome == DeviceSelection::kFound);
    BOOST_TEST(ids(s.matches) == std::vector<std::string>{"p8w2"});

    s = by("outLOOK");  // labels ignore ASCII case
    BOOST_TEST(s.outcome == DeviceSelection::kFound);
    BOOST_TEST(ids(s.matches) == std::vector<std::string>{"p8w2"});

    s = by("k3x9");  // an id wins over another device's label
    BOOST_TEST(s.outcome == DeviceSelection::kFound);
    BOOST_TEST(ids(s.matches) == std::vector<std::string>{"k3x9"});

    s = by("K3X9");  // ids are lower case: any other spelling can only be a label
    BOOST_TEST(s.outcome == DeviceSelection::kFound);
    BOOST_TEST(ids(s.matches) == std::vector<std::string>{"ab12"});
}

BOOST_AUTO_TEST_CASE(select_not_found) {
    const std::vector<Device> all = {dev("k3x9", "iPhone"), dev("p8w2", "Outlook")};
    for (const char *spec : {"zz99", "iPhone 2", "", "iphon"}) {
        const auto s = select_device(all, spec);
        BOOST_TEST(s.outcome == DeviceSelection::kNotFound, spec);
        BOOST_TEST(s.matches.empty(), spec);
    }
    BOOST_TEST(select_device({}, "k3x9").outcome == DeviceSelection::kNotFound);
}

BOOST_AUTO_TEST_CASE(select_ambiguous_label_lists_the_candidates_in_order) {
    const std::vector<Device> all = {dev("k3x9", "Laptop"), dev("p8w2", "Outlook"), dev("ab12", "laptop"),
                                     dev("cd34", "Laptop 2")};
    const auto s = select_device(all, "LAPTOP");
    BOOST_TEST(s.outcome == DeviceSelection::kAmbiguous);
    BOOST_TEST(ids(s.matches) == (std::vector<std::string>{"k3x9", "ab12"}));
    // The id still picks one of them.
    BOOST_TEST(select_device(all, "ab12").outcome == DeviceSelection::kFound);
}

BOOST_AUTO_TEST_CASE(devices_sort_oldest_first_then_by_id) {
    std::vector<Device> v = {dev("zz", "a", 300), dev("bb", "b", 100), dev("aa", "c", 300), dev("nn", "d")};
    sort_devices(v);
    // No createTimestamp counts as the oldest.
    BOOST_TEST(ids(v) == (std::vector<std::string>{"nn", "bb", "aa", "zz"}));
}

BOOST_AUTO_TEST_CASE(mailboxes_sort_by_address_ignoring_case_then_by_dn) {
    std::vector<Mailbox> v = {Mailbox{"Bob@example.com", Entry{"uid=b2,dc=x", {}}},
                              Mailbox{"alice@example.com", Entry{"uid=a,dc=x", {}}},
                              Mailbox{"bob@example.com", Entry{"uid=b1,dc=x", {}}},
                              Mailbox{"", Entry{"cn=noaddress,dc=x", {}}}};
    sort_mailboxes(v);
    std::vector<std::string> dns;
    for (const auto &m : v) dns.push_back(m.dn());
    BOOST_TEST(dns == (std::vector<std::string>{"cn=noaddress,dc=x", "uid=a,dc=x", "uid=b1,dc=x", "uid=b2,dc=x"}));
}

BOOST_AUTO_TEST_CASE(mailbox_users_and_classes) {
    const Mailbox m{"alice@example.com",
                    entry("uid=alice@example.com,dc=x",
                          {{"objectclass", {"inetOrgPerson", "DevicepwMailbox"}}, {"devicepwuser", {"uid=bob,dc=x"}}})};
    BOOST_TEST(m.users() == std::vector<std::string>{"uid=bob,dc=x"});
    BOOST_TEST(has_class(m.entry, "devicepwMailbox"));
    BOOST_TEST(!has_class(m.entry, "devicepwDevice"));
    BOOST_TEST(lower("AbC-Ü") == "abc-Ü");  // ASCII only
}

BOOST_AUTO_TEST_SUITE_END()
