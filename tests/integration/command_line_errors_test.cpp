// The binary's answers to bad command lines and its info options: no root needed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <ostream>

#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

struct BadArgument {
    std::vector<std::string> args;
    std::string expected_message;
};

void PrintTo(const BadArgument& bad, std::ostream* out) {
    for (const auto& arg : bad.args) *out << arg << ' ';
}

class BadArgumentTest : public ::testing::TestWithParam<BadArgument> {};

TEST_P(BadArgumentTest, OneLineNamingTheValueAndExitCode2) {
    auto args = GetParam().args;
    args.insert(args.begin(), connsnoop_binary());
    const auto result = run_command(args);
    EXPECT_EQ(result.status, 2);
    EXPECT_EQ(result.out, "");
    EXPECT_NE(result.err.find(GetParam().expected_message), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

INSTANTIATE_TEST_SUITE_P(
    Binary, BadArgumentTest,
    ::testing::Values(BadArgument{{"--dst", "300.1.1.1/33"}, "invalid --dst '300.1.1.1/33'"},
                      BadArgument{{"--port", "70000"}, "invalid --port '70000'"},
                      BadArgument{{"--pid", "abc"}, "invalid --pid 'abc'"},
                      BadArgument{{"--frobnicate"}, "--frobnicate"},
                      BadArgument{{"--ringbuf-size", "3000"}, "invalid --ringbuf-size '3000'"},
                      BadArgument{{"-o", "xml"}, "invalid --format 'xml'"}),
    [](const ::testing::TestParamInfo<BadArgument>& param) { return "case" + std::to_string(param.index); });

TEST(BinaryInfo, HelpAndVersionNeedNoPrivileges) {
    const auto help = run_command({connsnoop_binary(), "--help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("--imds"), std::string::npos);
    EXPECT_NE(help.out.find("Examples:"), std::string::npos);
    const auto version = run_command({connsnoop_binary(), "--version"});
    EXPECT_EQ(version.status, 0);
    EXPECT_EQ(version.out.rfind("connsnoop 0.", 0), 0U) << version.out;
}

TEST(BinaryInfo, UnprivilegedRunNamesThePrivilegesNeeded) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to drop to an unprivileged user";
    const auto result = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                     "--bounding-set=-all", connsnoop_binary(), "--imds"});
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("Operation not permitted"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("hint: run as root, or with CAP_BPF and CAP_PERFMON"), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("libbpf:"), std::string::npos) << "libbpf noise without -v: " << result.err;
}

TEST(BinaryInfo, MissingBtfFileIsNamed) {
    const auto result = run_command({connsnoop_binary(), "--btf", "/nonexistent/vmlinux"});
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("--btf /nonexistent/vmlinux: No such file or directory"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("hint:"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace connsnoop::testing
