// The directory as the devicepw commands see it: one connection (Ldap) with the
// Context's directory options, finding mailboxes by address, persons by DN or name, and a
// mailbox's devices. Every "not found" and "ambiguous" is a NotFound (exit 3) that shows
// the base and filter used and a hint.
#ifndef DEVICEPW_TOOLS_DIRECTORY_H
#define DEVICEPW_TOOLS_DIRECTORY_H

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
    // Connects and binds as ctx.conn says (throws LdapError / ToolError).
    explicit Directory(Context &ctx) : ctx_(ctx), ldap_(ctx.conn) {}
    Ldap &ldap() { return ldap_; }

    // BASE from ldap.conf or LDAPBASE; UsageError when there is none.
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
};

}  // namespace dpwtool

#endif
