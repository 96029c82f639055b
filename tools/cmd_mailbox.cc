// devicepw mailbox create | show | list | delete | suspend | resume.
#include <boost/program_options.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "directory.h"
#include "errors.h"
#include "output.h"
#include "timeutil.h"

namespace po = boost::program_options;

namespace dpwtool {
namespace {

int cmd_mailbox_create(Context &ctx, const Args &args) {
    po::options_description own("mailbox create options");
    own.add_options()("help,h", "show this help")
        ("name", po::value<std::string>()->value_name("TEXT"), "cn and sn of a new entry (default: the address)");
    po::variables_map vm;
    const auto address_arg = parse_address_command(
        ctx, args, own, "devicepw mailbox create ADDRESS [--name TEXT] [--mailbox-parent DN]",
        "Create the mailbox ADDRESS, with no password (its devices get their own).\n"
        "A new entry is uid=ADDRESS,<mailbox parent> with objectClass inetOrgPerson and\n"
        "devicepwMailbox, uid and mail ADDRESS, cn and sn TEXT. When the mailbox filter\n"
        "already finds one entry for ADDRESS that is not a mailbox, objectClass\n"
        "devicepwMailbox is added to that entry instead.\n",
        "mailbox create", vm);
    if (!address_arg) return 0;
    const std::string address = *address_arg;
    const std::string name = vm.count("name") ? vm["name"].as<std::string>() : address;
    Directory dir(ctx);
    std::string base, filter;
    auto found = dir.find_address(address, base, filter);
    if (found.size() > 1) {
        std::string list;
        for (const auto &e : found) list += "\n  " + e.dn;
        throw NotFound("address " + address + " is ambiguous: " + std::to_string(found.size()) + " entries match " +
                           filter + " under " + base + ":" + list,
                       "make the search more specific with --mailbox-filter or --mailbox-base.");
    }
    if (found.size() == 1) {
        const Entry &e = found.front();
        if (has_class(e, "devicepwMailbox"))
            throw ToolError(kExitRefused, address + " is already a mailbox: " + e.dn,
                            "see it with: devicepw mailbox show " + address);
        dir.ldap().modify(e.dn, {Mod{LDAP_MOD_ADD, "objectClass", {"devicepwMailbox"}}},
                          "making " + e.dn + " a mailbox");
        std::cout << "Made the existing entry " << e.dn << " the mailbox " << address << ".\n";
        return 0;
    }
    const std::string parent = dir.mailbox_parent();
    const std::string dn = make_rdn("uid", address) + "," + parent;
    try {
        dir.ldap().add(dn,
                       {{"objectClass", {"inetOrgPerson", "devicepwMailbox"}},
                        {"uid", {address}},
                        {"mail", {address}},
                        {"cn", {name}},
                        {"sn", {name}}},
                       "adding mailbox " + dn);
    } catch (const LdapError &e) {
        if (e.rc == LDAP_NO_SUCH_OBJECT)
            throw ToolError(kExitNotFound, e.what(),
                            "the parent " + parent + " does not exist: create it, or choose another with "
                            "--mailbox-parent DN (or DEVICEPW_MAILBOX_PARENT).");
        throw;
    }
    std::cout << "Created mailbox " << address << ": " << dn << "\n"
              << "It has no password. Add a device with: devicepw device add " << address << " --label TEXT\n";
    return 0;
}

int cmd_mailbox_show(Context &ctx, const Args &args) {
    po::options_description own("mailbox show options");
    own.add_options()("help,h", "show this help")("json", "print JSON (see devicepw(1))");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own, "devicepw mailbox show ADDRESS [--json] [-H URI]... [--servers URI,URI,...]",
        "Show a mailbox: its DN, whether it is suspended, its users and its devices. With\n"
        "several servers, last uses are merged over all of them as in device list.\n",
        "mailbox show", vm);
    if (!address) return 0;
    const MailboxDevices md = read_devices(ctx, *address);
    const Mailbox &m = md.mailbox;
    const auto &devices = md.devices;
    const int64_t now = now_epoch();
    if (vm.count("json")) {
        json j = mailbox_ref_json(m);
        j["suspended"] = m.suspended();
        j["users"] = m.users();
        j["devices"] = json::array();
        for (const auto &d : devices) j["devices"].push_back(device_json(d, now));
        j["unreachable"] = md.unreachable_uris();
        print_json(j);
        return 0;
    }
    std::cout.flush();
    warn_servers(md, std::cerr);
    std::cout << "Mailbox:  " << m.address << "\nDN:       " << m.dn() << "\n";
    if (m.suspended())
        std::cout << "Status:   SUSPENDED: none of its devices works (devicepw mailbox resume " << m.address
                  << ")\n";
    else
        std::cout << "Status:   not suspended\n";
    std::cout << "Users:    ";
    auto users = m.users();
    if (users.empty()) std::cout << "none\n";
    for (size_t i = 0; i < users.size(); ++i) std::cout << (i ? "          " : "") << users[i] << "\n";
    int active = 0;
    for (const auto &d : devices) active += device_status(d, now) == DeviceStatus::kActive;
    std::cout << "Devices:  " << devices.size() << " (" << active << " active)\n";
    if (!devices.empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const auto &d : devices)
            rows.push_back({d.id, d.label, services_text(d.services),
                            d.last_used ? local_time(*d.last_used) : "never", status_name(device_status(d, now))});
        std::cout << "\n";
        print_table({"ID", "LABEL", "SERVICES", "LAST USED", "STATUS"}, rows);
    }
    return 0;
}

int cmd_mailbox_list(Context &ctx, const Args &args) {
    po::options_description own("mailbox list options");
    own.add_options()("help,h", "show this help")("json", "print JSON (see devicepw(1))")
        ("user", po::value<std::string>()->value_name("PERSON"), "only the mailboxes PERSON (DN or uid) is a user of");
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options());
    po::positional_options_description pos;
    po::variables_map vm;
    if (!parse_command_line("devicepw mailbox list [--user PERSON] [--json]", own, all, pos, args, vm, &ctx,
                            "List the mailboxes (entries with objectClass devicepwMailbox) under the mailbox base.\n"))
        return 0;
    Directory dir(ctx);
    const std::string base = dir.mailbox_base();
    std::string filter = "(objectClass=devicepwMailbox)";
    std::optional<std::string> user;
    if (vm.count("user")) {
        user = dir.person(vm["user"].as<std::string>());
        filter = "(&" + filter + "(devicepwUser=" + filter_escape(*user) + "))";
    }
    auto entries = dir.ldap().search(base, LDAP_SCOPE_SUBTREE, filter, kMailboxAttrs,
                                     "listing mailboxes with " + filter + " under " + base);
    auto devs = dir.ldap().search(base, LDAP_SCOPE_SUBTREE, "(objectClass=devicepwDevice)", {"1.1"},
                                  "counting devices under " + base);
    std::map<std::string, int> count;
    for (const auto &d : devs) {
        auto comma = d.dn.find(',');
        if (comma != std::string::npos) ++count[lower(d.dn.substr(comma + 1))];
    }
    std::vector<Mailbox> boxes;
    for (auto &e : entries) {
        std::string address = e.first("mail").value_or(e.first("uid").value_or(""));
        boxes.push_back(Mailbox{address, e});
    }
    sort_mailboxes(boxes);
    if (vm.count("json")) {
        json j;
        j["mailboxes"] = json::array();
        for (const auto &m : boxes) {
            json x = mailbox_ref_json(m);
            if (m.address.empty()) x["address"] = nullptr;
            x["suspended"] = m.suspended();
            x["users"] = m.users();
            x["devices"] = count[lower(m.dn())];
            j["mailboxes"].push_back(x);
        }
        print_json(j);
        return 0;
    }
    if (boxes.empty()) {
        std::cout << "No mailboxes" << (user ? " for " + *user : std::string()) << " under " << base << ".\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto &m : boxes)
        rows.push_back({m.address.empty() ? "-" : m.address, std::to_string(count[lower(m.dn())]),
                        std::to_string(m.users().size()), m.dn()});
    print_table({"ADDRESS", "DEVICES", "USERS", "DN"}, rows);
    return 0;
}

int cmd_mailbox_delete(Context &ctx, const Args &args) {
    // -y is the password file in ldap-utils: here only --yes is accepted for confirmation.
    po::options_description own_long("mailbox delete options");
    own_long.add_options()("help,h", "show this help")("yes", "do not ask for confirmation");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own_long, "devicepw mailbox delete ADDRESS [--yes]",
        "Delete the mailbox entry and all its devices. Asks first unless --yes.\n", "mailbox delete", vm);
    if (!address) return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(*address);
    auto devices = dir.devices(m);
    if (!vm.count("yes") &&
        !confirm("Delete mailbox " + m.address + " (" + m.dn() + ") and its " + std::to_string(devices.size()) +
                 " device(s)? This cannot be undone.")) {
        std::cerr << "Nothing was deleted.\n";
        return kExitFailure;
    }
    for (const auto &d : devices) dir.ldap().del(d.dn, "deleting device " + d.id + " of " + m.address);
    dir.ldap().del(m.dn(), "deleting mailbox " + m.dn());
    std::cout << "Deleted mailbox " << m.address << " (" << m.dn() << ") and its " << devices.size()
              << " device(s).\n";
    return 0;
}

// mailbox suspend | resume: devicepwSuspended TRUE replaced, or deleted.
int suspend_or_resume(Context &ctx, const Args &args, bool suspend) {
    po::options_description own(suspend ? "mailbox suspend options" : "mailbox resume options");
    own.add_options()("help,h", "show this help");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own, suspend ? "devicepw mailbox suspend ADDRESS" : "devicepw mailbox resume ADDRESS",
        suspend ? "Suspend a mailbox: every one of its devices answers invalid credentials (49)\n"
                  "until the mailbox is resumed (devicepwSuspended: TRUE). Unlike revocation, this\n"
                  "is reversible, and the devices keep their passwords. Only administrators may\n"
                  "suspend or resume; the mailbox's people cannot lift it.\n"
                : "Resume a suspended mailbox: its devices work again with the passwords they had\n"
                  "(removes devicepwSuspended).\n",
        suspend ? "mailbox suspend" : "mailbox resume", vm);
    if (!address) return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(*address);
    if (suspend) {
        if (m.suspended())
            throw ToolError(kExitRefused, "mailbox " + m.address + " is already suspended",
                            "resume it with: devicepw mailbox resume " + m.address);
        dir.ldap().modify(m.dn(), {Mod{LDAP_MOD_REPLACE, "devicepwSuspended", {"TRUE"}}},
                          "suspending mailbox " + m.address);
        std::cout << "Suspended mailbox " << m.address << ": none of its devices works until it is resumed\n"
                  << "(devicepw mailbox resume " << m.address << ").\n";
        return 0;
    }
    if (!m.suspended())
        throw ToolError(kExitRefused, "mailbox " + m.address + " is not suspended",
                        "see it with: devicepw mailbox show " + m.address);
    dir.ldap().modify(m.dn(), {Mod{LDAP_MOD_DELETE, "devicepwSuspended", {}}}, "resuming mailbox " + m.address);
    std::cout << "Resumed mailbox " << m.address << ": its devices work again.\n";
    return 0;
}

int cmd_mailbox_suspend(Context &ctx, const Args &args) { return suspend_or_resume(ctx, args, true); }
int cmd_mailbox_resume(Context &ctx, const Args &args) { return suspend_or_resume(ctx, args, false); }

constexpr Command kMailboxCommands[] = {
    {"create", "create a mailbox (it needs no password)", cmd_mailbox_create},
    {"show", "show a mailbox, its users and its devices", cmd_mailbox_show},
    {"list", "list mailboxes (--user PERSON: those PERSON uses)", cmd_mailbox_list},
    {"delete", "delete a mailbox and its devices (asks first unless --yes)", cmd_mailbox_delete},
    {"suspend", "stop every device of a mailbox until it is resumed", cmd_mailbox_suspend},
    {"resume", "let a suspended mailbox's devices work again", cmd_mailbox_resume},
};

}  // namespace

const Group &mailbox_group() {
    static const Group g{"mailbox", "create, show, list, delete, suspend and resume mailboxes", kMailboxCommands};
    return g;
}

}  // namespace dpwtool
