// The directory as the devicepw commands see it (directory.h).
#include "directory.h"

#include <iostream>

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
    if (base_) return *base_;
    std::string b = ldap_.default_base();
    if (b.empty()) {
        std::vector<std::string> contexts;
        try {
            contexts = ldap_.naming_contexts();
        } catch (const LdapError &e) {
            if (is_unreachable(e)) throw;
            // an unreadable root DSE: as if it named none
        }
        if (contexts.size() > 1) {
            std::string list;
            for (const auto &c : contexts) list += "\n  " + c;
            throw UsageError("no search base is configured, and the server " + ldap_.uri() + " has " +
                                 std::to_string(contexts.size()) + " naming contexts:" + list,
                             "pass --mailbox-base DN (and --people-base DN; --mailbox-parent DN for mailbox "
                             "create), or set BASE in ldap.conf or LDAPBASE.");
        }
        if (contexts.size() == 1) b = contexts.front();
    }
    if (b.empty())
        throw UsageError("no search base is configured, and the server's root DSE names no naming context",
                         "give --mailbox-base DN (and --people-base DN), or set BASE in ldap.conf or LDAPBASE.");
    base_ = b;
    return b;
}

std::string Directory::mailbox_base() { return ctx_.mailbox_base ? *ctx_.mailbox_base : base(); }

std::string Directory::people_base() { return ctx_.people_base ? *ctx_.people_base : base(); }

std::string Directory::mailbox_parent() {
    if (ctx_.mailbox_parent) return *ctx_.mailbox_parent;
    try {
        return "ou=mailboxes," + base();
    } catch (const UsageError &e) {
        throw UsageError(std::string(e.what()) + "\ndevicepw: so there is no parent DN for new mailboxes",
                         "give --mailbox-parent DN, or set BASE in ldap.conf (the default is ou=mailboxes,<BASE>).");
    }
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

MailboxDevices read_devices(Context &ctx, const std::string &address) {
    if (ctx.servers.size() <= 1) {
        Directory dir(ctx);
        Mailbox m = dir.mailbox(address);
        auto devices = dir.devices(m);
        return MailboxDevices{std::move(m), std::move(devices), {}, {}};
    }
    ConnOptions conn = ctx.conn;
    resolve_password(conn);
    std::optional<MailboxDevices> out;
    std::optional<LdapError> first_error;
    size_t truth = 0;
    std::vector<ServerProblem> unreachable;
    for (; truth < ctx.servers.size() && !out; ++truth) {
        ConnOptions c = conn;
        c.uri = ctx.servers[truth];
        bool connected = false;
        try {
            Directory dir(ctx, c);
            connected = true;
            Mailbox m = dir.mailbox(address);
            auto devices = dir.devices(m);
            out = MailboxDevices{std::move(m), std::move(devices), {}, {}};
        } catch (const LdapError &e) {
            // Not answering: no connection, no bind, or gone before the search ended.
            if (connected && !is_unreachable(e)) throw;
            unreachable.push_back({ctx.servers[truth], e.what()});
            if (!first_error) first_error = e;
        }
    }
    if (!out) {
        std::string list;
        for (const auto &p : unreachable) list += "\n  " + p.uri + ": " + p.error;
        throw ToolError(kExitLdap, "none of the " + std::to_string(ctx.servers.size()) + " servers could be read:" + list,
                        first_error ? first_error->hint : std::string());
    }
    // truth is now one past the server that answered; the ones before it failed.
    std::vector<std::vector<Device>> others;
    std::vector<std::string> attrs = {"devicepwId"};
    attrs.insert(attrs.end(), kTelemetryAttrs.begin(), kTelemetryAttrs.end());
    for (size_t i = truth; i < ctx.servers.size(); ++i) {
        ConnOptions c = conn;
        c.uri = ctx.servers[i];
        try {
            Ldap l(c);
            auto entries = l.search(out->mailbox.dn(), LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)", attrs,
                                    "reading the telemetry of " + out->mailbox.address + "'s devices on " +
                                        ctx.servers[i]);
            std::vector<Device> devs;
            for (const auto &e : entries) devs.push_back(device_from(e));
            others.push_back(std::move(devs));
        } catch (const LdapError &e) {
            if (e.rc == LDAP_NO_SUCH_OBJECT)
                out->missing.push_back({ctx.servers[i], "no entry " + out->mailbox.dn()});
            else
                unreachable.push_back({ctx.servers[i], e.what()});
        }
    }
    merge_device_telemetry(out->devices, others);
    out->unreachable = std::move(unreachable);
    return std::move(*out);
}

std::vector<std::string> MailboxDevices::unreachable_uris() const {
    std::vector<std::string> out;
    for (const auto &p : unreachable) out.push_back(p.uri);
    return out;
}

void warn_servers(const MailboxDevices &md, std::ostream &out) {
    for (const auto &p : md.unreachable)
        out << "devicepw: warning: could not read " << p.uri << " (" << p.error
            << "); the last uses and failures shown lack its telemetry\n";
    for (const auto &p : md.missing)
        out << "devicepw: warning: " << p.uri << " has " << p.error
            << " (not replicated there yet?); no telemetry from it\n";
}

}  // namespace dpwtool
