// The devicepw tool's directory model (tools/model.h): devices read from entries, their
// status, which device "ID|LABEL" names, and the listing order. No server involved.
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "errors.h"
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
    // devicepwSecret itself is invisible to the tool (model.h): a device entry read from a
    // server that does not return devicepwHasSecret, with nothing else set, is active.
    const Device d = device_from(entry("devicepwId=ab12,uid=a,dc=x", {{"devicepwid", {"ab12"}}}));
    BOOST_TEST(!d.has_secret.has_value());
    BOOST_TEST(device_status(d, 0) == DeviceStatus::kActive);
}

BOOST_AUTO_TEST_CASE(status_with_has_secret) {
    const int64_t now = 1893456000;
    Device d = device_from(entry("devicepwId=ab12,uid=a,dc=x", {{"devicepwhassecret", {"FALSE"}}}));
    BOOST_TEST((d.has_secret == std::optional<bool>(false)));
    BOOST_TEST(device_status(d, now) == DeviceStatus::kNoSecret);
    BOOST_TEST(status_name(DeviceStatus::kNoSecret) == std::string("no secret"));  // tables
    BOOST_TEST(status_key(DeviceStatus::kNoSecret) == std::string("no-secret"));   // JSON
    for (auto s : {DeviceStatus::kActive, DeviceStatus::kRevoked, DeviceStatus::kExpired})
        BOOST_TEST(status_key(s) == std::string(status_name(s)));
    // Revocation and expiry say more than a missing secret.
    d.expires = now;
    BOOST_TEST(device_status(d, now) == DeviceStatus::kExpired);
    d.revoked = true;
    BOOST_TEST(device_status(d, now) == DeviceStatus::kRevoked);
    // TRUE (any case): active.
    const Device s = device_from(entry("devicepwId=ab12,uid=a,dc=x", {{"devicepwhassecret", {"true"}}}));
    BOOST_TEST((s.has_secret == std::optional<bool>(true)));
    BOOST_TEST(device_status(s, now) == DeviceStatus::kActive);
}

BOOST_AUTO_TEST_CASE(device_from_reads_services_and_telemetry) {
    const Device d = device_from(entry("devicepwId=ab12,uid=a,dc=x", {{"devicepwservice", {"IMAP", "smtp", "imap"}},
                                                                     {"devicepwfailurecount", {"12"}},
                                                                     {"devicepwlastfailure", {"20300101000000Z"}}}));
    BOOST_TEST(d.services == (std::vector<std::string>{"imap", "smtp"}));  // lower case, once each
    BOOST_TEST(d.failures == 12);
    BOOST_TEST(d.last_failure.value_or(0) == 1893456000);
    for (const char *bad : {"-1", "x", "", "3 ", "99999999999999999999999"})
        BOOST_TEST(device_from(entry("devicepwId=ab12,dc=x", {{"devicepwfailurecount", {bad}}})).failures == 0, bad);
    BOOST_TEST(device_from(entry("devicepwId=ab12,dc=x", {})).services.empty());
}

BOOST_AUTO_TEST_CASE(service_keywords) {
    for (const char *ok : {"imap", "pop3", "submission", "smtp", "sieve", "dav", "a", "x-1", "a-",
                           "abcdefghijklmnopqrstuvwxyz012345"})  // 32
        BOOST_TEST(service_problem(ok) == nullptr, ok);
    for (const char *bad : {"", "1imap", "-imap", "IMAP", "im ap", "imap,smtp", "imap.", "imäp", "im_ap",
                            "abcdefghijklmnopqrstuvwxyz0123456"})  // 33
        BOOST_TEST(service_problem(bad) != nullptr, bad);
    // As given on the command line: lower-cased, duplicates dropped, order kept.
    BOOST_TEST(parse_services({"SMTP", "imap", "smtp"}) == (std::vector<std::string>{"smtp", "imap"}));
    BOOST_TEST(parse_services({}).empty());
    for (const char *bad : {"", "1x", "imap,smtp", "a b"}) {
        try {
            parse_services({"imap", bad});
            BOOST_ERROR("--service \"" << bad << "\" was accepted");
        } catch (const UsageError &e) {
            BOOST_TEST(e.exit_code == kExitUsage);
            BOOST_TEST(std::string(e.what()).find("--service") != std::string::npos, e.what());
        }
    }
    BOOST_TEST(services_text({}) == "all");
    BOOST_TEST(services_text({"imap", "smtp"}) == "imap,smtp");
}

BOOST_AUTO_TEST_CASE(telemetry_merges_latest_use_sum_of_failures_latest_failure) {
    const Telemetry a{1000, 2, 900}, b{3000, 5, std::nullopt}, c{std::nullopt, 0, 950}, none{};
    const Telemetry m = merge_telemetry({a, b, c});
    BOOST_TEST(m.last_used.value_or(0) == 3000);
    BOOST_TEST(m.failures == 7);
    BOOST_TEST(m.last_failure.value_or(0) == 950);
    const Telemetry z = merge_telemetry({none, none});
    BOOST_TEST(!z.last_used.has_value());
    BOOST_TEST(z.failures == 0);
    BOOST_TEST(!z.last_failure.has_value());
    BOOST_TEST(!merge_telemetry({}).last_used.has_value());
    // The order of the servers does not matter.
    const Telemetry r = merge_telemetry({c, b, a});
    BOOST_TEST((r.last_used == m.last_used));
    BOOST_TEST(r.failures == m.failures);
    BOOST_TEST((r.last_failure == m.last_failure));
}

BOOST_AUTO_TEST_CASE(device_telemetry_merges_by_id_and_keeps_the_truth) {
    auto tele = [](const std::string &id, std::optional<int64_t> used, int64_t failures,
                   std::optional<int64_t> failed, const std::string &label = "other") {
        Device d = dev(id, label);
        d.last_used = used;
        d.failures = failures;
        d.last_failure = failed;
        return d;
    };
    std::vector<Device> truth = {tele("k3x9", 100, 1, 50, "iPhone"), tele("p8w2", std::nullopt, 0, std::nullopt, "CRM")};
    truth[1].revoked = true;
    const std::vector<std::vector<Device>> others = {
        {tele("p8w2", 400, 3, 300), tele("zz99", 999, 9, 999)},  // zz99: not in the truth, ignored
        {},                                                       // a server without the devices
        {tele("k3x9", 50, 4, 200)}};
    merge_device_telemetry(truth, others);
    BOOST_TEST(ids(truth) == (std::vector<std::string>{"k3x9", "p8w2"}));
    BOOST_TEST(truth[0].label == "iPhone");  // truth only from the first server
    BOOST_TEST(truth[0].last_used.value_or(0) == 100);
    BOOST_TEST(truth[0].failures == 5);
    BOOST_TEST(truth[0].last_failure.value_or(0) == 200);
    BOOST_TEST(truth[1].label == "CRM");
    BOOST_TEST(truth[1].revoked);
    BOOST_TEST(truth[1].last_used.value_or(0) == 400);
    BOOST_TEST(truth[1].failures == 3);
    BOOST_TEST(truth[1].last_failure.value_or(0) == 300);
}

BOOST_AUTO_TEST_CASE(mailbox_suspension) {
    auto suspended = [](std::map<std::string, std::vector<std::string>> attrs) {
        return Mailbox{"a", entry("uid=a,dc=x", std::move(attrs))}.suspended();
    };
    BOOST_TEST(!suspended({}));
    BOOST_TEST(suspended({{"devicepwsuspended", {"TRUE"}}}));
    BOOST_TEST(suspended({{"devicepwsuspended", {"true"}}}));
    BOOST_TEST(!suspended({{"devicepwsuspended", {"FALSE"}}}));
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

BOOST_AUTO_TEST_SUITE(tool_keys_model)

BOOST_AUTO_TEST_CASE(key_values_parse) {
    auto k = dpwtool::parse_key_info("k1 0123456789abcdef active");
    BOOST_REQUIRE(k.has_value());
    BOOST_TEST(k->id == "k1");
    BOOST_TEST(k->fingerprint == "0123456789abcdef");
    BOOST_TEST(k->active);
    BOOST_TEST(!dpwtool::parse_key_info("k1 0123456789abcdef").value().active);
    BOOST_TEST(!dpwtool::parse_key_info("k1").has_value());
    BOOST_TEST(!dpwtool::parse_key_info("k1 abc current").has_value());
}

BOOST_AUTO_TEST_CASE(key_sets_compared) {
    using dpwtool::KeyInfo;
    std::vector<KeyInfo> a = {{"k1", "aaaa", false}, {"k2", "bbbb", true}};
    BOOST_TEST(dpwtool::key_problems({a, a}, {"A", "B"}).empty());
    std::vector<KeyInfo> b = {{"k1", "aaaa", true}};
    auto p = dpwtool::key_problems({a, b}, {"A", "B"});
    BOOST_TEST_REQUIRE(p.size() == 2u);
    BOOST_TEST(p[0].find("key k2 is missing on B") == 0u, p[0]);
    BOOST_TEST(p[1].find("different keys: k1 k2") != std::string::npos, p[1]);
    std::vector<KeyInfo> c = {{"k1", "cccc", false}, {"k2", "bbbb", true}};
    p = dpwtool::key_problems({a, c}, {"A", "B"});
    BOOST_TEST_REQUIRE(p.size() == 1u);
    BOOST_TEST(p[0] == "key k1 differs between servers: aaaa on A; cccc on B");
    p = dpwtool::key_problems({a, {}}, {"A", "B"});
    BOOST_TEST(p.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
