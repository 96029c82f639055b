// devicepw: the administrator's and user's command-line tool.
//
//   devicepw [--help] <command> [options]
//
// Each command is one entry in kCommands: a name, a one-line summary and a function
// that parses its own options (Boost.Program_options) from the arguments after the
// command name. To add a command, write its function and add a row.
#include <boost/program_options.hpp>
#include <sodium.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "devicepw_core.h"

namespace po = boost::program_options;

namespace {

// Exit codes: 0 success, 1 the operation failed, 2 usage error.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

using Args = std::vector<std::string>;  // the arguments after the command name

// A usage problem: reported with a hint to --help, exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses a command's options; returns false when --help was given (and printed).
bool parse_command_line(const char *usage, const po::options_description &opts, const Args &args,
                        po::variables_map &vm) {
    try {
        po::store(po::command_line_parser(args).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error &e) {
        throw UsageError(e.what());
    }
    if (vm.count("help")) {
        std::cout << "Usage: " << usage << "\n\n" << opts;
        return false;
    }
    return true;
}

// Today's local date as yyyymmdd: a valid key id that sorts by age.
std::string today_id() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    char buf[16];
    if (localtime_r(&now, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y%m%d", &tm) != 8)
        throw std::runtime_error("cannot determine today's date");
    return buf;
}

int cmd_keygen(const Args &args) {
    po::options_description opts("keygen options");
    opts.add_options()
        ("help,h", "show this help")
        ("id", po::value<std::string>()->value_name("ID"),
         "key id: 1-16 characters of a-z and 0-9, unique in the key file (default: today's date, yyyymmdd)");
    po::variables_map vm;
    if (!parse_command_line(
            "devicepw keygen [--id ID]\n\n"
            "Print a new key file line \"<id> <64 hex digits>\" (32 random bytes) on standard output.\n"
            "Append it to the key file (the last line hashes new secrets; every line verifies):\n"
            "  devicepw keygen >> /etc/ldap/devicepw.keys   (mode 600, owned by slapd's user)",
            opts, args, vm))
        return 0;
    const std::string id = vm.count("id") ? vm["id"].as<std::string>() : today_id();
    if (!dpw_id_valid(id.data(), id.size()))
        throw UsageError("invalid key id \"" + id + "\": it must be 1 to 16 characters of a-z and 0-9");
    char line[DPW_KEYID_MAX + 67];
    if (dpw_key_generate_line(id.c_str(), line, sizeof line) != DPW_OK)
        throw std::runtime_error("cannot generate a key");
    const bool written = std::fputs(line, stdout) >= 0 && std::fflush(stdout) == 0;
    sodium_memzero(line, sizeof line);
    if (!written) throw std::runtime_error("cannot write the key line");
    return 0;
}

struct Command {
    const char *name;
    const char *summary;
    int (*run)(const Args &);
};

constexpr Command kCommands[] = {
    {"keygen", "print a new line for the server's key file", cmd_keygen},
};

void print_help(std::ostream &out, const po::options_description &global) {
    out << "Usage: devicepw [--help] <command> [options]\n\n"
           "Device passwords for OpenLDAP mailboxes.\n\n"
           "Commands:\n";
    for (const Command &c : kCommands) {
        std::string name = c.name;
        name.resize(12, ' ');
        out << "  " << name << c.summary << "\n";
    }
    out << "\nRun \"devicepw <command> --help\" for a command's options.\n\n" << global;
}

int run(int argc, char **argv) {
    po::options_description global("Global options");
    global.add_options()("help,h", "show this help");
    po::options_description all;
    all.add(global).add_options()
        ("command", po::value<std::string>())
        ("args", po::value<Args>());
    po::positional_options_description pos;
    pos.add("command", 1).add("args", -1);

    po::variables_map vm;
    po::parsed_options parsed = [&] {
        try {
            return po::command_line_parser(argc, argv).options(all).positional(pos).allow_unregistered().run();
        } catch (const po::error &e) {
            throw UsageError(e.what());
        }
    }();
    po::store(parsed, vm);
    if (!vm.count("command")) {
        if (vm.count("help")) {
            print_help(std::cout, global);
            return 0;
        }
        print_help(std::cerr, global);
        return kExitUsage;
    }
    // Everything after the command name belongs to the command, options included.
    Args rest = po::collect_unrecognized(parsed.options, po::include_positional);
    const std::string name = vm["command"].as<std::string>();
    if (!rest.empty() && rest.front() == name) rest.erase(rest.begin());
    if (vm.count("help")) rest.insert(rest.begin(), "--help");  // "devicepw --help keygen"
    for (const Command &c : kCommands)
        if (name == c.name) return c.run(rest);
    throw UsageError("unknown command \"" + name + "\"");
}

}  // namespace

int main(int argc, char **argv) {
    try {
        if (dpw_init() != DPW_OK) {
            std::cerr << "devicepw: libsodium failed to initialise\n";
            return kExitFailure;
        }
        return run(argc, argv);
    } catch (const UsageError &e) {
        std::cerr << "devicepw: " << e.what() << "\nTry \"devicepw --help\".\n";
        return kExitUsage;
    } catch (const std::exception &e) {
        std::cerr << "devicepw: " << e.what() << "\n";
        return kExitFailure;
    }
}
