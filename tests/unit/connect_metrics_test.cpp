#include "aggregate/connect_metrics.hpp"

#include <gtest/gtest.h>

#include "event_fixtures.hpp"
#include "output/prometheus_format.hpp"

namespace connsnoop {
namespace {

MetricsConfig imds_config(MetricsKey key = MetricsKey::comm, std::size_t max_series = 1000) {
    return MetricsConfig{key, {*parse_cidr("169.254.169.254/32"), *parse_cidr("fd00:ec2::254/128")}, max_series};
}

TEST(ConnectMetrics, CountsByKeyConfiguredDestinationAndPort) {
    ConnectMetrics metrics(imds_config());
    auto curl = fixtures::sample_event();
    metrics.record_attempt(curl);
    metrics.record_attempt(curl);
    auto elsewhere = fixtures::sample_event();
    elsewhere.comm = "python3";
    elsewhere.destination = *IpAddress::parse("127.0.0.1");
    elsewhere.destination_port = 8080;
    metrics.record_attempt(elsewhere);

    const auto snapshot = metrics.snapshot();
    EXPECT_EQ(snapshot.key_name, "comm");
    ASSERT_EQ(snapshot.attempts.size(), 2U);
    EXPECT_EQ(snapshot.attempts.at(SeriesLabels{"curl", "169.254.169.254/32", "80", ""}), 2U);
    EXPECT_EQ(snapshot.attempts.at(SeriesLabels{"python3", "other", "8080", ""}), 1U);
}

TEST(ConnectMetrics, KeysByUnitContainerOrExe) {
    auto event = fixtures::sample_event();
    event.unit = "nginx.service";
    event.container_id = std::string(64, 'b');
    event.exe = "/usr/bin/curl";
    ConnectMetrics by_unit(imds_config(MetricsKey::unit));
    by_unit.record_attempt(event);
    EXPECT_EQ(by_unit.snapshot().attempts.begin()->first.key, "nginx.service");
    ConnectMetrics by_container(imds_config(MetricsKey::container));
    by_container.record_attempt(event);
    EXPECT_EQ(by_container.snapshot().attempts.begin()->first.key, std::string(12, 'b'));
    ConnectMetrics by_exe(imds_config(MetricsKey::exe));
    by_exe.record_attempt(event);
    event.exe.clear();  // gone before /proc was read: fall back to comm
    by_exe.record_attempt(event);
    EXPECT_EQ(by_exe.snapshot().attempts.at(SeriesLabels{"/usr/bin/curl", "169.254.169.254/32", "80", ""}), 1U);
    EXPECT_EQ(by_exe.snapshot().attempts.at(SeriesLabels{"curl", "169.254.169.254/32", "80", ""}), 1U);
}

TEST(ConnectMetrics, SeriesBeyondTheCapFoldIntoOther) {
    ConnectMetrics metrics(imds_config(MetricsKey::comm, 2));
    for (const char* comm : {"a", "b", "c", "d", "a"}) {
        auto event = fixtures::sample_event();
        event.comm = comm;
        metrics.record_attempt(event);
    }
    const auto snapshot = metrics.snapshot();
    EXPECT_EQ(snapshot.attempts.size(), 3U);  // a, b and the catch-all
    EXPECT_EQ(snapshot.attempts.at(SeriesLabels{"a", "169.254.169.254/32", "80", ""}), 2U);
    EXPECT_EQ(snapshot.attempts.at(SeriesLabels{"other", "other", "other", ""}), 2U);
    EXPECT_EQ(snapshot.folded_attempts, 2U);
}

TEST(ConnectMetrics, ImdsRequestsByVersion) {
    ConnectMetrics metrics(imds_config());
    const auto curl = fixtures::sample_event();
    metrics.record_imds_request(curl, "imdsv1");
    metrics.record_imds_request(curl, "imdsv1");
    metrics.record_imds_request(curl, "imdsv2-token");
    const auto snapshot = metrics.snapshot();
    EXPECT_EQ(snapshot.imds_requests.at(SeriesLabels{"curl", "169.254.169.254/32", "80", "imdsv1"}), 2U);
    EXPECT_EQ(snapshot.imds_requests.at(SeriesLabels{"curl", "169.254.169.254/32", "80", "imdsv2-token"}), 1U);
    const auto text = format_prometheus(snapshot, "0.1.0");
    EXPECT_NE(text.find("connsnoop_imds_requests_total{comm=\"curl\",daddr=\"169.254.169.254/32\",dport=\"80\","
                        "version=\"imdsv1\"} 2\n"),
              std::string::npos)
        << text;
}

TEST(PrometheusFormat, LabelValuesAreEscaped) {
    // The table's rule, then the exposition's: a scrape read on a terminal
    // shows the same text as the table and cannot act on the terminal.
    EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\\\\\c\\\\x0ad");
    EXPECT_EQ(escape_label_value("\xff"), "\\\\xff");
    EXPECT_EQ(escape_label_value("q\x1b[31m"), "q\\\\x1b[31m");
    EXPECT_EQ(escape_label_value("\xe2\x80\xae"), "\\\\xe2\\\\x80\\\\xae");  // U+202E RIGHT-TO-LEFT OVERRIDE
}

TEST(PrometheusFormat, ExpositionHasCountersAndHealth) {
    ConnectMetrics metrics(imds_config());
    auto event = fixtures::sample_event();
    event.comm = "evil\"name";
    metrics.record_attempt(event);
    metrics.update_health({7, 2, 0, 1, 4096, "tp_btf"});
    const auto text = format_prometheus(metrics.snapshot(), "0.1.0");
    EXPECT_NE(text.find("# TYPE connsnoop_connect_attempts_total counter\n"), std::string::npos);
    EXPECT_NE(
        text.find(
            "connsnoop_connect_attempts_total{comm=\"evil\\\"name\",daddr=\"169.254.169.254/32\",dport=\"80\"} 1\n"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("connsnoop_events_received_total 7\n"), std::string::npos);
    EXPECT_NE(text.find("connsnoop_events_lost_total 2\n"), std::string::npos);
    EXPECT_NE(text.find("connsnoop_build_info{version=\"0.1.0\",hook=\"tp_btf\"} 1\n"), std::string::npos);
    EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace connsnoop
