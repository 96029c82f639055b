// Dispatch (commands.h): the top-level and group --help, and finding the command that
// the command line names. The connection and directory options may come before the
// command name too; the command parses everything after its name.
#include <boost/program_options.hpp>

#include <array>
#include <iostream>
#include <string>

#include "commands.h"
#include "errors.h"

namespace po = boost::program_options;

namespace dpwtool {
namespace {

// The groups in --help order.
std::array<const Group *, 3> groups() { return {&mailbox_group(), &device_group(), &user_group()}; }

std::string pad(std::string s, size_t n) {
    if (s.size() < n) s.resize(n, ' ');
    return s + " ";
}

void print_help(std::ostream &out) {
    out << "Usage: devicepw [--help] <command> [<subcommand>] [options] [arguments]\n\n"
           "Device passwords for OpenLDAP mailboxes (slapo-devicepw(5)).\n\n"
           "Commands:\n";
    for (const Group *g : groups())
        for (const Command &c : g->commands)
            out << "  " << pad(std::string(g->name) + " " + c.name, 16) << c.summary << "\n";
    for (const Command *c : {&keygen_command(), &keys_command()})
        out << "  " << pad(c->name, 16) << c->summary << "\n";
    out << "\nRun \"devicepw <command> <subcommand> --help\" for a command's options.\n"
           "Connection options (-H URI, -D DN, -w/-W/-y FILE, -x, -Y MECH, -Z/-ZZ) work as in\n"
           "ldap-utils, with defaults from ldap.conf and .ldaprc. See devicepw(1).\n\n"
        << exit_codes_help();
}

void print_group_help(std::ostream &out, const Group &g) {
    out << "Usage: devicepw " << g.name << " <subcommand> [options] [arguments]\n\n" << "Subcommands:\n";
    for (const Command &c : g.commands) out << "  " << pad(c.name, 10) << c.summary << "\n";
    out << "\nRun \"devicepw " << g.name << " <subcommand> --help\" for its options.\n";
}

}  // namespace

int run(int argc, char **argv, Context &ctx) {
    po::options_description global("Global options");
    global.add_options()("help,h", "show this help");
    po::options_description all;
    all.add(global).add(connection_options()).add(directory_options()).add_options()
        ("command", po::value<std::string>())("args", po::value<Args>());
    po::positional_options_description pos;
    pos.add("command", 1).add("args", -1);

    po::variables_map vm;
    po::parsed_options parsed = [&] {
        try {
            return po::command_line_parser(preprocess(argc, argv)).options(all).positional(pos).allow_unregistered().run();
        } catch (const po::error &e) {
            throw UsageError(e.what());
        }
    }();
    try {
        po::store(parsed, vm);
    } catch (const po::error &e) {
        throw UsageError(e.what());
    }
    apply_environment(ctx);
    apply_options(vm, ctx);
    if (!vm.count("command")) {
        if (vm.count("help")) {
            print_help(std::cout);
            return 0;
        }
        print_help(std::cerr);
        return kExitUsage;
    }
    // Everything unrecognised after the command name belongs to the command.
    Args rest;
    for (const auto &o : parsed.options)
        if (o.unregistered || o.position_key >= 0) rest.insert(rest.end(), o.original_tokens.begin(), o.original_tokens.end());
    const std::string name = vm["command"].as<std::string>();
    if (!rest.empty() && rest.front() == name) rest.erase(rest.begin());
    const bool help = vm.count("help") > 0;
    for (const Command *single : {&keygen_command(), &keys_command()}) {
        if (name != single->name) continue;
        ctx.command = name;
        if (help) rest.insert(rest.begin(), "--help");
        return single->run(ctx, rest);
    }
    for (const Group *gp : groups()) {
        const Group &g = *gp;
        if (name != g.name) continue;
        if (rest.empty() || rest.front().rfind("-", 0) == 0) {
            print_group_help(help ? std::cout : std::cerr, g);
            return help ? 0 : kExitUsage;
        }
        const std::string sub = rest.front();
        rest.erase(rest.begin());
        if (help) rest.insert(rest.begin(), "--help");
        for (const Command &c : g.commands) {
            if (sub == c.name) {
                ctx.command = std::string(g.name) + " " + c.name;
                return c.run(ctx, rest);
            }
        }
        ctx.command = g.name;
        throw UsageError("unknown subcommand \"" + std::string(g.name) + " " + sub + "\"");
    }
    throw UsageError("unknown command \"" + name + "\"");
}

}  // namespace dpwtool
