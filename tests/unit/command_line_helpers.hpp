// Shared by the command-line unit tests: parse a command line as main() would.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "cli/options.hpp"

namespace connsnoop::cli_testing {

inline ParsedCommandLine parse(std::vector<const char*> args) {
    args.insert(args.begin(), "connsnoop");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

// The options of a command line that must parse; a usage error fails the test.
inline Options parse_ok(std::vector<const char*> args) {
    auto parsed = parse(std::move(args));
    if (auto* error = std::get_if<UsageError>(&parsed)) ADD_FAILURE() << error->message;
    return std::get<Options>(parsed);
}

// The usage error's message; empty when the command line parsed.
inline std::string usage_error(std::vector<const char*> args) {
    auto parsed = parse(std::move(args));
    const auto* error = std::get_if<UsageError>(&parsed);
    return error ? error->message : "";
}

}  // namespace connsnoop::cli_testing
