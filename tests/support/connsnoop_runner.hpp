// Test support: the two things every tracing test starts — the binary under
// test, attached, and the stand-in metadata server inside a namespace.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {

// Runs connsnoop_command(args) (so: only the test's own namespaces) and
// returns once it says it is attached (a test failure is recorded when it
// never does).
ChildProcess start_connsnoop(std::vector<std::string> args);

// Lets the last events reach the consumer, stops `tracer` with SIGINT (it
// must exit 0) and returns every line of its stdout parsed as JSON (a line
// that is not JSON is a test failure).
std::vector<nlohmann::json> stop_and_parse(ChildProcess& tracer);

// Runs tests/support/imds_standin.py in `ns`, serving `endpoints` (ADDR:PORT),
// and returns once it listens on all of them.
std::unique_ptr<ChildProcess> start_standin_server(const NetworkNamespace& ns, std::vector<std::string> endpoints);

}  // namespace connsnoop::testing
