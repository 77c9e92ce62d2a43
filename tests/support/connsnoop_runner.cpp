#include "connsnoop_runner.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

namespace connsnoop::testing {

using namespace std::chrono_literals;

ChildProcess start_connsnoop(std::vector<std::string> args) {
    ChildProcess tracer(connsnoop_command(std::move(args)));
    EXPECT_TRUE(tracer.wait_for_stderr("tracing TCP connects", 10s)) << tracer.err();
    return tracer;
}

std::vector<nlohmann::json> stop_and_parse(ChildProcess& tracer) {
    std::this_thread::sleep_for(300ms);  // let the last events reach the ring buffer consumer
    tracer.send_signal(SIGINT);
    EXPECT_EQ(tracer.wait(10s), 0) << tracer.err();
    std::vector<nlohmann::json> records;
    for (const auto& line : tracer.out_lines()) {
        auto record = nlohmann::json::parse(line, nullptr, false);
        EXPECT_FALSE(record.is_discarded()) << "not JSON: " << line;
        if (!record.is_discarded()) records.push_back(std::move(record));
    }
    return records;
}

std::unique_ptr<ChildProcess> start_standin_server(const NetworkNamespace& ns, std::vector<std::string> endpoints) {
    std::vector<std::string> command{"python3", support_dir() + "/imds_standin.py"};
    command.insert(command.end(), endpoints.begin(), endpoints.end());
    auto server = std::make_unique<ChildProcess>(ns.exec(std::move(command)));
    EXPECT_TRUE(server->wait_for_stdout("ready", 10s)) << server->err();
    return server;
}

}  // namespace connsnoop::testing
