// Wires the layers for one run: collect -> enrich -> output, until a stop
// condition; returns the process exit code.
#pragma once

#include "cli/options.hpp"

namespace connsnoop {

// Exit codes: 0 success (also when the reader of stdout went away), 1 runtime error.
int run_trace_session(const Options& options);

}  // namespace connsnoop
