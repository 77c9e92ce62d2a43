#include "connsnoop_runner.hpp"

#include <gtest/gtest.h>

namespace connsnoop::testing {

using namespace std::chrono_literals;

ChildProcess start_connsnoop(std::vector<std::string> args) {
    args.insert(args.begin(), connsnoop_binary());
    ChildProcess tracer(std::move(args));
    EXPECT_TRUE(tracer.wait_for_stderr("tracing TCP connects", 10s)) << tracer.err();
    return tracer;
}

std::unique_ptr<ChildProcess> start_standin_server(const NetworkNamespace& ns, std::vector<std::string> endpoints) {
    std::vector<std::string> command{"python3", support_dir() + "/imds_standin.py"};
    command.insert(command.end(), endpoints.begin(), endpoints.end());
    auto server = std::make_unique<ChildProcess>(ns.exec(std::move(command)));
    EXPECT_TRUE(server->wait_for_stdout("ready", 10s)) << server->err();
    return server;
}

}  // namespace connsnoop::testing
