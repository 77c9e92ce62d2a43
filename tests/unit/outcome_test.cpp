// Unit tests for outcome tracking: decoding the new records, joining attempts
// to their outcomes, and how results are shown (table, JSON, summary, CLI).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "cli/options.hpp"
#include "cli/value_parsers.hpp"
#include "collect/outcome_joiner.hpp"
#include "collect/record_decoder.hpp"
#include "event_fixtures.hpp"
#include "output/json_format.hpp"
#include "output/table_format.hpp"

namespace connsnoop {
namespace {

using namespace std::string_literals;

std::vector<std::byte> raw_outcome_record(std::uint32_t state, std::uint32_t error, std::uint64_t attempt_id = 7) {
    cs_outcome_record record{};
    record.kind = CS_RECORD_OUTCOME;
    record.state = state;
    record.timestamp_ns = 6'000'000'000;
    record.attempt_id = attempt_id;
    record.latency_ns = 1'250'000;
    record.error = error;
    record.sport = 41234;
    std::vector<std::byte> bytes(sizeof(record));
    std::memcpy(bytes.data(), &record, sizeof(record));
    return bytes;
}

// A raw connect record with the outcome fields set.
std::vector<std::byte> raw_attempt(std::uint32_t kind, std::uint64_t attempt_id, std::uint32_t error = 0,
                                   std::uint32_t flags = 0) {
    auto bytes = fixtures::raw_connect_record("curl\0"s, CS_AF_INET, flags);
    cs_connect_record record{};
    std::memcpy(&record, bytes.data(), sizeof(record));
    record.kind = kind;
    record.attempt_id = attempt_id;
    record.error = error;
    std::memcpy(bytes.data(), &record, sizeof(record));
    return bytes;
}

TEST(DecodeRecord, OutcomeRecordBecomesAnOutcomeEvent) {
    const auto record = decode_record(raw_outcome_record(CS_OUTCOME_CLOSED, ECONNREFUSED), ClockConverter(1000));
    ASSERT_TRUE(record.ok()) << record.error().message;
    const auto* outcome = std::get_if<OutcomeEvent>(&record.value());
    ASSERT_NE(outcome, nullptr);
    EXPECT_EQ(outcome->attempt_id, 7U);
    EXPECT_EQ(outcome->monotonic_ns, 6'000'000'000U);
    EXPECT_EQ(outcome->wall_time.time_since_epoch(), std::chrono::nanoseconds(6'000'001'000));
    EXPECT_EQ(outcome->outcome.result, ConnectResult::refused);
    EXPECT_EQ(outcome->outcome.error, ECONNREFUSED);
    EXPECT_EQ(outcome->outcome.latency_ns, 1'250'000U);
    EXPECT_EQ(outcome->source_port, 41234);
}

TEST(DecodeRecord, ConnectFailedInsideTheCallHasNoLatency) {
    const auto record =
        decode_outcome_record(raw_outcome_record(CS_OUTCOME_CONNECT_FAILED, EADDRNOTAVAIL), ClockConverter());
    ASSERT_TRUE(record.ok());
    EXPECT_EQ(record->outcome.result, ConnectResult::failed);
    EXPECT_EQ(record->outcome.error, EADDRNOTAVAIL);
    EXPECT_FALSE(record->outcome.latency_ns.has_value());
}

TEST(DecodeRecord, AttemptsCarryTheirIdAndFailedConnectsTheirErrno) {
    const auto attempt = decode_record(raw_attempt(CS_RECORD_CONNECT, 42), ClockConverter());
    ASSERT_TRUE(attempt.ok());
    const auto& event = std::get<ConnectEvent>(attempt.value());
    EXPECT_EQ(event.attempt_id, 42U);
    EXPECT_FALSE(event.outcome.has_value()) << "its fate comes later";

    const auto failed = decode_record(raw_attempt(CS_RECORD_CONNECT_FAILED, 0, ENETUNREACH), ClockConverter());
    ASSERT_TRUE(failed.ok());
    const auto& failed_event = std::get<ConnectEvent>(failed.value());
    ASSERT_TRUE(failed_event.outcome.has_value());
    EXPECT_EQ(failed_event.outcome->result, ConnectResult::failed);
    EXPECT_EQ(failed_event.outcome->error, ENETUNREACH);
    EXPECT_FALSE(failed_event.outcome->latency_ns.has_value());
    EXPECT_EQ(failed_event.comm, "curl");

    const auto untracked = decode_record(raw_attempt(CS_RECORD_CONNECT, 0, 0, CS_OUTCOME_UNTRACKED), ClockConverter());
    ASSERT_TRUE(untracked.ok());
    EXPECT_EQ(std::get<ConnectEvent>(untracked.value()).outcome->result, ConnectResult::untracked);
}

TEST(DecodeRecord, RejectsMalformedOutcomeRecords) {
    auto bytes = raw_outcome_record(CS_OUTCOME_ESTABLISHED, 0);
    EXPECT_FALSE(decode_record(std::span(bytes).first(sizeof(cs_outcome_record) - 1), ClockConverter()).ok());
    EXPECT_FALSE(decode_record(std::span(bytes).first(2), ClockConverter()).ok());
    EXPECT_FALSE(decode_record(raw_outcome_record(0, 0), ClockConverter()).ok());
    EXPECT_FALSE(decode_record(raw_outcome_record(CS_OUTCOME_CONNECT_FAILED + 1, 0), ClockConverter()).ok());
    EXPECT_FALSE(decode_record(raw_outcome_record(CS_OUTCOME_ESTABLISHED, 0, 0), ClockConverter()).ok())
        << "an outcome must name its attempt";
    EXPECT_FALSE(decode_record(raw_attempt(CS_RECORD_CONNECT_FAILED, 0, 0), ClockConverter()).ok())
        << "a failed connect without an errno";
}

TEST(ClassifyOutcome, MapsStateAndErrnoToResults) {
    EXPECT_EQ(classify_outcome(CS_OUTCOME_ESTABLISHED, 0), ConnectResult::established);
    EXPECT_EQ(classify_outcome(CS_OUTCOME_CLOSED, ECONNREFUSED), ConnectResult::refused);
    EXPECT_EQ(classify_outcome(CS_OUTCOME_CLOSED, ETIMEDOUT), ConnectResult::timeout);
    EXPECT_EQ(classify_outcome(CS_OUTCOME_CLOSED, ECONNRESET), ConnectResult::reset);
    EXPECT_EQ(classify_outcome(CS_OUTCOME_CLOSED, 0), ConnectResult::aborted);
    EXPECT_EQ(classify_outcome(CS_OUTCOME_CLOSED, EHOSTUNREACH), ConnectResult::error);
    EXPECT_EQ(classify_outcome(CS_OUTCOME_CONNECT_FAILED, EADDRNOTAVAIL), ConnectResult::failed);
}

TEST(ResultNames, NamesErrnosAndResults) {
    EXPECT_EQ(errno_name(ECONNREFUSED), "ECONNREFUSED");
    EXPECT_EQ(errno_name(EADDRNOTAVAIL), "EADDRNOTAVAIL");
    EXPECT_EQ(errno_name(9999), "9999");
    EXPECT_EQ(result_name(ConnectResult::timeout), "timeout");
    EXPECT_EQ(result_name(ConnectResult::pending), "pending");
    EXPECT_TRUE(did_not_establish(ConnectResult::refused));
    EXPECT_TRUE(did_not_establish(ConnectResult::failed));
    EXPECT_TRUE(did_not_establish(ConnectResult::aborted));
    EXPECT_FALSE(did_not_establish(ConnectResult::established));
    EXPECT_FALSE(did_not_establish(ConnectResult::untracked)) << "unknown is not a failure";
    EXPECT_FALSE(did_not_establish(ConnectResult::pending));
}

ConnectEvent attempt(std::uint64_t id, std::uint64_t monotonic_ns) {
    auto event = fixtures::sample_event();
    event.attempt_id = id;
    event.monotonic_ns = monotonic_ns;
    return event;
}

OutcomeEvent outcome(std::uint64_t id, ConnectResult result, std::uint16_t sport = 0) {
    OutcomeEvent event;
    event.attempt_id = id;
    event.outcome = ConnectOutcome{result, 0, 1000};
    event.source_port = sport;
    return event;
}

TEST(OutcomeJoiner, HoldsAnAttemptUntilItsOutcome) {
    OutcomeJoiner joiner;
    EXPECT_FALSE(joiner.add_attempt(attempt(1, 10)).has_value());
    EXPECT_FALSE(joiner.add_attempt(attempt(2, 20)).has_value());
    EXPECT_EQ(joiner.pending_count(), 2U);

    const auto* done = joiner.resolve(outcome(2, ConnectResult::established, 50123));
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(done->attempt_id, 2U);
    EXPECT_EQ(done->outcome->result, ConnectResult::established);
    EXPECT_EQ(done->outcome->latency_ns, 1000U);
    EXPECT_EQ(done->source_port, 50123) << "the port chosen after SYN_SENT";
    EXPECT_EQ(done->pid, 4321U);
    EXPECT_EQ(joiner.pending_count(), 1U);

    EXPECT_EQ(joiner.resolve(outcome(2, ConnectResult::refused)), nullptr) << "resolved once only";
    EXPECT_EQ(joiner.resolve(outcome(99, ConnectResult::refused)), nullptr);
    EXPECT_EQ(joiner.orphan_outcomes(), 2U);
}

// Nodes and event buffers are reused from attempt to attempt: every attempt
// still comes out as it went in, whatever the order of the fates, and the
// caller's event gets buffers back to decode the next record into.
TEST(OutcomeJoiner, ReusedNodesHandOnEachAttemptAsItWasHeld) {
    OutcomeJoiner joiner;
    ConnectEvent reader;  // as the tracer's event, decoded into again and again
    const auto fill = [&reader](std::uint64_t id) {
        reader = attempt(id, id * 10);
        reader.pid = static_cast<std::uint32_t>(id);
        reader.argv = {"worker", std::string(40, static_cast<char>('a' + id % 26)), std::to_string(id)};
        reader.exe = "/usr/bin/worker-" + std::to_string(id) + "-with-a-long-path";
    };
    const auto check = [](const ConnectEvent* event, std::uint64_t id) {
        ASSERT_NE(event, nullptr) << id;
        EXPECT_EQ(event->attempt_id, id);
        EXPECT_EQ(event->pid, id);
        EXPECT_EQ(event->monotonic_ns, id * 10);
        EXPECT_EQ(event->argv, (std::vector<std::string>{"worker", std::string(40, static_cast<char>('a' + id % 26)),
                                                         std::to_string(id)}));
        EXPECT_EQ(event->exe, "/usr/bin/worker-" + std::to_string(id) + "-with-a-long-path");
        EXPECT_EQ(event->outcome->result, ConnectResult::established);
    };
    std::uint64_t next_fate = 1;
    for (std::uint64_t id = 1; id <= 300; ++id) {
        fill(id);
        EXPECT_FALSE(joiner.add_attempt(std::move(reader)).has_value());
        // Fates arrive in bursts, some out of order.
        if (id % 3 == 0) {
            check(joiner.resolve(outcome(id, ConnectResult::established)), id);
            for (; next_fate < id; ++next_fate) {
                if (next_fate % 3 != 0)
                    check(joiner.resolve(outcome(next_fate, ConnectResult::established)), next_fate);
            }
            next_fate = id + 1;
        }
    }
    EXPECT_EQ(joiner.pending_count(), 0U);
    EXPECT_GE(reader.exe.capacity(), std::string_view("/usr/bin/worker-1-with-a-long-path").size())
        << "the caller's event has the buffers of an attempt handed on";
}

TEST(OutcomeJoiner, KnownFatesPassStraightThrough) {
    OutcomeJoiner joiner;
    auto failed = attempt(0, 1);
    failed.outcome = ConnectOutcome{ConnectResult::failed, ENETUNREACH, std::nullopt};
    const auto passed = joiner.add_attempt(std::move(failed));
    ASSERT_TRUE(passed.has_value());
    EXPECT_EQ(passed->outcome->error, ENETUNREACH);

    const auto untracked = joiner.add_attempt(attempt(0, 2));
    ASSERT_TRUE(untracked.has_value());
    EXPECT_EQ(untracked->outcome->result, ConnectResult::untracked);
    EXPECT_EQ(joiner.pending_count(), 0U);
}

TEST(OutcomeJoiner, PendingAttemptsComeOutOldestFirst) {
    OutcomeJoiner joiner;
    (void)joiner.add_attempt(attempt(5, 300));
    (void)joiner.add_attempt(attempt(3, 100));
    (void)joiner.add_attempt(attempt(4, 200));
    const auto pending = joiner.take_pending();
    ASSERT_EQ(pending.size(), 3U);
    EXPECT_EQ(pending[0].attempt_id, 3U);
    EXPECT_EQ(pending[1].attempt_id, 4U);
    EXPECT_EQ(pending[2].attempt_id, 5U);
    for (const auto& event : pending) EXPECT_EQ(event.outcome->result, ConnectResult::pending);
    EXPECT_EQ(joiner.pending_count(), 0U);
}

TEST(OutcomeJoiner, OverdueAttemptsAreAnnouncedOnceAndStillResolved) {
    OutcomeJoiner joiner;
    (void)joiner.add_attempt(attempt(7, 1'000));
    (void)joiner.add_attempt(attempt(8, 900'000'000));
    EXPECT_TRUE(joiner.take_overdue(500'000'000, 1'000'000'000).empty());
    const auto overdue = joiner.take_overdue(1'000'001'000, 1'000'000'000);
    ASSERT_EQ(overdue.size(), 1U);
    EXPECT_EQ(overdue[0].attempt_id, 7U);
    EXPECT_EQ(overdue[0].outcome->result, ConnectResult::pending);
    EXPECT_TRUE(joiner.announced(7));
    EXPECT_TRUE(joiner.take_overdue(1'000'002'000, 1'000'000'000).empty()) << "announced once";
    EXPECT_EQ(joiner.pending_count(), 2U) << "still held for its fate";
    OutcomeEvent fate;
    fate.attempt_id = 7;
    fate.outcome = ConnectOutcome{ConnectResult::timeout, ETIMEDOUT, 3'000'000'000ULL};
    const auto* resolved = joiner.resolve(fate);
    ASSERT_NE(resolved, nullptr);
    EXPECT_EQ(resolved->outcome->result, ConnectResult::timeout);
    EXPECT_FALSE(joiner.announced(7));
}

ConnectEvent with_outcome(ConnectResult result, int error, std::optional<std::uint64_t> latency_ns) {
    auto event = fixtures::sample_event();
    event.outcome = ConnectOutcome{result, error, latency_ns};
    return event;
}

TEST(OutcomeTable, ResultAndLatencyColumns) {
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.outcome_columns = true;
    EXPECT_EQ(format_table_header(layout), "    PID USER       DESTINATION           RESULT         LATENCY COMMAND");
    EXPECT_EQ(format_table_row(with_outcome(ConnectResult::established, 0, 850'000), layout),
              "   4321 root       169.254.169.254:80    established      850us curl -s http://169.254.169.254/");
    EXPECT_EQ(format_table_row(with_outcome(ConnectResult::failed, EADDRNOTAVAIL, std::nullopt), layout),
              "   4321 root       169.254.169.254:80    EADDRNOTAVAIL        - curl -s http://169.254.169.254/");
    EXPECT_EQ(format_table_row(with_outcome(ConnectResult::timeout, ETIMEDOUT, 3'015'000'000), layout),
              "   4321 root       169.254.169.254:80    timeout          3.02s curl -s http://169.254.169.254/");
    // Without --outcome the layout is unchanged.
    EXPECT_EQ(format_table_header(TableLayout{TimeFormat::none, std::nullopt}),
              "    PID USER       DESTINATION           COMMAND");
}

TEST(OutcomeTable, LatencyUnits) {
    EXPECT_EQ(format_latency(0), "0us");
    EXPECT_EQ(format_latency(999'999), "999us");
    EXPECT_EQ(format_latency(1'000'000), "1.0ms");
    EXPECT_EQ(format_latency(12'345'678), "12.3ms");
    EXPECT_EQ(format_latency(1'000'000'000), "1.00s");
    // LATENCY is 8 columns: nothing that would round up to 10000.00s.
    EXPECT_EQ(format_latency(9'999'994'999'999), "9999.99s");
    EXPECT_EQ(format_latency(9'999'995'000'000), "9999s");
    EXPECT_EQ(format_latency(10'000'000'000'000), "10000s");
    EXPECT_EQ(format_result(ConnectOutcome{ConnectResult::refused, ECONNREFUSED, 1}), "refused");
    EXPECT_EQ(format_result(ConnectOutcome{ConnectResult::error, EHOSTUNREACH, 1}), "EHOSTUNREACH");
}

TEST(OutcomeJson, ConnectRecordGainsResultErrnoAndLatency) {
    const auto refused = connect_to_json(with_outcome(ConnectResult::refused, ECONNREFUSED, 1'234'567));
    EXPECT_EQ(refused["result"], "refused");
    EXPECT_EQ(refused["errno"], "ECONNREFUSED");
    EXPECT_EQ(refused["latency_us"], 1234);

    const auto ok = connect_to_json(with_outcome(ConnectResult::established, 0, 999));
    EXPECT_TRUE(ok["errno"].is_null());
    EXPECT_EQ(ok["latency_us"], 0);
    const auto failed = connect_to_json(with_outcome(ConnectResult::failed, ENETUNREACH, std::nullopt));
    EXPECT_TRUE(failed["latency_us"].is_null());

    const auto plain = connect_to_json(fixtures::sample_event());
    EXPECT_FALSE(plain.contains("result")) << "without --outcome the record is as before";
    EXPECT_FALSE(plain.contains("errno"));
    EXPECT_FALSE(plain.contains("latency_us"));
}

TEST(OutcomeJson, SummaryCountsEveryResult) {
    RunSummary summary{std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'905'646'000'001)),
                       3,
                       0,
                       0,
                       1.5,
                       "tp_btf"};
    EXPECT_FALSE(summary_to_json(summary).contains("results"));
    OutcomeSummary outcomes;
    outcomes.count(ConnectResult::established);
    outcomes.count(ConnectResult::established);
    outcomes.count(ConnectResult::timeout);
    outcomes.not_followed = 4;
    summary.outcomes = outcomes;
    EXPECT_EQ(
        to_json_line(summary_to_json(summary)),
        R"({"type":"summary","time":"2026-11-28T22:40:46.000001Z","events":3,"lost":0,"malformed":0,)"
        R"("duration_s":1.5,"hook":"tp_btf","lost_output":0,"results":{"established":2,"refused":0,"timeout":1,"reset":0,)"
        R"("aborted":0,"error":0,"failed":0,"untracked":0,"pending":0},"not_followed":4})");
}

Options parse_ok(std::vector<const char*> args) {
    args.insert(args.begin(), "connsnoop");
    auto parsed = parse_command_line(static_cast<int>(args.size()), args.data());
    if (auto* error = std::get_if<UsageError>(&parsed)) ADD_FAILURE() << error->message;
    return std::get<Options>(parsed);
}

TEST(OutcomeCommandLine, OutcomeAndFailedTurnOnTracking) {
    const auto plain = parse_ok({});
    EXPECT_EQ(plain.outcome, OutcomeMode::off);
    EXPECT_FALSE(plain.tracer.track_outcomes);

    const auto all = parse_ok({"--outcome"});
    EXPECT_EQ(all.outcome, OutcomeMode::all);
    EXPECT_TRUE(all.tracer.track_outcomes);

    EXPECT_EQ(parse_ok({"--failed"}).outcome, OutcomeMode::failed_only);
    EXPECT_EQ(parse_ok({"--outcome", "--failed"}).outcome, OutcomeMode::failed_only);
    EXPECT_TRUE(parse_ok({"--failed"}).tracer.track_outcomes);
    EXPECT_EQ(plain.tracer.max_in_flight, kDefaultMaxInFlight);
    EXPECT_EQ(parse_ok({"--outcome", "--max-in-flight", "64"}).tracer.max_in_flight, 64U);
}

TEST(OutcomeCommandLine, MaxInFlightMustBeAPositiveBoundedCount) {
    for (const char* bad : {"0", "-1", "x", "1048577"}) {
        const char* args[] = {"connsnoop", "--outcome", "--max-in-flight", bad};
        auto parsed = parse_command_line(4, args);
        const auto* error = std::get_if<UsageError>(&parsed);
        ASSERT_NE(error, nullptr) << bad;
        EXPECT_NE(error->message.find("--max-in-flight"), std::string::npos) << error->message;
        EXPECT_NE(error->message.find(bad), std::string::npos) << error->message;
    }
}

}  // namespace
}  // namespace connsnoop
