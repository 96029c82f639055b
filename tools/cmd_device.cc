// devicepw device add | list | revoke | rotate | rename | delete, and how a new
// password is shown (once: text, --quiet or --json).
#include <boost/program_options.hpp>
#include <sodium.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "devicepw_core.h"
#include "directory.h"
#include "errors.h"
#include "output.h"
#include "timeutil.h"

namespace po = boost::program_options;

namespace dpwtool {
namespace {

void print_secret(const Mailbox &m, const Device &d, const std::string &secret, bool rotated) {
    std::cout << (rotated ? "New password for device " : "Added device ") << d.id << " \"" << d.label << "\""
              << (rotated ? " of " : " to ") << m.address << ".\n\n"
              << "    " << secret << "\n\n"
              << "This password is shown only now and cannot be shown again. Enter it in the device\n"
              << "(as the password of " << m.address << ") and do not store it anywhere else.\n";
    if (rotated) std::cout << "The device's previous password no longer works.\n";
    if (d.expires) std::cout << "It stops working at " << local_time_zone(*d.expires) << ".\n";
}

void emit_secret(bool quiet, bool as_json, const Mailbox &m, const Device &d, const std::string &secret,
                 bool rotated) {
    if (quiet) {
        std::cout << secret << "\n";
    } else if (as_json) {
        json j;
        j["mailbox"] = mailbox_ref_json(m);
        j["device"] = device_json(d, now_epoch());
        j["secret"] = secret;
        print_json(j);
    } else {
        print_secret(m, d, secret, rotated);
    }
    std::cout.flush();
}

po::options_description secret_output_options(const char *title) {
    po::options_description d(title);
    d.add_options()("help,h", "show this help")
        ("quiet,q", "print only the password (for scripts)")
        ("json", "print the device and its password as JSON (see devicepw(1))");
    return d;
}

int cmd_device_add(Context &ctx, const Args &args) {
    po::options_description own = secret_output_options("device add options");
    own.add_options()
        ("label", po::value<std::string>()->value_name("TEXT"), "what the person calls the device (required)")
        ("owner", po::value<std::string>()->value_name("PERSON"),
         "the person the device belongs to, DN or uid (default: the one who adds it)")
        ("expires", po::value<std::string>()->value_name("DATE|DURATION"),
         "when the device stops working: 90d, 12h, 2w, 30min, 1y, YYYY-MM-DD (00:00 local), "
         "\"YYYY-MM-DD HH:MM\" (local; Z for UTC), YYYYMMDDHHMMSSZ")
        ("service", po::value<std::vector<std::string>>()->value_name("SERVICE"),
         "limit the device to this service (imap, pop3, submission, smtp, sieve, dav, ...); repeat for "
         "several; default: every service");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own,
        "devicepw device add ADDRESS --label TEXT [--owner PERSON] [--expires DATE|DURATION] [--service SERVICE]...",
        "Add a device to the mailbox and generate its password in one step. The password\n"
        "is printed once and cannot be shown again. If generating it fails, the device\n"
        "entry is removed again. With --service, the device works only for binds that name\n"
        "one of its services (devicepwService=SERVICE,<mailbox DN>, see slapo-devicepw(5));\n"
        "a service is 1-32 characters of a-z, 0-9 and '-', starting with a letter.\n",
        "device add", vm);
    if (!address) return 0;
    if (!vm.count("label")) throw UsageError("device add needs --label TEXT (what the person calls the device)");
    if (vm.count("quiet") && vm.count("json")) throw UsageError("--quiet and --json cannot be combined");
    const std::string label = vm["label"].as<std::string>();
    if (const char *problem = dpw_label_problem(label.data(), label.size()))
        throw UsageError("bad --label \"" + label + "\": " + problem);
    std::optional<int64_t> expires;
    if (vm.count("expires")) expires = parse_expires(vm["expires"].as<std::string>(), now_epoch());
    const std::vector<std::string> services =
        parse_services(vm.count("service") ? vm["service"].as<std::vector<std::string>>() : std::vector<std::string>{});

    Directory dir(ctx);
    Mailbox m = dir.mailbox(*address);
    std::optional<std::string> owner;
    if (vm.count("owner")) owner = dir.person(vm["owner"].as<std::string>());

    std::string id, dn;
    for (int attempt = 0;; ++attempt) {
        char buf[DPW_ID_MAX + 1];
        if (dpw_id_generate(buf) != DPW_OK) throw ToolError(kExitFailure, "cannot generate a device id");
        id = buf;
        dn = "devicepwId=" + id + "," + m.dn();
        AddAttrs attrs = {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}};
        if (owner) attrs.push_back({"devicepwOwner", {*owner}});
        if (expires) attrs.push_back({"devicepwExpires", {gentime(*expires)}});
        if (!services.empty()) attrs.push_back({"devicepwService", services});
        int rc = dir.ldap().add(dn, attrs, "adding device " + dn, {LDAP_ALREADY_EXISTS});
        if (rc == LDAP_SUCCESS) break;
        if (attempt >= 9)
            throw ToolError(kExitRefused, "adding a device to " + m.address + " failed: 10 generated ids were all taken",
                            "the mailbox has very many devices; delete the ones it no longer needs.");
    }
    std::string secret;
    try {
        secret = dir.ldap().passwd_generate(dn, "generating the password of device " + dn);
    } catch (const ToolError &e) {
        try {
            dir.ldap().del(dn, "removing the device entry " + dn + " again");
        } catch (const ToolError &d) {
            throw ToolError(e.exit_code,
                            std::string(e.what()) + "\ndevicepw: and " + d.what() +
                                "\ndevicepw: the device entry without a password is still there",
                            "delete it: ldapdelete -H " + dir.ldap().uri() + " ... '" + dn + "'");
        }
        throw ToolError(e.exit_code, std::string(e.what()) + "\ndevicepw: the device entry was removed again; nothing was added",
                        e.hint);
    }
    Device d;
    if (auto e = dir.ldap().read(dn, kDeviceAttrs, "reading device " + dn)) d = device_from(*e);
    else {
        d.id = id;
        d.dn = dn;
        d.label = label;
        d.owner = owner;
        d.expires = expires;
        d.services = services;
    }
    emit_secret(vm.count("quiet") > 0, vm.count("json") > 0, m, d, secret, false);
    sodium_memzero(secret.data(), secret.size());
    return 0;
}

// Options and positionals shared by device commands that name one device.
struct DeviceTarget {
    std::string address, device;
};

DeviceTarget device_target(const po::variables_map &vm, const char *cmd) {
    if (!vm.count("address") || !vm.count("device"))
        throw UsageError(std::string("device ") + cmd + " needs an ADDRESS and a device ID or LABEL");
    return DeviceTarget{vm["address"].as<std::string>(), vm["device"].as<std::string>()};
}

int cmd_device_list(Context &ctx, const Args &args) {
    po::options_description own("device list options");
    own.add_options()("help,h", "show this help")("json", "print JSON (see devicepw(1))");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own, "devicepw device list ADDRESS [--json] [-H URI]... [--servers URI,URI,...]",
        "List a mailbox's devices: id, label, owner, services, created, last used,\n"
        "failed binds, expires and status (active, revoked, expired, no secret). Dates in\n"
        "local time. Never a password.\n\n"
        "Last uses and failures are recorded by each server for itself and not replicated.\n"
        "Name every server (-H URI repeated, or --servers URI,URI,...): the devices come from\n"
        "the first that answers, and the latest last use, the sum of the failures and the\n"
        "latest failure over all of them are shown. Servers that cannot be read are\n"
        "reported (on standard error; \"unreachable\" in JSON); the exit status stays 0 as\n"
        "long as one answers.\n",
        "device list", vm);
    if (!address) return 0;
    const MailboxDevices md = read_devices(ctx, *address);
    const Mailbox &m = md.mailbox;
    const auto &devices = md.devices;
    const int64_t now = now_epoch();
    if (vm.count("json")) {
        json j;
        j["mailbox"] = mailbox_ref_json(m);
        j["devices"] = json::array();
        for (const auto &d : devices) j["devices"].push_back(device_json(d, now));
        j["unreachable"] = md.unreachable_uris();
        print_json(j);
        return 0;
    }
    std::cout.flush();
    warn_servers(md, std::cerr);
    if (devices.empty()) {
        std::cout << "Mailbox " << m.address << " has no devices.\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto &d : devices)
        rows.push_back({d.id, d.label, d.owner ? short_person(*d.owner) : "-", services_text(d.services),
                        d.created ? local_time(*d.created) : "-", d.last_used ? local_time(*d.last_used) : "never",
                        failures_text(d), d.expires ? local_time(*d.expires) : "never",
                        status_name(device_status(d, now))});
    print_table({"ID", "LABEL", "OWNER", "SERVICES", "CREATED", "LAST USED", "FAILURES", "EXPIRES", "STATUS"}, rows);
    return 0;
}

// Parses a command that names one device: the positionals ADDRESS, ID|LABEL (as
// "address", "device") and, when extra is given, a third one named extra; own plus the
// connection and directory options. False after --help.
bool parse_device_command(Context &ctx, const Args &args, const std::string &usage,
                          const char *details, po::options_description own, po::variables_map &vm,
                          const char *extra = nullptr) {
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options()).add_options()
        ("address", po::value<std::string>())("device", po::value<std::string>());
    po::positional_options_description pos;
    pos.add("address", 1).add("device", 1);
    if (extra) {
        all.add_options()(extra, po::value<std::string>());
        pos.add(extra, 1);
    }
    return parse_command_line(usage, own, all, pos, args, vm, &ctx, details);
}

// device revoke ADDRESS --all: every unrevoked device of the mailbox, after a confirmation
// that lists them (unless --yes). Goes on after a failure, then reports it.
int revoke_all(Context &ctx, const std::string &address, bool yes) {
    Directory dir(ctx);
    Mailbox m = dir.mailbox(address);
    std::vector<Device> targets;
    for (const auto &d : dir.devices(m))
        if (!d.revoked) targets.push_back(d);
    if (targets.empty()) {
        std::cout << "Mailbox " << m.address << " has no unrevoked devices: nothing to revoke.\n";
        return 0;
    }
    if (!yes) {
        std::string list;
        for (const auto &d : targets) list += "\n  " + d.id + "  " + d.label;
        if (!confirm("Revoke all " + std::to_string(targets.size()) + " unrevoked device(s) of " + m.address +
                     " for good?" + list + "\nRevocation cannot be undone.")) {
            std::cerr << "Nothing was revoked.\n";
            return kExitFailure;
        }
    }
    std::vector<std::string> failed;
    std::optional<ToolError> first;
    size_t done = 0;
    for (const auto &d : targets) {
        try {
            dir.ldap().modify(d.dn, {Mod{LDAP_MOD_REPLACE, "devicepwRevoked", {"TRUE"}}},
                              "revoking device " + d.id + " of " + m.address);
            std::cout << "Revoked device " << d.id << " \"" << d.label << "\".\n";
            ++done;
        } catch (const ToolError &e) {
            failed.push_back(d.id);
            if (!first) first = e;
        }
    }
    std::cout.flush();
    if (first) {
        std::string ids;
        for (const auto &id : failed) ids += " " + id;
        throw ToolError(first->exit_code,
                        std::string(first->what()) + "\ndevicepw: revoked " + std::to_string(done) + " of " +
                            std::to_string(targets.size()) + " devices of " + m.address + "; not revoked:" + ids,
                        first->hint);
    }
    std::cout << "Revoked all " << done << " device(s) of " << m.address << ": their passwords no longer work.\n";
    return 0;
}

int cmd_device_revoke(Context &ctx, const Args &args) {
    po::options_description own("device revoke options");
    own.add_options()("help,h", "show this help")
        ("all", "revoke every unrevoked device of the mailbox (asks first unless --yes)")
        ("yes", "with --all: do not ask for confirmation (revoking one device asks nothing)");
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "devicepw device revoke ADDRESS ID|LABEL | ADDRESS --all [--yes]",
                              "Revoke a device: its password stops working at once, for good.\n"
                              "A label that several devices share is refused; give the id.\n"
                              "--all revokes every device of the mailbox that is not revoked yet, after\n"
                              "asking (a line on standard input: y or yes) unless --yes.\n",
                              own, vm))
        return 0;
    if (vm.count("all")) {
        if (!vm.count("address")) throw UsageError("device revoke --all needs an ADDRESS");
        if (vm.count("device"))
            throw UsageError("device revoke --all takes no device: it revokes every device of the mailbox");
        return revoke_all(ctx, vm["address"].as<std::string>(), vm.count("yes") > 0);
    }
    DeviceTarget t = device_target(vm, "revoke");
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    if (d.revoked)
        throw ToolError(kExitRefused,
                        "device " + d.id + " \"" + d.label + "\" of " + m.address + " is already revoked" +
                            (d.revoked_at ? " (since " + local_time_zone(*d.revoked_at) + ")" : std::string()),
                        "revocation is final; to give the device access again, add a new device.");
    dir.ldap().modify(d.dn, {Mod{LDAP_MOD_REPLACE, "devicepwRevoked", {"TRUE"}}},
                      "revoking device " + d.id + " of " + m.address);
    std::cout << "Revoked device " << d.id << " \"" << d.label << "\" of " << m.address
              << ": its password no longer works.\n";
    return 0;
}

int cmd_device_rotate(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "devicepw device rotate ADDRESS ID|LABEL [--quiet|--json]",
                              "Give a device a new password, printed once; the old one stops working at once.\n",
                              secret_output_options("device rotate options"), vm))
        return 0;
    DeviceTarget t = device_target(vm, "rotate");
    if (vm.count("quiet") && vm.count("json")) throw UsageError("--quiet and --json cannot be combined");
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    if (d.revoked)
        throw ToolError(kExitRefused, "device " + d.id + " \"" + d.label + "\" of " + m.address + " is revoked",
                        "revocation is final: add a new device instead (devicepw device add " + m.address +
                            " --label TEXT).");
    std::string secret = dir.ldap().passwd_generate(d.dn, "generating a new password for device " + d.dn);
    emit_secret(vm.count("quiet") > 0, vm.count("json") > 0, m, d, secret, true);
    sodium_memzero(secret.data(), secret.size());
    return 0;
}

int cmd_device_rename(Context &ctx, const Args &args) {
    po::options_description own("device rename options");
    own.add_options()("help,h", "show this help");
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "devicepw device rename ADDRESS ID|LABEL NEW-LABEL",
                              "Change a device's label (its id and password stay the same).\n", own, vm,
                              "new-label"))
        return 0;
    DeviceTarget t = device_target(vm, "rename");
    if (!vm.count("new-label")) throw UsageError("device rename needs the NEW-LABEL");
    const std::string label = vm["new-label"].as<std::string>();
    if (const char *problem = dpw_label_problem(label.data(), label.size()))
        throw UsageError("bad label \"" + label + "\": " + problem);
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    dir.ldap().modify(d.dn, {Mod{LDAP_MOD_REPLACE, "devicepwLabel", {label}}},
                      "renaming device " + d.id + " of " + m.address);
    std::cout << "Renamed device " << d.id << " of " << m.address << ": \"" << d.label << "\" is now \"" << label
              << "\".\n";
    return 0;
}

int cmd_device_delete(Context &ctx, const Args &args) {
    po::options_description own("device delete options");
    own.add_options()("help,h", "show this help")("yes", "do not ask for confirmation");
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "devicepw device delete ADDRESS ID|LABEL [--yes]",
                              "Delete a device entry (revoked devices count against devicepw-max-devices until\n"
                              "deleted). Its password stops working at once. Asks first unless --yes.\n",
                              own, vm))
        return 0;
    DeviceTarget t = device_target(vm, "delete");
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    if (!vm.count("yes") && !confirm("Delete device " + d.id + " \"" + d.label + "\" of " + m.address + "?")) {
        std::cerr << "Nothing was deleted.\n";
        return kExitFailure;
    }
    dir.ldap().del(d.dn, "deleting device " + d.id + " of " + m.address);
    std::cout << "Deleted device " << d.id << " \"" << d.label << "\" of " << m.address << ".\n";
    return 0;
}

constexpr Command kDeviceCommands[] = {
    {"add", "add a device and print its new password once", cmd_device_add},
    {"list", "list a mailbox's devices and their status", cmd_device_list},
    {"revoke", "revoke a device, or --all of a mailbox's, for good", cmd_device_revoke},
    {"rotate", "give a device a new password (the old one dies at once)", cmd_device_rotate},
    {"rename", "change a device's label", cmd_device_rename},
    {"delete", "delete a device entry", cmd_device_delete},
};

}  // namespace

const Group &device_group() {
    static const Group g{"device", "add, list, revoke, rotate, rename and delete devices", kDeviceCommands};
    return g;
}

}  // namespace dpwtool
