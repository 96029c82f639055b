// The devicepw commands: a command is a name, a one-line summary for --help and a
// function that parses its own options (options.h) and runs. Commands come in groups
// ("devicepw device add"), one file each: cmd_mailbox.cc, cmd_device.cc, cmd_user.cc;
// keygen (cmd_keygen.cc) stands alone. dispatch.cc picks the command from the command
// line. To add a command, write its function in its group's file and add a row to the
// group's table there.
#ifndef DEVICEPW_TOOLS_COMMANDS_H
#define DEVICEPW_TOOLS_COMMANDS_H

#include <span>

#include "options.h"

namespace dpwtool {

struct Command {
    const char *name;
    const char *summary;
    // Returns the exit code; reports failures by throwing ToolError (errors.h).
    int (*run)(Context &, const Args &);
};

struct Group {
    const char *name;
    const char *summary;
    std::span<const Command> commands;
};

const Group &mailbox_group();      // cmd_mailbox.cc: create, show, list, delete, suspend, resume
const Group &device_group();       // cmd_device.cc: add, list, revoke, rotate, rename, delete
const Group &user_group();         // cmd_user.cc: add, remove, list
const Command &keygen_command();   // cmd_keygen.cc
const Command &keys_command();     // cmd_keys.cc: each server's keys, and whether they agree

// Runs the command that argv names (dispatch.cc); returns the exit code. Throws
// ToolError (and std::exception) for main() to report; ctx.command is set to the command's
// name once it is known, for the "Try devicepw ... --help" line.
int run(int argc, char **argv, Context &ctx);

}  // namespace dpwtool

#endif
