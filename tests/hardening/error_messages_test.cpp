// Errors that quote what the user gave stay one escaped line plus a hint.
#include <gtest/gtest.h>

#include <algorithm>

#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

struct QuotedValue {
    std::string option;
    std::string expected_message;
};

class RuntimeErrorTest : public ::testing::TestWithParam<QuotedValue> {};

TEST_P(RuntimeErrorTest, IsOneEscapedLinePlusAHintAndExitCode1) {
    const auto result = run_command({connsnoop_binary(), GetParam().option, "/nonexistent\x1b[2J\nforged line"});
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_NE(result.err.find(GetParam().expected_message), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find('\x1b'), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 2) << result.err;
    EXPECT_EQ(result.err.rfind("hint: "), result.err.find('\n') + 1) << result.err;
}

INSTANTIATE_TEST_SUITE_P(
    Binary, RuntimeErrorTest,
    ::testing::Values(QuotedValue{"--btf", "connsnoop: error: --btf /nonexistent\\x1b[2J\\x0aforged line: "},
                      QuotedValue{"--cgroup", "connsnoop: error: --cgroup /nonexistent\\x1b[2J\\x0aforged line: "}),
    [](const ::testing::TestParamInfo<QuotedValue>& param) { return param.param.option.substr(2); });

}  // namespace
}  // namespace connsnoop::testing
