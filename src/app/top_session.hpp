// `connsnoop top`: collect -> enrich -> aggregate -> the full-screen view on a
// terminal, or a summary block / JSON interval record every --interval.
#pragma once

#include "cli/options.hpp"

namespace connsnoop {

// Exit codes as run_trace_session: 0 success, 1 runtime error.
int run_top_session(const Options& options);

}  // namespace connsnoop
