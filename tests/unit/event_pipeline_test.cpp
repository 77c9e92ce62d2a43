// The one event pipeline (issue 13): filters, enrichment and the outcome
// join run once, in that order, and every sink sees the same records.
#include "app/event_pipeline.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "aggregate/grouped_talkers.hpp"
#include "app/pipeline_sinks.hpp"
#include "enrich/event_enricher.hpp"

namespace connsnoop {
namespace {

// Records what reaches it, in order.
class CapturingSink final : public EventSink {
public:
    void on_connect(const ConnectEvent& event) override { seen.push_back("connect " + std::to_string(event.pid)); }
    void on_outcome(const ConnectEvent& event) override {
        seen.push_back("outcome " + std::to_string(event.pid) + " " +
                       std::string(result_name(event.outcome ? event.outcome->result : ConnectResult::pending)));
    }
    void on_overdue(const ConnectEvent& event) override {
        seen.push_back("overdue " + std::to_string(event.pid) + " " +
                       std::string(result_name(event.outcome ? event.outcome->result : ConnectResult::established)));
    }
    [[nodiscard]] bool finished() const override { return stop_after != 0 && seen.size() >= stop_after; }

    std::vector<std::string> seen;
    std::size_t stop_after = 0;
};

ConnectEvent attempt(std::uint32_t pid, std::uint64_t attempt_id) {
    ConnectEvent event;
    event.pid = pid;
    event.tid = pid;
    event.comm = "client";
    event.argv = {"client", std::to_string(pid)};
    event.attempt_id = attempt_id;
    event.monotonic_ns = 1'000'000;
    return event;
}

OutcomeEvent fate(std::uint64_t attempt_id, ConnectResult result) {
    OutcomeEvent outcome;
    outcome.attempt_id = attempt_id;
    outcome.outcome.result = result;
    outcome.outcome.latency_ns = 2'000'000;
    return outcome;
}

TEST(EventPipeline, AnAttemptStillConnectingAfterASecondIsAnnouncedOnceThenItsFate) {
    EventEnricher enricher;
    PipelineConfig config;
    config.join_outcomes = true;
    EventPipeline pipeline(config, enricher);
    CapturingSink sink;
    pipeline.add_sink(sink);

    EXPECT_TRUE(pipeline.connect(attempt(101, 7)));  // began at 1 ms
    EXPECT_TRUE(pipeline.tick(mono_time_from_ns(900'000'000)));
    EXPECT_EQ(sink.seen, (std::vector<std::string>{"connect 101"}));
    EXPECT_TRUE(pipeline.tick(mono_time_from_ns(1'002'000'000)));
    EXPECT_TRUE(pipeline.tick(mono_time_from_ns(1'500'000'000)));  // not twice
    EXPECT_TRUE(pipeline.outcome(fate(7, ConnectResult::timeout)));
    EXPECT_EQ(sink.seen, (std::vector<std::string>{"connect 101", "overdue 101 pending", "outcome 101 timeout"}));
}

TEST(EventPipeline, AttemptsReachSinksAtOnceAndAgainJoinedToTheirFate) {
    EventEnricher enricher;
    PipelineConfig config;
    config.join_outcomes = true;
    EventPipeline pipeline(config, enricher);
    CapturingSink sink;
    pipeline.add_sink(sink);

    EXPECT_TRUE(pipeline.connect(attempt(101, 7)));
    EXPECT_TRUE(pipeline.connect(attempt(102, 8)));
    EXPECT_TRUE(pipeline.outcome(fate(8, ConnectResult::refused)));
    EXPECT_TRUE(pipeline.outcome(fate(99, ConnectResult::established)));  // attempt never seen: nothing
    pipeline.finish();
    EXPECT_EQ(sink.seen,
              (std::vector<std::string>{"connect 101", "connect 102", "outcome 102 refused", "outcome 101 pending"}));
    EXPECT_EQ(pipeline.passed(), 2U);
}

TEST(EventPipeline, UnitAndContainerFiltersRunBeforeEverySink) {
    EventEnricher enricher;
    PipelineConfig config;
    config.unit = "nginx.service";  // no event of this test runs in it
    EventPipeline pipeline(config, enricher);
    CapturingSink sink;
    pipeline.add_sink(sink);
    EXPECT_TRUE(pipeline.connect(attempt(static_cast<std::uint32_t>(getpid()), 0)));
    EXPECT_TRUE(sink.seen.empty());
    EXPECT_EQ(pipeline.passed(), 0U);

    config.unit.clear();
    config.container_prefix = "abc123";
    EventPipeline by_container(config, enricher);
    by_container.add_sink(sink);
    EXPECT_TRUE(by_container.connect(attempt(static_cast<std::uint32_t>(getpid()), 0)));
    EXPECT_TRUE(sink.seen.empty());
}

TEST(EventPipeline, AFinishedSinkStopsDelivery) {
    EventEnricher enricher;
    EventPipeline pipeline(PipelineConfig{}, enricher);
    CapturingSink sink;
    sink.stop_after = 2;
    pipeline.add_sink(sink);
    EXPECT_TRUE(pipeline.connect(attempt(101, 0)));
    EXPECT_FALSE(pipeline.connect(attempt(102, 0)));
    EXPECT_TRUE(pipeline.finished());
}

// top's FAILED, MEAN and P99 come from the outcomes the pipeline joins.
TEST(EventPipeline, TheTalkerTableCountsFailuresFromJoinedOutcomes) {
    EventEnricher enricher;
    PipelineConfig config;
    config.join_outcomes = true;
    EventPipeline pipeline(config, enricher);
    GroupedTalkers talkers({GroupBy::pid}, MonoClock::now());
    TalkerSink sink(talkers);
    pipeline.add_sink(sink);

    pipeline.connect(attempt(101, 1));
    pipeline.connect(attempt(101, 2));
    pipeline.connect(attempt(101, 3));
    pipeline.outcome(fate(1, ConnectResult::established));
    pipeline.outcome(fate(2, ConnectResult::refused));
    pipeline.finish();  // attempt 3 stays pending: no fate to count

    const auto rows = talkers.table(GroupBy::pid).rows(MonoClock::now());
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].attempts, 3U);
    ASSERT_TRUE(rows[0].failures.has_value());
    EXPECT_EQ(*rows[0].failures, 1U);
    ASSERT_TRUE(rows[0].latency_mean.has_value());
    EXPECT_EQ(*rows[0].latency_mean, std::chrono::milliseconds(2));
}

}  // namespace
}  // namespace connsnoop
