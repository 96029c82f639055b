// The directory as the devicepw commands see it: one connection (Ldap) with the
// Context's directory options, finding mailboxes by address, persons by DN or name, and a
// mailbox's devices. Every "not found" and "ambiguous" is a NotFound (exit 3) that shows
// the base and filter used and a hint.
#ifndef DEVICEPW_TOOLS_DIRECTORY_H
#define DEVICEPW_TOOLS_DIRECTORY_H

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "ldap_client.h"
#include "model.h"
#include "options.h"

namespace dpwtool {

// filter with every "%s" replaced by value, escaped for a filter (RFC 4515).
std::string fill_filter(const std::string &filter, const std::string &value);

class Directory {
public:
    // Connects and binds as ctx.conn (or conn) says (throws LdapError / ToolError).
    explicit Directory(Context &ctx) : ctx_(ctx), ldap_(ctx.conn) {}
    Directory(Context &ctx, const ConnOptions &conn) : ctx_(ctx), ldap_(conn) {}
    Ldap &ldap() { return ldap_; }

    // BASE from ldap.conf or LDAPBASE; else the server's one naming context (root DSE).
    // UsageError when there is none, or when the server has several (naming them).
    std::string base();
    std::string mailbox_base();    // --mailbox-base, else base()
    std::string people_base();     // --people-base, else base()
    std::string mailbox_parent();  // --mailbox-parent, else ou=mailboxes,<BASE>

    // The entries that the mailbox filter finds for address (any number); base and
    // filter are set to what was searched, for messages.
    std::vector<Entry> find_address(const std::string &address, std::string &base, std::string &filter);
    // The one mailbox entry for address (objectClass devicepwMailbox).
    Mailbox mailbox(const std::string &address);
    // A person given as a DN (must exist) or as a name found with the person filter;
    // returns the DN.
    std::string person(const std::string &who);
    // The mailbox's devices, in listing order (sort_devices).
    std::vector<Device> devices(const Mailbox &m);
    // The device of m that spec (an id or a label) names: select_device.
    Device device(const Mailbox &m, const std::string &spec);

private:
    Context &ctx_;
    Ldap ldap_;
    std::optional<std::string> base_;
};

// A server that could not be read, and why (the error's text).
struct ServerProblem {
    std::string uri, error;
};

// A mailbox and its devices, as device list and mailbox show present them. The truth
// (the mailbox and its devices) comes from the first server that answers (connects,
// binds and is reachable), in the order of ctx.servers; the telemetry (last use,
// failures) is read from every server and merged (merge_device_telemetry).
struct MailboxDevices {
    Mailbox mailbox;
    std::vector<Device> devices;
    std::vector<ServerProblem> unreachable;  // could not be connected to, bound to or searched
    std::vector<ServerProblem> missing;      // answered, but hold no entry for the mailbox
    std::vector<std::string> unreachable_uris() const;  // for JSON: "unreachable": [URI, ...]
};

// With one server (or none named: ldap.conf's), that server's mailbox and devices; an
// error fails the command. With several, the password is read once (-W, -y) and used
// for each; a server that cannot be read is reported in unreachable, and only when none
// can be read does the command fail (with the first server's error and the list).
// Errors that are answers (no such mailbox, insufficient access) come from the first
// server that answers and fail the command.
MailboxDevices read_devices(Context &ctx, const std::string &address);

// Text mode: one warning line on out for each server in unreachable and in missing.
void warn_servers(const MailboxDevices &md, std::ostream &out);

}  // namespace dpwtool

#endif
