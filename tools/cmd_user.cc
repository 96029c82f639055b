// devicepw user add | remove | list: the people (devicepwUser) who use a mailbox.
#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "directory.h"
#include "errors.h"
#include "output.h"

namespace po = boost::program_options;

namespace dpwtool {
namespace {

bool parse_user_command(Context &ctx, const Args &args, const std::string &usage, const char *details,
                        bool with_person, bool with_json, po::variables_map &vm) {
    po::options_description own("options");
    own.add_options()("help,h", "show this help");
    if (with_json) own.add_options()("json", "print JSON (see devicepw(1))");
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options()).add_options()("address", po::value<std::string>());
    po::positional_options_description pos;
    pos.add("address", 1);
    if (with_person) {
        all.add_options()("person", po::value<std::string>());
        pos.add("person", 1);
    }
    if (!parse_command_line(usage, own, all, pos, args, vm, &ctx, details)) return false;
    if (!vm.count("address") || (with_person && !vm.count("person")))
        throw UsageError(with_person ? "this command needs an ADDRESS and a PERSON (DN or uid)"
                                     : "this command needs an ADDRESS");
    return true;
}

int cmd_user_add(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_user_command(ctx, args, "devicepw user add ADDRESS PERSON",
                            "Make PERSON (a DN, or a uid) a user of the mailbox (adds a devicepwUser value).\n",
                            true, false, vm))
        return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(vm["address"].as<std::string>());
    const std::string who = dir.person(vm["person"].as<std::string>());
    for (const auto &u : m.users())
        if (same_dn(u, who))
            throw ToolError(kExitRefused, who + " is already a user of " + m.address,
                            "see the users with: devicepw user list " + m.address);
    dir.ldap().modify(m.dn(), {Mod{LDAP_MOD_ADD, "devicepwUser", {who}}},
                      "adding user " + who + " to mailbox " + m.address);
    std::cout << "Added user " << who << " to mailbox " << m.address << ".\n";
    return 0;
}

int cmd_user_remove(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_user_command(ctx, args, "devicepw user remove ADDRESS PERSON",
                            "Remove PERSON (a DN, or a uid) from the mailbox's users. A DN is removed even\n"
                            "when its entry no longer exists.\n",
                            true, false, vm))
        return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(vm["address"].as<std::string>());
    const std::string spec = vm["person"].as<std::string>();
    auto users = m.users();
    std::optional<std::string> value;
    if (looks_like_dn(spec)) {
        for (const auto &u : users)
            if (same_dn(u, spec)) value = u;
    } else {
        std::optional<std::string> who;
        try {
            who = dir.person(spec);
        } catch (const NotFound &) {
            // The person may be gone: match the users' own uid=... RDNs.
        }
        for (const auto &u : users) {
            if (who ? same_dn(u, *who) : lower(first_rdn_value(u, "uid").value_or("")) == lower(spec)) value = u;
        }
    }
    if (!value)
        throw NotFound(spec + " is not a user of " + m.address, "see the users with: devicepw user list " + m.address);
    dir.ldap().modify(m.dn(), {Mod{LDAP_MOD_DELETE, "devicepwUser", {*value}}},
                      "removing user " + *value + " from mailbox " + m.address);
    std::cout << "Removed user " << *value << " from mailbox " << m.address << ".\n";
    return 0;
}

int cmd_user_list(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_user_command(ctx, args, "devicepw user list ADDRESS [--json]",
                            "List the mailbox's users (its devicepwUser values).\n", false, true, vm))
        return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(vm["address"].as<std::string>());
    auto users = m.users();
    std::sort(users.begin(), users.end(), [](const std::string &a, const std::string &b) { return lower(a) < lower(b); });
    if (vm.count("json")) {
        json j;
        j["mailbox"] = mailbox_ref_json(m);
        j["users"] = json::array();
        for (const auto &u : users) {
            json x;
            x["dn"] = u;
            auto uid = first_rdn_value(u, "uid");
            x["uid"] = uid ? json(*uid) : json(nullptr);
            j["users"].push_back(x);
        }
        print_json(j);
        return 0;
    }
    if (users.empty()) {
        std::cout << "Mailbox " << m.address << " has no users.\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto &u : users) rows.push_back({first_rdn_value(u, "uid").value_or("-"), u});
    print_table({"UID", "DN"}, rows);
    return 0;
}

constexpr Command kUserCommands[] = {
    {"add", "make a person a user of a mailbox", cmd_user_add},
    {"remove", "remove a person from a mailbox's users", cmd_user_remove},
    {"list", "list a mailbox's users", cmd_user_list},
};

}  // namespace

const Group &user_group() {
    static const Group g{"user", "add, remove and list the people who use a mailbox", kUserCommands};
    return g;
}

}  // namespace dpwtool
