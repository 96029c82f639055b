// devicepw keygen: a new line for the server's key file (no connection to the server).
#include <boost/program_options.hpp>
#include <sodium.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

#include "commands.h"
#include "devicepw_core.h"
#include "errors.h"

namespace po = boost::program_options;

namespace dpwtool {
namespace {

// Today's local date as yyyymmdd: a valid key id that sorts by age.
std::string today_id() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    char buf[16];
    if (localtime_r(&now, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y%m%d", &tm) != 8)
        throw std::runtime_error("cannot determine today's date");
    return buf;
}

int cmd_keygen(Context &, const Args &args) {
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
            opts, opts, po::positional_options_description(), args, vm, nullptr))
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

}  // namespace

const Command &keygen_command() {
    static const Command c{"keygen", "print a new line for the server's key file", cmd_keygen};
    return c;
}

}  // namespace dpwtool
