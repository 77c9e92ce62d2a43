#include "collect/record_decoder.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "collect/token_redaction.hpp"
#include "event_fixtures.hpp"
#include "output/json_format.hpp"
#include "output/table_format.hpp"

namespace connsnoop {
namespace {

using namespace std::string_literals;

TEST(SplitArgv, SplitsOnNulAndDropsTrailingPadding) {
    EXPECT_EQ(split_argv("curl\0-s\0http://x/\0"s), (std::vector<std::string>{"curl", "-s", "http://x/"}));
    EXPECT_EQ(split_argv("perform-queued-tasks-manager send-welcome-email\0\0\0\0\0"s),
              (std::vector<std::string>{"perform-queued-tasks-manager send-welcome-email"}));
    EXPECT_EQ(split_argv("prog\0\0after-empty\0"s), (std::vector<std::string>{"prog", "", "after-empty"}));
    EXPECT_EQ(split_argv("no-terminator"s), (std::vector<std::string>{"no-terminator"}));
    EXPECT_TRUE(split_argv(""s).empty());
    EXPECT_TRUE(split_argv("\0\0\0"s).empty());
}

TEST(SplitArgv, RewrittenTitleEndsAtTheFirstNul) {
    // Perl's $0 = "..." leaves "title\0" followed by spaces over the old arguments.
    EXPECT_EQ(split_argv("worker: idle\0     "s, true), (std::vector<std::string>{"worker: idle"}));
    EXPECT_EQ(split_argv("nginx: master process\0\0-g\0"s, true), (std::vector<std::string>{"nginx: master process"}));
    EXPECT_EQ(split_argv("title without any nul"s, true), (std::vector<std::string>{"title without any nul"}));
}

TEST(DecodeConnectRecord, DecodesEveryField) {
    const auto bytes = fixtures::raw_connect_record("curl\0-s\0http://169.254.169.254/\0"s);
    const auto event = decode_connect_record(bytes, ClockConverter(1'000'000'000'000'000'000));
    ASSERT_TRUE(event.ok()) << event.error().message;
    EXPECT_EQ(event->pid, 1234U);
    EXPECT_EQ(event->tid, 1235U);
    EXPECT_EQ(event->ppid, 1U);
    EXPECT_EQ(event->uid, 1000U);
    EXPECT_EQ(event->gid, 1001U);
    EXPECT_EQ(event->cgroup_id, 4242U);
    EXPECT_EQ(event->netns, 4026531840U);
    EXPECT_EQ(event->comm, "curl");
    EXPECT_EQ(event->argv, (std::vector<std::string>{"curl", "-s", "http://169.254.169.254/"}));
    EXPECT_FALSE(event->argv_truncated);
    EXPECT_EQ(event->destination.to_string(), "169.254.169.254");
    EXPECT_EQ(event->source.to_string(), "10.0.0.5");
    EXPECT_EQ(event->destination_port, 80);
    EXPECT_EQ(event->monotonic_ns, 5'000'000'123U);
    EXPECT_EQ(event->ns_pid, 1U);
    EXPECT_EQ(event->pidns, 4026532001U);
    EXPECT_EQ(event->start_boottime_ns, 123'000'000'000U);
    // the chain ends at the first empty level
    EXPECT_EQ(event->parents, (std::vector<ProcessRef>{{1200, 120'000'000'000}, {1, 10'000'000}}));
    EXPECT_EQ(event->wall_time.time_since_epoch(), std::chrono::nanoseconds(1'000'000'005'000'000'123));
}

TEST(DecodeConnectRecord, Ipv6AndFlags) {
    const auto bytes = fixtures::raw_connect_record("python3\0"s, CS_AF_INET6, CS_ARGV_TRUNCATED);
    const auto event = decode_connect_record(bytes, ClockConverter());
    ASSERT_TRUE(event.ok());
    EXPECT_EQ(event->destination.family, AddressFamily::ipv6);
    EXPECT_EQ(event->destination.to_string(), "fd00:ec2::254");
    EXPECT_EQ(event->source.to_string(), "::1");
    EXPECT_TRUE(event->argv_truncated);
    EXPECT_FALSE(event->argv_unreadable);
}

TEST(DecodeConnectRecord, RejectsShortOrInconsistentRecords) {
    auto bytes = fixtures::raw_connect_record("curl\0"s);
    EXPECT_FALSE(decode_connect_record(std::span(bytes).first(10), ClockConverter()).ok());
    // claims more argv than it carries
    EXPECT_FALSE(decode_connect_record(std::span(bytes).first(bytes.size() - 1), ClockConverter()).ok());
    auto wrong_kind = bytes;
    wrong_kind[0] = std::byte{99};
    EXPECT_FALSE(decode_connect_record(wrong_kind, ClockConverter()).ok());
    auto wrong_family = fixtures::raw_connect_record("x"s, 7);
    EXPECT_FALSE(decode_connect_record(wrong_family, ClockConverter()).ok());
}

// The reader decodes every connect record into one event it keeps: what a
// record before left there (a longer argv, parents, an outcome, everything
// enrichment added) must not show in the next.
TEST(DecodeConnectRecordInto, AReusedEventEqualsAFreshDecode) {
    const auto clock = ClockConverter(1'000'000'000'000'000'000);
    auto first_bytes = fixtures::raw_connect_record(
        "/usr/bin/curl-with-a-long-name\0-H\0X-aws-ec2-metadata-token: s3cr3t\0--retry\0"
        "5\0http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/\0"s,
        CS_AF_INET6, CS_ARGV_TRUNCATED | CS_OUTCOME_UNTRACKED);
    ConnectEvent reused;
    ASSERT_TRUE(decode_connect_record_into(first_bytes, clock, reused).ok());
    EXPECT_EQ(reused.argv[2], "X-aws-ec2-metadata-token: [redacted]");
    ASSERT_TRUE(reused.outcome.has_value());
    // As the enricher fills it.
    reused.user = "www-data";
    reused.group = "www-data";
    reused.exe = "/usr/lib/a/long/path/to/the/executable/curl";
    reused.cgroup_path = "/kubepods.slice/kubepods-burstable.slice/some-pod.slice/cri-containerd-abc.scope";
    reused.container_id = "abc";
    reused.container_runtime = "containerd";
    reused.pod_uid = "1234";
    reused.qos_class = "burstable";
    reused.unit = "cri-containerd-abc.scope";
    reused.ancestry = {AncestorProcess{812, "bash", {"/bin/bash", "/opt/app/a-long-script-name.sh"}, false}};

    auto second_bytes = fixtures::raw_connect_record("sh\0-c\0"s);
    cs_connect_record second{};
    std::memcpy(&second, second_bytes.data(), sizeof(second));
    std::memset(second.ancestors, 0, sizeof(second.ancestors));
    std::strcpy(second.comm, "sh");
    std::memcpy(second_bytes.data(), &second, sizeof(second));

    ASSERT_TRUE(decode_connect_record_into(second_bytes, clock, reused).ok());
    const auto fresh = decode_connect_record(second_bytes, clock);
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(reused.argv, (std::vector<std::string>{"sh", "-c"}));
    EXPECT_EQ(reused.argv, fresh->argv);
    EXPECT_TRUE(reused.parents.empty());
    EXPECT_FALSE(reused.outcome.has_value());
    EXPECT_FALSE(reused.argv_truncated);
    for (const auto* field : {&reused.user, &reused.group, &reused.exe, &reused.cgroup_path, &reused.container_id,
                              &reused.container_runtime, &reused.pod_uid, &reused.qos_class, &reused.unit}) {
        EXPECT_TRUE(field->empty()) << *field;
    }
    EXPECT_TRUE(reused.ancestry.empty());
    std::string reused_line;
    std::string fresh_line;
    append_connect_json(reused_line, reused);
    append_connect_json(fresh_line, *fresh);
    EXPECT_EQ(reused_line, fresh_line);
    TableLayout layout;
    layout.time = TimeFormat::iso;
    EXPECT_EQ(format_table_row(reused, layout), format_table_row(*fresh, layout));

    // And an error leaves no half-decoded record behind that counts.
    auto wrong_family = fixtures::raw_connect_record("x"s, 7);
    EXPECT_FALSE(decode_connect_record_into(wrong_family, clock, reused).ok());
}

// The reader keeps the last argv split: a record with the same area takes
// its (redacted) arguments from there, and anything else is split afresh.
TEST(DecodeConnectRecordInto, TheArgvMemoGivesWhatAFreshDecodeGives) {
    const auto clock = ClockConverter();
    const auto with_token = fixtures::raw_connect_record("curl\0-H\0X-aws-ec2-metadata-token: s3cr3t\0"s);
    const auto shorter = fixtures::raw_connect_record("curl\0-H\0"s);
    // The same bytes, but the process rewrote its title: one argument, up to the first NUL.
    const auto rewritten = fixtures::raw_connect_record("curl\0-H\0X"s, CS_AF_INET, CS_ARGV_REWRITTEN);
    ArgvMemo memo;
    ConnectEvent event;
    for (const auto* bytes : {&with_token, &with_token, &shorter, &rewritten, &rewritten, &with_token, &shorter}) {
        ASSERT_TRUE(decode_connect_record_into(*bytes, clock, event, &memo).ok());
        const auto fresh = decode_connect_record(*bytes, clock);
        ASSERT_TRUE(fresh.ok());
        EXPECT_EQ(event.argv, fresh->argv);
        event.argv.clear();  // as a sink that moved the event away leaves it
    }
    ASSERT_TRUE(decode_connect_record_into(with_token, clock, event, &memo).ok());
    ASSERT_TRUE(decode_connect_record_into(with_token, clock, event, &memo).ok());
    EXPECT_EQ(event.argv, (std::vector<std::string>{"curl", "-H", "X-aws-ec2-metadata-token: [redacted]"}));
    ASSERT_TRUE(decode_connect_record_into(rewritten, clock, event, &memo).ok());
    ASSERT_TRUE(decode_connect_record_into(rewritten, clock, event, &memo).ok());
    EXPECT_EQ(event.argv, (std::vector<std::string>{"curl"}));
}

// Redaction runs only where the area holds the header name; where it does,
// the result is what redacting every argument gives.
TEST(DecodeConnectRecord, RedactsTokensInAnyArgumentAndLeavesOthersAlone) {
    EXPECT_FALSE(may_hold_imds_token("curl\0-s\0http://169.254.169.254/latest/api/token\0"s));
    EXPECT_TRUE(may_hold_imds_token("curl\0-H\0x-AWS-ec2-metadata-token: t\0"s));
    const auto bytes = fixtures::raw_connect_record(
        "curl\0-H\0x-AWS-ec2-metadata-token:  t0k\0-H\0X-aws-ec2-metadata-token-ttl-"
        "seconds: 60\0X-aws-ec2-metadata-token:\0tail\0"s);
    const auto event = decode_connect_record(bytes, ClockConverter());
    ASSERT_TRUE(event.ok());
    EXPECT_EQ(event->argv, (std::vector<std::string>{"curl", "-H", "x-AWS-ec2-metadata-token:  [redacted]", "-H",
                                                     "X-aws-ec2-metadata-token-ttl-seconds: 60",
                                                     "X-aws-ec2-metadata-token:", "tail"}));
}

TEST(CommandLine, JoinsArgumentsOrFallsBackToComm) {
    auto event = fixtures::sample_event({"a", "b c", ""});
    EXPECT_EQ(command_line(event), "a b c ");
    event.argv.clear();
    EXPECT_EQ(command_line(event), "[curl]");
}

}  // namespace
}  // namespace connsnoop
