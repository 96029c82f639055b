// The directory model of the devicepw tool (model.h): devices from entries, status,
// selection by id or label, listing order.
#include "model.h"

#include <sstream>

#include <set>

#include <map>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "devicepw_core.h"
#include "timeutil.h"

namespace dpwtool {

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool has_class(const Entry &e, const std::string &oc) {
    for (const auto &v : e.values("objectClass"))
        if (lower(v) == lower(oc)) return true;
    return false;
}

Device device_from(const Entry &e) {
    Device d;
    d.dn = e.dn;
    d.id = e.first("devicepwId").value_or(first_rdn_value(e.dn, "devicepwId").value_or("?"));
    d.label = e.first("devicepwLabel").value_or("");
    d.owner = e.first("devicepwOwner");
    auto t = [&](const char *a) -> std::optional<int64_t> {
        auto v = e.first(a);
        return v ? parse_gentime(*v) : std::nullopt;
    };
    d.created = t("createTimestamp");
    d.last_used = t("devicepwLastUsed");
    d.expires = t("devicepwExpires");
    d.revoked_at = t("devicepwRevokedAt");
    d.last_failure = t("devicepwLastFailure");
    auto r = e.first("devicepwRevoked");
    d.revoked = r && lower(*r) == "true";
    for (const auto &s : e.values("devicepwService")) {
        const std::string v = lower(s);
        if (std::find(d.services.begin(), d.services.end(), v) == d.services.end()) d.services.push_back(v);
    }
    if (auto f = e.first("devicepwFailureCount")) {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(f->data(), f->data() + f->size(), n);
        if (ec == std::errc() && end == f->data() + f->size() && n >= 0) d.failures = n;
    }
    if (auto h = e.first("devicepwHasSecret")) d.has_secret = lower(*h) == "true";
    return d;
}

bool Mailbox::suspended() const {
    auto v = entry.first("devicepwSuspended");
    return v && lower(*v) == "true";
}

Telemetry telemetry_of(const Device &d) { return Telemetry{d.last_used, d.failures, d.last_failure}; }

Telemetry merge_telemetry(const std::vector<Telemetry> &servers) {
    Telemetry m;
    auto latest = [](std::optional<int64_t> &into, const std::optional<int64_t> &t) {
        if (t && (!into || *t > *into)) into = t;
    };
    for (const auto &t : servers) {
        latest(m.last_used, t.last_used);
        latest(m.last_failure, t.last_failure);
        m.failures += std::max<int64_t>(t.failures, 0);
    }
    return m;
}

void merge_device_telemetry(std::vector<Device> &truth, const std::vector<std::vector<Device>> &others) {
    for (auto &d : truth) {
        std::vector<Telemetry> all = {telemetry_of(d)};
        for (const auto &server : others)
            for (const auto &o : server)
                if (o.id == d.id) {
                    all.push_back(telemetry_of(o));
                    break;
                }
        const Telemetry m = merge_telemetry(all);
        d.last_used = m.last_used;
        d.failures = m.failures;
        d.last_failure = m.last_failure;
    }
}

const char *service_problem(const std::string &s) {
    if (s.empty()) return "a service is 1-32 characters of a-z, 0-9 and '-', starting with a letter; this one is empty";
    if (s.size() > 32) return "a service is 1-32 characters of a-z, 0-9 and '-'; this one is longer";
    if (!(s[0] >= 'a' && s[0] <= 'z')) return "a service starts with a letter a-z (e.g. imap, pop3, smtp, submission)";
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "a service is made of a-z, 0-9 and '-' only (e.g. imap, pop3, smtp, submission, sieve)";
    return nullptr;
}

std::vector<std::string> parse_services(const std::vector<std::string> &given) {
    std::vector<std::string> out;
    for (const auto &g : given) {
        const std::string s = lower(g);
        if (const char *problem = service_problem(s)) throw UsageError("bad --service \"" + g + "\": " + problem);
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    return out;
}

std::string services_text(const std::vector<std::string> &services) {
    if (services.empty()) return "all";
    std::string out;
    for (const auto &s : services) out += (out.empty() ? "" : ",") + s;
    return out;
}

DeviceStatus device_status(const Device &d, int64_t now) {
    if (d.revoked) return DeviceStatus::kRevoked;
    if (d.expires && *d.expires <= now) return DeviceStatus::kExpired;
    if (d.has_secret && !*d.has_secret) return DeviceStatus::kNoSecret;
    return DeviceStatus::kActive;
}

const char *status_name(DeviceStatus s) {
    switch (s) {
    case DeviceStatus::kRevoked: return "revoked";
    case DeviceStatus::kExpired: return "expired";
    case DeviceStatus::kNoSecret: return "no secret";
    case DeviceStatus::kActive: break;
    }
    return "active";
}

const char *status_key(DeviceStatus s) {
    return s == DeviceStatus::kNoSecret ? "no-secret" : status_name(s);
}

DeviceSelection select_device(const std::vector<Device> &devices, const std::string &spec) {
    DeviceSelection s;
    for (const auto &d : devices)
        if (d.id == lower(spec) && dpw_id_valid(spec.data(), spec.size())) {
            s.outcome = DeviceSelection::kFound;
            s.matches = {d};
            return s;
        }
    for (const auto &d : devices)
        if (lower(d.label) == lower(spec)) s.matches.push_back(d);
    s.outcome = s.matches.empty()       ? DeviceSelection::kNotFound
                : s.matches.size() == 1 ? DeviceSelection::kFound
                                        : DeviceSelection::kAmbiguous;
    return s;
}

void sort_devices(std::vector<Device> &devices) {
    std::stable_sort(devices.begin(), devices.end(), [](const Device &a, const Device &b) {
        if (a.created != b.created) return a.created.value_or(0) < b.created.value_or(0);
        return a.id < b.id;
    });
}

void sort_mailboxes(std::vector<Mailbox> &mailboxes) {
    std::sort(mailboxes.begin(), mailboxes.end(), [](const Mailbox &a, const Mailbox &b) {
        return lower(a.address) != lower(b.address) ? lower(a.address) < lower(b.address) : a.dn() < b.dn();
    });
}

std::optional<KeyInfo> parse_key_info(const std::string &value) {
    std::istringstream in(value);
    KeyInfo k;
    std::string flag;
    if (!(in >> k.id >> k.fingerprint)) return std::nullopt;
    if (in >> flag) {
        if (flag != "active") return std::nullopt;
        k.active = true;
    }
    return k;
}

std::vector<std::string> key_problems(const std::vector<std::vector<KeyInfo>> &sets,
                                      const std::vector<std::string> &names) {
    std::vector<std::string> problems;
    std::map<std::string, std::map<std::string, std::vector<std::string>>> by_id;  // id -> fp -> servers
    std::set<std::string> actives;
    for (size_t i = 0; i < sets.size(); ++i) {
        const std::string &who = i < names.size() ? names[i] : std::to_string(i);
        std::string active;
        if (sets[i].empty()) problems.push_back(who + " shows no key (bind as an administrator)");
        for (const auto &k : sets[i]) {
            by_id[k.id][k.fingerprint].push_back(who);
            if (k.active) active = k.id;
        }
        if (!sets[i].empty()) actives.insert(active.empty() ? "(none)" : active);
    }
    for (const auto &[id, fps] : by_id) {
        if (fps.size() > 1) {
            std::string text = "key " + id + " differs between servers:";
            for (const auto &[fp, who] : fps) {
                text += " " + fp + " on";
                for (const auto &w : who) text += " " + w;
                text += ";";
            }
            text.pop_back();
            problems.push_back(text);
        }
        std::set<std::string> having;
        for (const auto &[fp, who] : fps) having.insert(who.begin(), who.end());
        for (size_t i = 0; i < sets.size(); ++i) {
            const std::string &who = i < names.size() ? names[i] : std::to_string(i);
            if (!sets[i].empty() && !having.count(who))
                problems.push_back("key " + id + " is missing on " + who +
                                   ": a device whose hash names it fails to bind there");
        }
    }
    if (actives.size() > 1) {
        std::string text = "the servers hash new secrets with different keys:";
        for (const auto &a : actives) text += " " + a;
        problems.push_back(text);
    }
    return problems;
}

}  // namespace dpwtool
