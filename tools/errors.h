// Errors of the devicepw tool and the exit codes they map to.
//
// Every error says what failed and, where there is one, how to fix it (the hint).
#ifndef DEVICEPW_TOOLS_ERRORS_H
#define DEVICEPW_TOOLS_ERRORS_H

#include <stdexcept>
#include <string>

namespace dpwtool {

// Exit codes, documented in --help and devicepw(1).
enum Exit : int {
    kExitOk = 0,
    kExitFailure = 1,   // anything else: a local problem, a declined confirmation
    kExitUsage = 2,     // bad command line: unknown option, bad date, bad label, missing argument
    kExitNotFound = 3,  // no such mailbox, device or person, or a name that matches several
    kExitLdap = 4,      // cannot connect, TLS or bind failed, or an unexpected LDAP result
    kExitRefused = 5,   // the server refused the change (not allowed, a device rule), or the
                        // change contradicts the current state (already revoked, already a user)
};

const char *exit_codes_help();  // the table for --help (errors.cc)

struct ToolError : std::runtime_error {
    ToolError(int code, const std::string &what, std::string hint = "")
        : std::runtime_error(what), exit_code(code), hint(std::move(hint)) {}
    int exit_code;
    std::string hint;
};

// A usage problem: reported with a hint to --help, exit code 2.
struct UsageError : ToolError {
    explicit UsageError(const std::string &what, std::string hint = "")
        : ToolError(kExitUsage, what, std::move(hint)) {}
};

struct NotFound : ToolError {
    explicit NotFound(const std::string &what, std::string hint = "")
        : ToolError(kExitNotFound, what, std::move(hint)) {}
};

}  // namespace dpwtool

#endif
