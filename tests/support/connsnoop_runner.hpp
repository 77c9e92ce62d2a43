// Test support: the two things every tracing test starts — the binary under
// test, attached, and the stand-in metadata server inside a namespace.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {

// Runs connsnoop with `args` and returns once it says it is attached (a test
// failure is recorded when it never does).
ChildProcess start_connsnoop(std::vector<std::string> args);

// Runs tests/support/imds_standin.py in `ns`, serving `endpoints` (ADDR:PORT),
// and returns once it listens on all of them.
std::unique_ptr<ChildProcess> start_standin_server(const NetworkNamespace& ns, std::vector<std::string> endpoints);

}  // namespace connsnoop::testing
