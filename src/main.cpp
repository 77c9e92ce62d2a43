// connsnoop: parse the command line, run the session, exit with its code.
#include <cstdio>
#include <variant>

#include "app/trace_session.hpp"
#include "cli/options.hpp"

int main(int argc, char** argv) {
    using namespace connsnoop;
    const auto parsed = parse_command_line(argc, argv);
    if (const auto* info = std::get_if<InfoRequest>(&parsed)) {
        std::fputs(info->text.c_str(), stdout);
        return 0;
    }
    if (const auto* usage = std::get_if<UsageError>(&parsed)) {
        std::fprintf(stderr, "connsnoop: %s\n", usage->message.c_str());
        return 2;
    }
    return run_trace_session(std::get<Options>(parsed));
}
