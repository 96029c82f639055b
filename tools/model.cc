// The directory model of the devicepw tool (model.h): devices from entries, status,
// selection by id or label, listing order.
#include "model.h"

#include <algorithm>
#include <cctype>

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
    auto r = e.first("devicepwRevoked");
    d.revoked = r && lower(*r) == "true";
    return d;
}

DeviceStatus device_status(const Device &d, int64_t now) {
    if (d.revoked) return DeviceStatus::kRevoked;
    if (d.expires && *d.expires <= now) return DeviceStatus::kExpired;
    return DeviceStatus::kActive;
}

const char *status_name(DeviceStatus s) {
    switch (s) {
    case DeviceStatus::kRevoked: return "revoked";
    case DeviceStatus::kExpired: return "expired";
    case DeviceStatus::kActive: break;
    }
    return "active";
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

}  // namespace dpwtool
