// connsnoop: parse the command line, run the session, exit with its code.
#include <cstdio>
#include <exception>
#include <variant>

#include "app/linklocal_session.hpp"
#include "app/top_session.hpp"
#include "app/trace_session.hpp"
#include "cli/options.hpp"

// An exception that reaches here (out of memory) ends the run with one line, not an abort.
int main(int argc, char** argv) try {
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
    const auto& options = std::get<Options>(parsed);
    switch (options.mode) {
        case SessionMode::top:
            return run_top_session(options);
        case SessionMode::linklocal:
            return run_linklocal_session(options);
        case SessionMode::stream:
            break;
    }
    return run_trace_session(options);
} catch (const std::exception& error) {
    std::fprintf(stderr, "connsnoop: error: %s\n", error.what());
    return 1;
} catch (...) {
    std::fputs("connsnoop: error: unexpected exception\n", stderr);
    return 1;
}
