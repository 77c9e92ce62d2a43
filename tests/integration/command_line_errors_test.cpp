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
    ::testing::Values(
        BadArgument{{"--dst", "300.1.1.1/33"}, "invalid --dst '300.1.1.1/33'"},
        BadArgument{{"--port", "70000"}, "invalid --port '70000'"},
        BadArgument{{"--pid", "abc"}, "invalid --pid 'abc'"}, BadArgument{{"--frobnicate"}, "--frobnicate"},
        BadArgument{{"--dts", "10.0.0.0/8"}, "connsnoop: unknown option --dts; did you mean --dst?\n"},
        BadArgument{{"--ringbuf-size", "3000"}, "invalid --ringbuf-size '3000'"},
        BadArgument{{"-o", "xml"}, "invalid --format 'xml'"},
        // Every option's bad values (issue 5): each still one line and exit 2.
        // Options that mean nothing to top are refused, never ignored (issue 13).
        BadArgument{{"top", "--wide"}, "top does not take --wide"},
        BadArgument{{"--columns", "pid,bogus"},
                    "invalid --columns 'pid,bogus': unknown column 'bogus'; expected some of time, pid,"},
        BadArgument{{"--columns", "pid", "-o", "json"}, "--columns applies to the table only"},
        BadArgument{{"top", "--columns", "pid"}, "top does not take --columns"},
        BadArgument{{"top", "--failed"}, "top does not take --failed"},
        BadArgument{{"top", "--time", "iso"}, "top does not take --time"},
        BadArgument{{"top", "--http"}, "top ranks HTTP requests only with --by path or --by imds"},
        BadArgument{{"top", "--http-port", "8080", "--by", "user"}, "top ranks HTTP requests only"},
        BadArgument{{"--dst", "1.2.3"}, "invalid --dst '1.2.3'"},
        BadArgument{{"--dst", "::1/129"}, "invalid --dst '::1/129'"},
        BadArgument{{"--dst", "10.0.0.0/8x"}, "invalid --dst '10.0.0.0/8x'"},
        BadArgument{{"--dst", ""}, "invalid --dst ''"}, BadArgument{{"--port", "0"}, "invalid --port '0'"},
        BadArgument{{"--port", "-1"}, "invalid --port '-1'"}, BadArgument{{"--port", "8x"}, "invalid --port '8x'"},
        BadArgument{{"--pid", "0"}, "invalid --pid '0'"},
        BadArgument{{"--pid", "99999999999"}, "invalid --pid '99999999999'"},
        BadArgument{{"--uid", "no-such-user-here"}, "invalid --uid 'no-such-user-here'"},
        BadArgument{{"--uid", "4294967295"}, "invalid --uid '4294967295'"},
        BadArgument{{"--comm", "sixteen-bytes-xx"}, "invalid --comm 'sixteen-bytes-xx'"},
        BadArgument{{"--comm", ""}, "invalid --comm ''"}, BadArgument{{"--cgroup", ""}, "invalid --cgroup ''"},
        BadArgument{{"--btf", ""}, "invalid --btf ''"}, BadArgument{{"--count", "0"}, "invalid --count '0'"},
        BadArgument{{"--count", "99999999999999999999999"}, "invalid --count '99999999999999999999999'"},
        BadArgument{{"--duration", "0"}, "invalid --duration '0'"},
        BadArgument{{"--duration", "5d"}, "invalid --duration '5d'"},
        BadArgument{{"--duration", "1e999"}, "invalid --duration '1e999'"},
        BadArgument{{"--argv-max", "8193"}, "invalid --argv-max '8193'"},
        BadArgument{{"--argv-max", "-1"}, "invalid --argv-max '-1'"},
        BadArgument{{"--ringbuf-size", "2G"}, "invalid --ringbuf-size '2G'"},
        BadArgument{{"--ringbuf-size", "8Q"}, "invalid --ringbuf-size '8Q'"},
        BadArgument{{"--time", "utc"}, "invalid --time 'utc'"}, BadArgument{{"--format"}, "--format"},
        BadArgument{{"--netns", "no-such-namespace"}, "invalid --netns 'no-such-namespace'"},
        BadArgument{{"--netns", "0"}, "invalid --netns '0'"}, BadArgument{{"--netns", ""}, "invalid --netns ''"},
        BadArgument{{"--netns", "../../proc/1/ns/net"}, "invalid --netns '../../proc/1/ns/net'"},
        BadArgument{{"top", "--netns", "x/y"}, "invalid --netns 'x/y'"}, BadArgument{{"--imds=x"}, "--imds"},
        BadArgument{{"stray-argument"}, "stray-argument"},
        // A value with a newline or an escape sequence is shown escaped: still one line.
        BadArgument{{"--pid", "1\n2"}, "invalid --pid '1\\x0a2'"},
        BadArgument{{"--format", "\x1b[2Jx"}, "invalid --format '\\x1b[2Jx'"},
        BadArgument{{"stray\r\nargument"}, "stray\\x0d\\x0aargument"}),
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
    // Reported once: no "running without the exec tracker" before a run that cannot start at all.
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 2) << result.err;
    EXPECT_EQ(result.err.rfind("connsnoop: error: ", 0), 0U) << result.err;
}

TEST(BinaryInfo, AFileThatIsNotBtfIsNamedReadably) {
    // libbpf's own code for it used to come out as "Unknown error 4001".
    const auto result = run_command({connsnoop_binary(), "--btf", "/etc/passwd", "--duration", "1"});
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("connsnoop: error: --btf /etc/passwd: not a BTF file ("), std::string::npos)
        << result.err;
    EXPECT_EQ(result.err.find("Unknown error"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("hint: give the running kernel's BTF"), std::string::npos) << result.err;
}

TEST(BinaryInfo, MissingBtfFileIsNamed) {
    const auto result = run_command({connsnoop_binary(), "--btf", "/nonexistent/vmlinux"});
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("--btf /nonexistent/vmlinux: No such file or directory"), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("hint:"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace connsnoop::testing

namespace connsnoop::testing {
namespace {

// The kernel's own BTF missing: hidden by an empty tmpfs in a private mount
// namespace, so no system file is touched.
TEST(BinaryInfo, MissingKernelBtfIsNamedWithAHint) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
    const auto result = run_command({"unshare", "--mount", "sh", "-c",
                                     "mount -t tmpfs none /sys/kernel/btf && exec \"$0\" --dst 192.0.2.1 --duration 1",
                                     connsnoop_binary()});
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_NE(result.err.find("no BTF type information (/sys/kernel/btf/vmlinux: No such file or directory)"),
              std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("hint: "), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("--btf FILE"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace connsnoop::testing
