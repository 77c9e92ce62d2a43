#include "cli/value_parsers.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace connsnoop {
namespace {

TEST(ParseDestination, BareAddressesAreHostRoutes) {
    EXPECT_EQ(parse_destination("169.254.169.254")->to_string(), "169.254.169.254/32");
    EXPECT_EQ(parse_destination("fd00:ec2::254")->to_string(), "fd00:ec2::254/128");
}

TEST(ParseDestination, PrefixesClearHostBits) {
    EXPECT_EQ(parse_destination("10.1.2.3/8")->to_string(), "10.0.0.0/8");
    EXPECT_EQ(parse_destination("fd00:ec2::254/32")->to_string(), "fd00:ec2::/32");
    EXPECT_EQ(parse_destination("0.0.0.0/0")->to_string(), "0.0.0.0/0");
}

TEST(ParseDestination, RejectsMalformedWithTheValueInTheMessage) {
    for (const char* bad : {"300.1.1.1/33", "300.1.1.1", "1.2.3.4/33", "fd00::/129", "1.2.3.4/", "1.2.3.4/-1",
                            "1.2.3.4/8x", "", "example.com", "1.2.3", "::ffff::1"}) {
        auto result = parse_destination(bad);
        ASSERT_FALSE(result.ok()) << bad;
        EXPECT_NE(result.error().message.find(std::string("invalid --dst '") + bad + "'"), std::string::npos)
            << result.error().message;
    }
}

TEST(ParsePort, AcceptsOneTo65535) {
    EXPECT_EQ(*parse_port("1"), 1);
    EXPECT_EQ(*parse_port("80"), 80);
    EXPECT_EQ(*parse_port("65535"), 65535);
    for (const char* bad : {"0", "65536", "70000", "-1", "http", "80x", "", " 80"}) {
        ASSERT_FALSE(parse_port(bad).ok()) << bad;
        EXPECT_NE(parse_port(bad).error().message.find(std::string("'") + bad + "'"), std::string::npos);
    }
}

TEST(ParsePid, PositiveWithinPidMax) {
    EXPECT_EQ(*parse_pid("1"), 1U);
    EXPECT_EQ(*parse_pid("4194304"), 4194304U);
    for (const char* bad : {"0", "abc", "-5", "4194305", "12a", ""}) EXPECT_FALSE(parse_pid(bad).ok()) << bad;
    EXPECT_EQ(parse_pid("abc").error().message, "invalid --pid 'abc': expected a process ID (a positive number)");
}

TEST(ParseUid, NumbersAndNames) {
    EXPECT_EQ(*parse_uid("0"), 0U);
    EXPECT_EQ(*parse_uid("root"), 0U);
    EXPECT_EQ(*parse_uid("65534"), 65534U);
    EXPECT_FALSE(parse_uid("no-such-user-connsnoop").ok());
    EXPECT_FALSE(parse_uid("4294967295").ok());
    EXPECT_FALSE(parse_uid("").ok());
}

TEST(ParseComm, AtMostFifteenBytes) {
    EXPECT_EQ(*parse_comm("curl"), "curl");
    EXPECT_EQ(*parse_comm("perform-queued-"), "perform-queued-");
    EXPECT_FALSE(parse_comm("perform-queued-t").ok());
    EXPECT_FALSE(parse_comm("").ok());
}

TEST(ParseNetns, InodeNumbers) {
    EXPECT_EQ(*parse_netns("4026531840"), 4026531840U);
    EXPECT_EQ(*parse_netns("1"), 1U);
    EXPECT_EQ(parse_netns("0").error().message, "invalid --netns '0': 0 is not a namespace inode number");
    EXPECT_FALSE(parse_netns("4294967296").ok());  // more than the kernel's 32-bit inode number
    EXPECT_FALSE(parse_netns("-1").ok());
}

// A name is looked up as a file of the netns directory, as `ip netns` makes
// them; a plain file in a temporary directory stands in for the bind mount.
TEST(ParseNetns, NamesResolveToTheInodeOfTheirFile) {
    char dir_template[] = "/tmp/connsnoop-netns-test-XXXXXX";
    const std::string dir = ::mkdtemp(dir_template);
    const std::string file = dir + "/blue";
    std::ofstream(file).put('x');
    struct stat info {};
    ASSERT_EQ(::stat(file.c_str(), &info), 0);

    EXPECT_EQ(*parse_netns("blue", dir), static_cast<std::uint32_t>(info.st_ino));
    EXPECT_EQ(parse_netns("green", dir).error().message,
              "invalid --netns 'green': not a number and no " + dir + "/green (see `ip netns list`)");
    ::unlink(file.c_str());
    ::rmdir(dir.c_str());
}

TEST(ParseNetns, NamesAreFileNamesNotPaths) {
    for (const char* bad : {"", ".", "..", "../etc/passwd", "/proc/1/ns/net", "a/b"}) {
        const auto result = parse_netns(bad, "/");
        ASSERT_FALSE(result.ok()) << bad;
        EXPECT_EQ(result.error().message.find("invalid --netns '" + std::string(bad) + "'"), 0U) << bad;
    }
}

TEST(ParseDuration, SecondsAndUnits) {
    using std::chrono::milliseconds;
    EXPECT_EQ(*parse_duration("10"), milliseconds(10000));
    EXPECT_EQ(*parse_duration("2.5"), milliseconds(2500));
    EXPECT_EQ(*parse_duration("30s"), milliseconds(30000));
    EXPECT_EQ(*parse_duration("5m"), milliseconds(300000));
    EXPECT_EQ(*parse_duration("1h"), milliseconds(3600000));
    for (const char* bad : {"0", "-1", "abc", "", "s", "10x", "nan", "inf", "1e300"}) {
        EXPECT_FALSE(parse_duration(bad).ok()) << bad;
    }
}

TEST(ParseCount, Positive) {
    EXPECT_EQ(*parse_count("3"), 3U);
    EXPECT_FALSE(parse_count("0").ok());
    EXPECT_FALSE(parse_count("three").ok());
}

TEST(ParseRingbufSize, PowersOfTwoWithSuffixes) {
    EXPECT_EQ(*parse_ringbuf_size("4096"), 4096U);
    EXPECT_EQ(*parse_ringbuf_size("64K"), 65536U);
    EXPECT_EQ(*parse_ringbuf_size("8M"), 8U << 20);
    EXPECT_EQ(*parse_ringbuf_size("1G"), 1U << 30);
    EXPECT_EQ(*parse_ringbuf_size("16MiB"), 16U << 20);
    for (const char* bad : {"3000", "2K", "2G", "0", "M", "", "-4096", "99999999999999999999K"}) {
        EXPECT_FALSE(parse_ringbuf_size(bad).ok()) << bad;
    }
}

TEST(ParseArgvMax, UpToCapacity) {
    EXPECT_EQ(*parse_argv_max("0"), 0U);
    EXPECT_EQ(*parse_argv_max("256"), 256U);
    EXPECT_EQ(*parse_argv_max("8K"), 8192U);
    EXPECT_FALSE(parse_argv_max("8193").ok());
    EXPECT_FALSE(parse_argv_max("lots").ok());
}

TEST(ParseListenAddress, HostAndPortForms) {
    EXPECT_EQ(parse_listen_address("127.0.0.1:9464")->host, "127.0.0.1");
    EXPECT_EQ(parse_listen_address("127.0.0.1:9464")->port, 9464);
    EXPECT_EQ(parse_listen_address("[::1]:9464")->host, "::1");
    EXPECT_EQ(parse_listen_address(":9464")->host, "0.0.0.0");
    EXPECT_EQ(parse_listen_address("127.0.0.1:0")->port, 0);
    for (const char* bad :
         {"9464", "127.0.0.1", "127.0.0.1:65536", "::1:9464", "[127.0.0.1]:80", "host:80", "1.2.3.4:x"}) {
        ASSERT_FALSE(parse_listen_address(bad).ok()) << bad;
        EXPECT_NE(parse_listen_address(bad).error().message.find(std::string("invalid --metrics '") + bad + "'"),
                  std::string::npos);
    }
}

TEST(ParseListenAddress, NamesAreNotResolved) {
    for (const char* named : {"localhost:9464", "metrics.internal:80"}) {
        ASSERT_FALSE(parse_listen_address(named).ok()) << named;
        EXPECT_NE(parse_listen_address(named).error().message.find("must be numeric (host names are not resolved)"),
                  std::string::npos)
            << named;
    }
}

TEST(ParseMaxSeries, Positive) {
    EXPECT_EQ(*parse_max_series("50"), 50U);
    EXPECT_FALSE(parse_max_series("0").ok());
    EXPECT_FALSE(parse_max_series("many").ok());
}

}  // namespace
}  // namespace connsnoop
