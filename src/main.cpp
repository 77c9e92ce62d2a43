// connsnoop: parse the command line, run the session, exit with its code.
#include <cstdio>
#include <variant>

#include "app/trace_session.hpp"
#include "cli/options.hpp"
#include "output/escape.hpp"

int main(int argc, char** argv) {
    using namespace connsnoop;
    const auto parsed = parse_command_line(argc, argv);
    if (const auto* info = std::get_if<InfoRequest>(&parsed)) {
        std::fputs(info->text.c_str(), stdout);
        return 0;
    }
    if (const auto* usage = std::get_if<UsageError>(&parsed)) {
        // The message quotes the bad value: escaped, it stays one line whatever its bytes.
        std::fprintf(stderr, "connsnoop: %s\n", escape_for_terminal(usage->message).c_str());
        return 2;
    }
    return run_trace_session(std::get<Options>(parsed));
}
