// The directory as the devicepw commands see it (directory.h).
#include "directory.h"

#include "errors.h"
#include "timeutil.h"

namespace dpwtool {

std::string fill_filter(const std::string &filter, const std::string &value) {
    std::string out, esc = filter_escape(value);
    for (size_t i = 0; i < filter.size(); ++i) {
        if (filter[i] == '%' && i + 1 < filter.size() && filter[i + 1] == 's') {
            out += esc;
            ++i;
        } else {
            out += filter[i];
        }
    }
    return out;
}

std::string Directory::base() {
    std::string b = ldap_.default_base();
    if (b.empty())
        throw UsageError("no search base is configured",
                         "give --mailbox-base DN (and --people-base DN), or set BASE in ldap.conf or LDAPBASE.");
    return b;
}

std::string Directory::mailbox_base() { return ctx_.mailbox_base ? *ctx_.mailbox_base : base(); }

std::string Directory::people_base() { return ctx_.people_base ? *ctx_.people_base : base(); }

std::string Directory::mailbox_parent() {
    if (ctx_.mailbox_parent) return *ctx_.mailbox_parent;
    std::string b = ldap_.default_base();
    if (b.empty())
        throw UsageError("no parent DN for new mailboxes is configured",
                         "give --mailbox-parent DN, or set BASE in ldap.conf (the default is ou=mailboxes,<BASE>).");
    return "ou=mailboxes," + b;
}

std::vector<Entry> Directory::find_address(const std::string &address, std::string &base, std::string &filter) {
    base = mailbox_base();
    filter = fill_filter(ctx_.mailbox_filter.value_or(kDefaultMailboxFilter), address);
    return ldap_.search(base, LDAP_SCOPE_SUBTREE, filter, kMailboxAttrs,
                        "searching for mailbox " + address + " with " + filter + " under " + base);
}

Mailbox Directory::mailbox(const std::string &address) {
    std::string base, filter;
    auto found = find_address(address, base, filter);
    if (found.empty())
        throw NotFound("no mailbox " + address + ": nothing matches " + filter + " under " + base,
                       "check the address; the search is set by --mailbox-base and --mailbox-filter "
                       "(or DEVICEPW_MAILBOX_BASE / DEVICEPW_MAILBOX_FILTER); create one with "
                       "devicepw mailbox create " + address + ".");
    if (found.size() > 1) {
        std::string list;
        for (const auto &e : found) list += "\n  " + e.dn;
        throw NotFound("mailbox " + address + " is ambiguous: " + std::to_string(found.size()) + " entries match " +
                           filter + " under " + base + ":" + list,
                       "make the search more specific with --mailbox-filter or --mailbox-base.");
    }
    if (!has_class(found.front(), "devicepwMailbox"))
        throw NotFound(found.front().dn + " (found for " + address + " with " + filter + " under " + base +
                           ") is not a mailbox: it has no objectClass devicepwMailbox",
                       "make it one with: devicepw mailbox create " + address);
    return Mailbox{address, found.front()};
}

std::string Directory::person(const std::string &who) {
    if (looks_like_dn(who)) {
        auto e = ldap_.read(who, {"1.1"}, "reading person " + who);
        if (!e) throw NotFound("no entry " + who, "give an existing DN, or a uid.");
        return e->dn;
    }
    const std::string b = people_base();
    const std::string f = fill_filter(ctx_.person_filter.value_or(kDefaultPersonFilter), who);
    auto found = ldap_.search(b, LDAP_SCOPE_SUBTREE, f, {"1.1"}, "searching for person " + who + " with " + f +
                                                                     " under " + b);
    if (found.empty())
        throw NotFound("no person " + who + ": nothing matches " + f + " under " + b,
                       "give the person's DN, or set the search with --people-base and --person-filter.");
    if (found.size() > 1) {
        std::string list;
        for (const auto &e : found) list += "\n  " + e.dn;
        throw NotFound("person " + who + " is ambiguous: " + std::to_string(found.size()) + " entries match " + f +
                           " under " + b + ":" + list,
                       "give the person's DN instead.");
    }
    return found.front().dn;
}

std::vector<Device> Directory::devices(const Mailbox &m) {
    auto entries = ldap_.search(m.dn(), LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)", kDeviceAttrs,
                                "listing the devices of " + m.address);
    std::vector<Device> out;
    for (const auto &e : entries) out.push_back(device_from(e));
    sort_devices(out);
    return out;
}

Device Directory::device(const Mailbox &m, const std::string &spec) {
    const DeviceSelection s = select_device(devices(m), spec);
    if (s.outcome == DeviceSelection::kFound) return s.matches.front();
    if (s.outcome == DeviceSelection::kNotFound)
        throw NotFound("mailbox " + m.address + " has no device with id or label \"" + spec + "\"",
                       "see its devices with: devicepw device list " + m.address);
    std::string list;
    const int64_t now = now_epoch();
    for (const auto &d : s.matches)
        list += "\n  " + d.id + "  " + d.label + "  (" + status_name(device_status(d, now)) +
                (d.created ? ", created " + local_time(*d.created) : std::string()) + ")";
    throw NotFound("label \"" + spec + "\" is ambiguous: " + std::to_string(s.matches.size()) + " devices of " +
                       m.address + " have it:" + list,
                   "give the device's id instead.");
}

}  // namespace dpwtool
