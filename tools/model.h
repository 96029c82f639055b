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
// The telemetry attributes (devicepwFailureCount, devicepwLastFailure) and
// devicepwHasSecret are operational: they are returned only when asked for by name.
inline const std::vector<std::string> kMailboxAttrs = {"objectClass", "mail",        "uid",
                                                       "cn",          "devicepwUser", "devicepwSuspended"};
inline const std::vector<std::string> kTelemetryAttrs = {"devicepwLastUsed", "devicepwFailureCount",
                                                         "devicepwLastFailure"};
inline const std::vector<std::string> kDeviceAttrs = {
    "devicepwId",       "devicepwLabel",   "devicepwOwner",        "devicepwExpires",     "devicepwRevoked",
    "devicepwRevokedAt", "devicepwService", "devicepwLastUsed",     "devicepwFailureCount", "devicepwLastFailure",
    "devicepwHasSecret", "createTimestamp"};

struct Mailbox {
    std::string address;  // as given, or the mail attribute (else uid) in listings
    Entry entry;
    const std::string &dn() const { return entry.dn; }
    std::vector<std::string> users() const { return entry.values("devicepwUser"); }
    // devicepwSuspended: TRUE (every device of the mailbox answers 49 until it is removed).
    bool suspended() const;
};

struct Device {
    std::string id, dn, label;
    std::optional<std::string> owner;                              // a DN
    std::optional<int64_t> created, last_used, expires, revoked_at;  // epoch seconds
    bool revoked = false;
    std::vector<std::string> services;   // devicepwService, lower case; empty = every service
    int64_t failures = 0;                 // devicepwFailureCount (summed over the servers read)
    std::optional<int64_t> last_failure;  // devicepwLastFailure, epoch seconds
    std::optional<bool> has_secret;       // devicepwHasSecret, when the server returns it
};

// A device read from its entry: the id from devicepwId (else the RDN, else "?"), times
// that do not parse as GeneralizedTime are left out, revoked when devicepwRevoked is TRUE,
// a devicepwFailureCount that is not a non-negative integer counts as 0, has_secret only
// when devicepwHasSecret is present.
Device device_from(const Entry &e);

// ---- telemetry (DESIGN.md, "Truth and telemetry") ----
//
// Last use and failures are written by whichever server served the bind, and are not
// replicated: each server knows only its own. Merged over servers: the latest last use,
// the sum of the failures, the latest failure.
struct Telemetry {
    std::optional<int64_t> last_used;
    int64_t failures = 0;
    std::optional<int64_t> last_failure;
};
Telemetry telemetry_of(const Device &d);
Telemetry merge_telemetry(const std::vector<Telemetry> &servers);
// Merges into each device of truth (one server's devices) the telemetry of the device
// with the same id in each of others (the devices other servers returned; a device that
// a server lacks adds nothing). truth keeps its order and everything but telemetry.
void merge_device_telemetry(std::vector<Device> &truth, const std::vector<std::vector<Device>> &others);

// ---- service scopes (DESIGN.md, "Service scopes") ----
//
// A service keyword: 1-32 characters of a-z, 0-9 and '-', starting with a letter.
// Returns nullptr when s is one, else what is wrong (for a usage error).
const char *service_problem(const std::string &s);
// The --service values as stored: ASCII lower case (the attribute ignores case),
// duplicates dropped, in the order given. Throws UsageError for a bad keyword.
std::vector<std::string> parse_services(const std::vector<std::string> &given);
// For tables: "all" when empty, else the keywords joined with ",".
std::string services_text(const std::vector<std::string> &services);

// What a device's password does now: revocation first, then expiry (expired from the
// instant devicepwExpires names).
//
// Then "no secret": a device entry without a generated secret (made with ldapadd, or left
// behind when device add could neither generate its password nor remove it again), known
// from devicepwHasSecret: FALSE. The tool cannot see devicepwSecret itself (the overlay
// hides it from everyone but the rootdn and the secret readers, in results and in every
// filter form), so from a server that does not return devicepwHasSecret such a device
// shows as active.
enum class DeviceStatus { kActive, kRevoked, kExpired, kNoSecret };
DeviceStatus device_status(const Device &d, int64_t now);
const char *status_name(DeviceStatus s);  // tables: "active", "revoked", "expired", "no secret"
const char *status_key(DeviceStatus s);   // JSON: "active", "revoked", "expired", "no-secret"

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

// One key a server holds, from the overlay's devicepwKey value "<id> <fingerprint>[ active]".
struct KeyInfo {
    std::string id, fingerprint;
    bool active = false;
};
std::optional<KeyInfo> parse_key_info(const std::string &value);
// What is wrong with the key sets of several servers (names[i] for sets[i]): a key id with
// different fingerprints, a key missing on some server (a stored hash naming it fails
// there), different or no active keys. Empty when they agree.
std::vector<std::string> key_problems(const std::vector<std::vector<KeyInfo>> &sets,
                                      const std::vector<std::string> &names);

// ASCII lower case (attribute names, object classes, labels, DNs in comparisons).
std::string lower(std::string s);
// Whether the entry has the object class oc (ignoring case).
bool has_class(const Entry &e, const std::string &oc);

}  // namespace dpwtool

#endif
