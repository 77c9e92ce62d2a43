// Aggregation with a fake clock: rate windows, percentiles, expiry, sorting, alerts.
#include "aggregate/talker_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "aggregate/group_key.hpp"
#include "aggregate/grouped_talkers.hpp"
#include "aggregate/latency_histogram.hpp"
#include "aggregate/rate_alerts.hpp"
#include "aggregate/rate_window.hpp"
#include "event_fixtures.hpp"

namespace connsnoop {
namespace {

using namespace std::chrono_literals;

// A fake monotonic clock: an arbitrary origin plus whatever the test says.
const MonoTime kOrigin = MonoTime(std::chrono::seconds(1000));
MonoTime at(std::chrono::milliseconds offset) { return kOrigin + offset; }

// `count` attempts spread evenly over [from, from + span).
void attempts(TalkerTable& table, std::string_view key, int count, std::chrono::milliseconds from,
              std::chrono::milliseconds span) {
    for (int i = 0; i < count; ++i) table.record_attempt(key, "", at(from + span * i / count));
}

const TalkerRow& row_of(const std::vector<TalkerRow>& rows, std::string_view key) {
    const auto found = std::find_if(rows.begin(), rows.end(), [&](const auto& row) { return row.key == key; });
    if (found == rows.end()) throw std::runtime_error("no row " + std::string(key));
    return *found;
}

TEST(RateWindow, CountsOnlyCompleteBucketsInTheSpan) {
    RateWindow window;
    window.add(at(50ms));
    window.add(at(950ms));
    window.add(at(1050ms));  // in the bucket that holds "now" below: not complete yet
    EXPECT_EQ(window.count_before(at(1099ms), 1000ms), 2U);
    EXPECT_EQ(window.count_before(at(1100ms), 1000ms), 2U);  // 0.1..1.1 s: drops the first, adds the third
    EXPECT_EQ(window.count_before(at(1100ms), 100ms), 1U);
    EXPECT_EQ(window.count_before(at(5000ms), 1000ms), 0U);
}

TEST(RateWindow, ForgetsWhatIsOlderThanAMinuteAndReusesItsSlots) {
    RateWindow window;
    window.add(at(0ms), 7);
    window.add(at(30s));
    EXPECT_EQ(window.count_before(at(31s), 60s), 8U);
    window.add(at(65s));  // the ring wrapped: the slot of t=0 now holds t=60s
    EXPECT_EQ(window.count_before(at(66s), 60s), 2U);
    window.add(at(1s));  // older than the window: ignored
    EXPECT_EQ(window.count_before(at(66s), 60s), 2U);
    window.add(at(10min));
    EXPECT_EQ(window.count_before(at(10min + 1s), 60s), 1U);
}

TEST(TalkerTable, RatesOverOneTenAndSixtySeconds) {
    TalkerTable table(kOrigin);
    attempts(table, "steady", 600, 0ms, 60s);  // 10/s for a minute
    attempts(table, "burst", 50, 59s, 1s);     // 50 in the last second
    const auto rows = table.rows(at(60s));
    const auto& steady = row_of(rows, "steady");
    EXPECT_DOUBLE_EQ(steady.rate_1s, 10.0);
    EXPECT_DOUBLE_EQ(steady.rate_10s, 10.0);
    EXPECT_NEAR(steady.rate_60s, 10.0, 1e-9);  // over the 59.9 s of complete buckets the ring holds
    EXPECT_EQ(steady.attempts, 600U);
    const auto& burst = row_of(rows, "burst");
    EXPECT_DOUBLE_EQ(burst.rate_1s, 50.0);
    EXPECT_DOUBLE_EQ(burst.rate_10s, 5.0);
    EXPECT_EQ(burst.attempts, 50U);
    EXPECT_FALSE(burst.failures);  // unknown until outcomes arrive: shown as "-"
    EXPECT_FALSE(burst.latency_p99);
}

TEST(TalkerTable, EarlyRatesUseTheTimeObservedSoFar) {
    TalkerTable table(kOrigin);
    attempts(table, "fast", 200, 0ms, 2s);  // 100/s for the first two seconds
    const auto row = table.rows(at(2s)).at(0);
    EXPECT_DOUBLE_EQ(row.rate_1s, 100.0);
    EXPECT_DOUBLE_EQ(row.rate_10s, 100.0);  // not 200 / 10
    EXPECT_DOUBLE_EQ(row.rate_60s, 100.0);
    EXPECT_EQ(table.observed(at(2s)), 2000ms);
    EXPECT_EQ(table.observed(at(2050ms)), 2000ms);  // the bucket that has just begun does not count
    EXPECT_EQ(table.observed(at(50ms)), 0ms);
    EXPECT_EQ(table.observed(at(1h)), 59'900ms);
}

TEST(TalkerTable, OutcomesGiveFailuresMeanAndP99) {
    TalkerTable table(kOrigin);
    attempts(table, "client", 100, 0ms, 1s);
    for (int i = 1; i <= 100; ++i) {
        EXPECT_TRUE(table.record_outcome("client", i > 90, std::chrono::milliseconds(i)));
    }
    EXPECT_FALSE(table.record_outcome("unknown", true, 1ms));
    const auto row = table.rows(at(1s)).at(0);
    EXPECT_EQ(row.failures, 10U);
    EXPECT_EQ(row.latency_mean, std::chrono::microseconds(50'500));
    ASSERT_TRUE(row.latency_p99);
    EXPECT_GE(*row.latency_p99, 99ms);
    EXPECT_LE(*row.latency_p99, 100ms);  // never above the largest sample
}

TEST(LatencyHistogram, PercentilesWithinOneEighth) {
    LatencyHistogram histogram;
    for (int i = 1; i <= 10'000; ++i) histogram.add(std::chrono::microseconds(i * 10));  // 10 us .. 100 ms
    const auto p50 = histogram.percentile(0.5)->count();
    const auto p99 = histogram.percentile(0.99)->count();
    EXPECT_GE(p50, 50'000'000 * 1);
    EXPECT_LE(p50, 50'000'000 * 9 / 8);
    EXPECT_GE(p99, 99'000'000);
    EXPECT_LE(p99, 99'000'000 * 9 / 8);
    EXPECT_EQ(histogram.percentile(1.0), std::chrono::nanoseconds(100'000'000));
    EXPECT_FALSE(LatencyHistogram{}.percentile(0.99));
    LatencyHistogram tiny;
    tiny.add(3us);
    EXPECT_EQ(tiny.percentile(0.99), 3us);
}

TEST(TalkerTable, IdleGroupsExpire) {
    TalkerTable table(kOrigin, TalkerLimits{std::chrono::seconds(90), 100});
    table.record_attempt("old", "", at(0ms));
    table.record_attempt("new", "", at(60s));
    table.expire(at(90s));
    EXPECT_EQ(table.group_count(), 2U);
    table.expire(at(91s));
    EXPECT_EQ(table.group_count(), 1U);
    EXPECT_EQ(table.rows(at(91s)).at(0).key, "new");
    EXPECT_EQ(table.expired_groups(), 1U);
}

TEST(TalkerTable, MemoryIsBoundedByEvictingTheLeastRecentlySeen) {
    TalkerTable table(kOrigin, TalkerLimits{std::chrono::seconds(90), 3});
    for (int i = 0; i < 10; ++i) table.record_attempt("pid " + std::to_string(i), "", at(i * 1s));
    EXPECT_EQ(table.group_count(), 3U);
    EXPECT_EQ(table.evicted_groups(), 7U);
    auto rows = table.rows(at(10s));
    sort_rows(rows, SortColumn::key);
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].key, "pid 7");
    EXPECT_EQ(rows[2].key, "pid 9");
}

TEST(TalkerTable, SortsByTheChosenColumn) {
    TalkerTable table(kOrigin);
    attempts(table, "was busy", 500, 0ms, 5s);  // 100/s, then quiet
    attempts(table, "busy now", 60, 9s, 1s);    // 60/s in the last second
    attempts(table, "trickle", 5, 0ms, 10s);
    table.record_outcome("trickle", true, 900ms);
    auto rows = table.rows(at(10s));
    const auto order = [&](SortColumn column) {
        sort_rows(rows, column);
        std::vector<std::string> keys;
        for (const auto& row : rows) keys.push_back(row.key);
        return keys;
    };
    EXPECT_EQ(order(SortColumn::rate_1s), (std::vector<std::string>{"busy now", "was busy", "trickle"}));
    EXPECT_EQ(order(SortColumn::rate_10s), (std::vector<std::string>{"was busy", "busy now", "trickle"}));
    EXPECT_EQ(order(SortColumn::attempts), (std::vector<std::string>{"was busy", "busy now", "trickle"}));
    EXPECT_EQ(order(SortColumn::failures).front(), "trickle");
    EXPECT_EQ(order(SortColumn::latency_p99).front(), "trickle");
    EXPECT_EQ(order(SortColumn::last_seen), (std::vector<std::string>{"busy now", "trickle", "was busy"}));
    EXPECT_EQ(order(SortColumn::key), (std::vector<std::string>{"busy now", "trickle", "was busy"}));
}

TEST(SortColumn, CyclesThroughEveryColumn) {
    SortColumn column = SortColumn::rate_1s;
    for (std::size_t i = 0; i < kSortColumns; ++i) column = next_sort_column(column);
    EXPECT_EQ(column, SortColumn::rate_1s);
    EXPECT_EQ(sort_column_name(next_sort_column(SortColumn::rate_1s)), "10s");
}

TalkerRow rate_row(std::string key, double rate, std::chrono::milliseconds age = 10s) {
    TalkerRow row;
    row.key = std::move(key);
    row.rate_1s = rate;
    row.age = age;
    return row;
}

TEST(RateAlerts, FireOnceAboveAndResolveOnceWellBelow) {
    RateAlerts alerts(100.0);                                                      // resolves below 80/s
    EXPECT_TRUE(alerts.update({rate_row("a", 100.0), rate_row("b", 5)}).empty());  // at RATE is not above it
    auto fired = alerts.update({rate_row("a", 150.0), rate_row("b", 5)});
    ASSERT_EQ(fired.size(), 1U);
    EXPECT_EQ(fired[0].key, "a");
    EXPECT_TRUE(fired[0].firing);
    EXPECT_DOUBLE_EQ(fired[0].rate, 150.0);
    EXPECT_TRUE(alerts.update({rate_row("a", 200.0)}).empty());  // still firing: no repeat
    EXPECT_TRUE(alerts.update({rate_row("a", 95.0)}).empty());   // hysteresis: below RATE, not below 80
    EXPECT_TRUE(alerts.update({rate_row("a", 101.0)}).empty());  // back above: no second firing
    auto resolved = alerts.update({rate_row("a", 79.0)});
    ASSERT_EQ(resolved.size(), 1U);
    EXPECT_FALSE(resolved[0].firing);
    EXPECT_FALSE(alerts.is_firing("a"));
    EXPECT_EQ(alerts.update({rate_row("a", 101.0)}).size(), 1U);  // can fire again
}

TEST(RateAlerts, AGroupFiresOnlyOnceItsLastSecondIsAllItsOwn) {
    RateAlerts alerts(30.0);
    EXPECT_TRUE(alerts.update({rate_row("new", 31.0, 400ms)}).empty());  // a window part empty understates it
    const auto fired = alerts.update({rate_row("new", 95.0, 1100ms)});
    ASSERT_EQ(fired.size(), 1U);
    EXPECT_DOUBLE_EQ(fired[0].rate, 95.0);
}

TEST(RateAlerts, AGroupThatExpiresWhileFiringResolves) {
    RateAlerts alerts(10.0);
    alerts.update({rate_row("gone", 50.0)});
    const auto resolved = alerts.update({});
    ASSERT_EQ(resolved.size(), 1U);
    EXPECT_EQ(resolved[0].key, "gone");
    EXPECT_FALSE(resolved[0].firing);
    EXPECT_EQ(alerts.firing_count(), 0U);
}

TEST(GroupKey, EachGroupingPicksItsField) {
    auto event = fixtures::sample_event();
    const std::string cmdline = command_line(event);
    EXPECT_EQ(group_key(event, cmdline, GroupBy::command), "curl -s http://169.254.169.254/");
    EXPECT_EQ(group_key(event, cmdline, GroupBy::pid), "4321");
    EXPECT_EQ(group_key(event, cmdline, GroupBy::comm), "curl");
    EXPECT_EQ(group_key(event, cmdline, GroupBy::user), "root");
    EXPECT_EQ(group_key(event, cmdline, GroupBy::cgroup), "99");  // the ID while no path is known
    EXPECT_EQ(group_key(event, cmdline, GroupBy::container), "-");
    EXPECT_EQ(group_key(event, cmdline, GroupBy::unit), "-");
    event.cgroup_path = "/system.slice/docker-" + std::string(64, 'd') + ".scope";
    event.container_id = std::string(64, 'd');
    event.unit = "docker-" + std::string(64, 'd') + ".scope";
    EXPECT_EQ(group_key(event, cmdline, GroupBy::cgroup), event.cgroup_path);
    EXPECT_EQ(group_key(event, cmdline, GroupBy::container), std::string(12, 'd'));
    EXPECT_EQ(group_key(event, cmdline, GroupBy::unit), event.unit);
    EXPECT_EQ(parse_group_by("comm"), GroupBy::comm);
    EXPECT_EQ(parse_group_by("container"), GroupBy::container);
    EXPECT_FALSE(parse_group_by("pod"));
    GroupBy by = GroupBy::command;
    for (std::size_t i = 0; i < kGroupings.size(); ++i) by = next_grouping(by);
    EXPECT_EQ(by, GroupBy::command);
}

TEST(GroupedTalkers, EveryWatchedGroupingCountsEveryEventAndOutcomesFindTheirGroups) {
    GroupedTalkers talkers({GroupBy::command, GroupBy::pid, GroupBy::user}, kOrigin);
    auto first = fixtures::sample_event({"curl", "-s", "http://169.254.169.254/a"});
    auto second = fixtures::sample_event({"curl", "-s", "http://169.254.169.254/b"});  // same pid and user
    first.monotonic_ns = static_cast<std::uint64_t>(at(100ms).time_since_epoch().count());
    second.monotonic_ns = static_cast<std::uint64_t>(at(200ms).time_since_epoch().count());
    talkers.record_attempt(first);
    talkers.record_attempt(second);
    talkers.record_outcome(second, true, 3ms);

    const auto by_command = talkers.table(GroupBy::command).rows(at(1s));
    ASSERT_EQ(by_command.size(), 2U);
    EXPECT_EQ(row_of(by_command, "curl -s http://169.254.169.254/a").label, "");  // the key is the command line
    EXPECT_FALSE(row_of(by_command, "curl -s http://169.254.169.254/a").failures);
    EXPECT_EQ(row_of(by_command, "curl -s http://169.254.169.254/b").failures, 1U);

    const auto by_pid = talkers.table(GroupBy::pid).rows(at(1s));
    ASSERT_EQ(by_pid.size(), 1U);
    EXPECT_EQ(by_pid[0].key, "4321");
    EXPECT_EQ(by_pid[0].attempts, 2U);
    EXPECT_EQ(by_pid[0].label, "curl -s http://169.254.169.254/b");  // the latest command line
    EXPECT_EQ(by_pid[0].latency_p99, 3ms);
    EXPECT_EQ(talkers.table(GroupBy::user).rows(at(1s)).at(0).key, "root");
    EXPECT_THROW((void)talkers.table(GroupBy::comm), std::out_of_range);  // not watched
}

}  // namespace
}  // namespace connsnoop
