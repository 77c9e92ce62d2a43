// `connsnoop linklocal`: the kernel's link-local counters, read every
// interval -> enriched -> grouped against the budget -> the full-screen
// view, a block or JSON record per interval, alerts, and metrics.
#pragma once

#include "cli/options.hpp"

namespace connsnoop {

// Exit codes as run_top_session: 0 success, 1 runtime error.
int run_linklocal_session(const Options& options);

}  // namespace connsnoop
