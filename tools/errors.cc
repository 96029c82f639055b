// The exit code table that --help prints (the codes themselves are in errors.h).
#include "errors.h"

namespace dpwtool {

const char *exit_codes_help() {
    return "Exit codes:\n"
           "  0  success\n"
           "  1  other failure (a local problem, or a confirmation that was declined)\n"
           "  2  usage error (unknown option, missing argument, bad date or label)\n"
           "  3  not found (no such mailbox, device or person, or a name that matches several)\n"
           "  4  LDAP error (cannot connect, TLS or bind failed, unexpected result)\n"
           "  5  refused (by the server: not allowed, a device rule; or by the state: already\n"
           "     revoked, already a user)\n";
}

}  // namespace dpwtool
