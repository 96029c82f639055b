// The devicepw tool's options: what a command runs with (Context), the connection and
// directory options that every directory command accepts, and the Boost.Program_options
// wiring shared by all commands (parsing, --help, the DEVICEPW_* environment).
//
// Precedence: the environment first, then the options before the command name, then the
// command's own command line (a later value overrides an earlier one).
#ifndef DEVICEPW_TOOLS_OPTIONS_H
#define DEVICEPW_TOOLS_OPTIONS_H

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

#include "ldap_client.h"

namespace dpwtool {

using Args = std::vector<std::string>;  // the arguments after the (sub)command name

// Everything a command needs besides its own options.
struct Context {
    ConnOptions conn;
    // The servers that -H (repeated) and --servers name, in order, without repeats; empty:
    // the one from ldap.conf. Commands that read telemetry read it from each of them
    // (directory.h, read_devices); every other command uses the first that answers
    // (conn.uri holds them all, as libldap's list of URIs).
    std::vector<std::string> servers;
    // Directory options; unset: the defaults below, or BASE from ldap.conf.
    std::optional<std::string> mailbox_base, mailbox_filter, mailbox_parent, people_base, person_filter;
    std::string command;  // "device add", for messages
};

inline constexpr const char *kDefaultMailboxFilter = "(mail=%s)";
inline constexpr const char *kDefaultPersonFilter = "(uid=%s)";

// -H (repeatable) --servers -D -w -W -y -x -Y -U -X -R -Z --require-starttls --timeout.
boost::program_options::options_description connection_options();
// --mailbox-base --mailbox-filter --mailbox-parent --people-base --person-filter.
boost::program_options::options_description directory_options();

// Fills ctx from vm for every connection and directory option that vm holds.
// Throws UsageError for a --timeout that is not positive.
void apply_options(const boost::program_options::variables_map &vm, Context &ctx);

// Environment: DEVICEPW_MAILBOX_BASE -> --mailbox-base, ... for the directory options, and
// DEVICEPW_BINDDN, DEVICEPW_PASSWORD_FILE, DEVICEPW_SERVERS (only these names).
void apply_environment(Context &ctx);

// The URIs of a --servers value: separated by commas (or white space), each trimmed,
// empty ones dropped.
std::vector<std::string> split_servers(const std::string &list);
// -H values, then the --servers values, without repeats (the first kept).
std::vector<std::string> server_list(const std::vector<std::string> &uris, const std::string &servers);

// argv[1..] as the parser wants it: "-ZZ" (two -Z in ldap-utils) becomes
// --require-starttls, since Program_options wants one meaning per option; everything
// from "--" on is passed as it is.
Args preprocess(int argc, char **argv);

// Parses a command's options (all, with the positionals pos) into vm. When --help is
// given, prints the usage, details, the visible options (and, with ctx, the connection
// and directory options) and the exit codes, and returns false. Otherwise applies the
// connection and directory options to *ctx (when given) and returns true.
bool parse_command_line(const std::string &usage, const boost::program_options::options_description &visible,
                        const boost::program_options::options_description &all,
                        const boost::program_options::positional_options_description &pos, const Args &args,
                        boost::program_options::variables_map &vm, Context *ctx, const char *details = nullptr);

// A command whose one positional argument is a mailbox ADDRESS: adds the connection
// and directory options to own, parses, and returns the address (nullopt after --help).
// name ("mailbox show") is for the message when the address is missing.
std::optional<std::string> parse_address_command(Context &ctx, const Args &args,
                                                 const boost::program_options::options_description &own,
                                                 const std::string &usage, const char *details,
                                                 const std::string &name, boost::program_options::variables_map &vm);

}  // namespace dpwtool

#endif
