// devicepw: the administrator's and user's command-line tool (devicepw(1)).
//
//   devicepw [--help] <command> [<subcommand>] [options] [arguments]
//
// main() initialises libsodium, runs the command (dispatch.cc) and reports what it threw:
// "devicepw: <what failed>", a hint where there is one, and the exit code of errors.h.
// Where the rest lives: tools/README.md.
#include <exception>
#include <iostream>

#include "commands.h"
#include "devicepw_core.h"
#include "errors.h"

int main(int argc, char **argv) {
    using namespace dpwtool;
    Context ctx;
    try {
        if (dpw_init() != DPW_OK) {
            std::cerr << "devicepw: libsodium failed to initialise\n";
            return kExitFailure;
        }
        return run(argc, argv, ctx);
    } catch (const ToolError &e) {
        std::cout.flush();
        std::cerr << "devicepw: " << e.what() << "\n";
        if (!e.hint.empty()) std::cerr << "  hint: " << e.hint << "\n";
        if (e.exit_code == kExitUsage)
            std::cerr << "Try \"devicepw " << (ctx.command.empty() ? "" : ctx.command + " ") << "--help\".\n";
        return e.exit_code;
    } catch (const std::exception &e) {
        std::cout.flush();
        std::cerr << "devicepw: " << e.what() << "\n";
        return kExitFailure;
    }
}
