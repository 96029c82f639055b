// The directory model of the devicepw tool: mailboxes and devices as read from their
// entries, and the pure rules on them (a device's status, which device a command line
// names, the order of listings). Nothing here talks to the server; directory.h does.
#ifndef DEVICEPW_TOOLS_MODEL_H
#define DEVICEPW_TOOLS_MODEL_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ldap_client.h"

namespace dpwtool {

// The attributes read for a mailbox and for a device.
inline const std::vector<std::string> kMailboxAttrs = {"objectClass", "mail", "uid", "cn", "devicepwUser"};
inline const std::vector<std::string> kDeviceAttrs = {"devicepwId",       "devicepwLabel",   "devicepwOwner",
                                                      "devicepwExpires",  "devicepwRevoked", "devicepwRevokedAt",
                                                      "devicepwLastUsed", "createTimestamp"};

struct Mailbox {
    std::string address;  // as given, or the mail attribute (else uid) in listings
    Entry entry;
    const std::string &dn() const { return entry.dn; }
    std::vector<std::string> users() const { return entry.values("devicepwUser"); }
};

struct Device {
    std::string id, dn, label;
    std::optional<std::string> owner;                              // a DN
    std::optional<int64_t> created, last_used, expires, revoked_at;  // epoch seconds
    bool revoked = false;
};

// A device read from its entry: the id from devicepwId (else the RDN, else "?"), times
// that do not parse as GeneralizedTime are left out, revoked when devicepwRevoked is TRUE.
Device device_from(const Entry &e);

// What a device's password does now: revocation first, then expiry (expired from the
// instant devicepwExpires names).
//
// There is no "no secret yet" status: a device entry without devicepwSecret (made with
// ldapadd, or left behind when device add could neither generate its password nor remove
// it again) is shown as active. The tool cannot tell: the overlay hides devicepwSecret
// from everyone but the rootdn and the secret readers, in results and in every filter form
// (presence included), so for the devicepw-admins and the users who run the tool a device
// with a secret and one without look the same.
enum class DeviceStatus { kActive, kRevoked, kExpired };
DeviceStatus device_status(const Device &d, int64_t now);
const char *status_name(DeviceStatus s);  // "active", "revoked", "expired" (tables, JSON)

// Which device "ID|LABEL" on a command line names, among a mailbox's devices:
//  - the device whose id is spec (ids are lower case a-z0-9; an id wins over a label);
//  - else the one device whose label equals spec ignoring ASCII case;
//  - else none (kNotFound), or several with that label (kAmbiguous, in the given order).
struct DeviceSelection {
    enum Outcome { kFound, kNotFound, kAmbiguous };
    Outcome outcome = kNotFound;
    std::vector<Device> matches;  // kFound: the device; kAmbiguous: the candidates; kNotFound: none
};
DeviceSelection select_device(const std::vector<Device> &devices, const std::string &spec);

// Listing order: devices oldest first (createTimestamp; none counts as 0), then by id;
// mailboxes by address ignoring ASCII case, then by DN.
void sort_devices(std::vector<Device> &devices);
void sort_mailboxes(std::vector<Mailbox> &mailboxes);

// ASCII lower case (attribute names, object classes, labels, DNs in comparisons).
std::string lower(std::string s);
// Whether the entry has the object class oc (ignoring case).
bool has_class(const Entry &e, const std::string &oc);

}  // namespace dpwtool

#endif
