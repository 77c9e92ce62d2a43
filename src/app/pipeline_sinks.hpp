// The sinks sessions choose from: the event stream (table or JSON, to stdout
// or --output), the Prometheus counters (--metrics), the talker table (top,
// --alert) and the alerts (--alert).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_set>

#include "aggregate/connect_metrics.hpp"
#include "aggregate/grouped_talkers.hpp"
#include "app/alert_watch.hpp"
#include "app/event_pipeline.hpp"
#include "app/trace_loop.hpp"
#include "cli/options.hpp"
#include "collect/process_tracker.hpp"
#include "output/event_writer.hpp"
#include "output/line_output.hpp"
#include "output/metrics_server.hpp"

namespace connsnoop {

// Each event as a table row or a JSON line. With --outcome/--failed an
// attempt is written once its fate is known, and every fate is counted, also
// those --failed does not print.
class StreamSink final : public EventSink {
public:
    StreamSink(const Options& options, LineOutput& lines, std::unique_ptr<EventWriter> writer);

    void on_start() override;
    void on_connect(const ConnectEvent& event) override;
    void on_outcome(const ConnectEvent& event) override;
    void on_overdue(const ConnectEvent& event) override;
    void on_http(const HttpRequestEvent& request) override;
    void on_dns(const DnsQueryEvent& query) override;
    void on_loss(const LossReport& report) override;
    bool on_tick(MonoTime now) override;
    [[nodiscard]] bool finished() const override;

    // The summary record (stream), its line on stderr, and the exit code.
    int end_run(const TraceLoopStats& stats);
    [[nodiscard]] std::uint64_t events() const { return events_; }

private:
    void write_event(const ConnectEvent& event);

    const Options& options_;
    LineOutput& lines_;
    std::unique_ptr<EventWriter> writer_;
    std::optional<OutcomeSummary> outcome_counts_;
    std::unordered_set<std::uint64_t> announced_;  // attempt ids written as pending, fate not yet known
    std::uint64_t events_ = 0;
};

// --metrics: the counters and the HTTP server that exposes them.
class MetricsSink final : public EventSink {
public:
    // Binds the server (before BPF is loaded, so a busy port fails fast);
    // null without --metrics.
    static Result<std::unique_ptr<MetricsSink>> start(const Options& options);
    // The health gauges also count the lines --output dropped and the exec
    // tracker's program (either may be absent).
    void report_health_of(const LineOutput& lines, const ProcessTracker* exec_tracker) {
        lines_ = &lines;
        exec_tracker_ = exec_tracker;
    }

    void on_attached(const ConnectTracer& tracer) override;
    void on_connect(const ConnectEvent& event) override;
    void on_outcome(const ConnectEvent& event) override;
    void on_http(const HttpRequestEvent& request) override;
    void on_linklocal(const LinklocalSample& sample) override;
    bool on_tick(MonoTime now) override;

private:
    explicit MetricsSink(const Options& options);
    void publish_health();

    const Options& options_;
    std::unique_ptr<ConnectMetrics> metrics_;
    std::unique_ptr<MetricsServer> server_;
    const ConnectTracer* tracer_ = nullptr;
    const LineOutput* lines_ = nullptr;
    const ProcessTracker* exec_tracker_ = nullptr;
    std::uint64_t events_ = 0;
};

// Counts every event per group for each watched grouping: top's ranking and
// the rates --alert watches. With --outcome the fates fill FAILED, MEAN, P99.
class TalkerSink final : public EventSink {
public:
    explicit TalkerSink(GroupedTalkers& talkers) : talkers_(talkers) {}

    void on_connect(const ConnectEvent& event) override { talkers_.record_attempt(event); }
    void on_outcome(const ConnectEvent& event) override;
    void on_http(const HttpRequestEvent& request) override { talkers_.record_request(request); }
    void on_dns(const DnsQueryEvent& query) override { talkers_.record_query(query); }
    bool on_tick(MonoTime now) override;

private:
    GroupedTalkers& talkers_;
};

// --alert: checks the rates of the talker table (added after its TalkerSink).
class AlertSink final : public EventSink {
public:
    AlertSink(const GroupedTalkers& talkers, double threshold, GroupBy group_by, AlertWatch::Sink notices)
        : talkers_(talkers), watch_(threshold, group_by, std::move(notices)) {}

    bool on_tick(MonoTime now) override;
    [[nodiscard]] const AlertWatch& watch() const { return watch_; }

private:
    const GroupedTalkers& talkers_;
    AlertWatch watch_;
};

// The stages' configuration from the options: the same for every session.
PipelineConfig pipeline_config(const Options& options);

// The exec tracker that names parents for enrichment (--ancestry; on by
// default). Asked for with --ancestry, a refusal is an error; loaded by
// default, connsnoop runs without it and says so in one line (nullptr).
Result<std::unique_ptr<ProcessTracker>> start_exec_tracker(const Options& options);

// Where a session writes its lines: the --output file (appended to), else
// stdout; and for top and linklocal whether they draw the full screen.
class SessionOutput {
public:
    // Opens --output; without it the lines go to stdout.
    static Result<SessionOutput> open(const Options& options);
    // As open(), for a session that draws the full screen when it can: with a
    // terminal on stdout, and not with -q or --output. The terminal is checked
    // here, before anything is loaded: a terminal that cannot show the screen
    // is the user's first answer.
    static Result<SessionOutput> open_for_screen(const Options& options);

    [[nodiscard]] LineOutput& lines() const { return *lines_; }
    [[nodiscard]] bool to_file() const { return to_file_; }
    [[nodiscard]] bool interactive() const { return interactive_; }

private:
    SessionOutput(std::unique_ptr<LineOutput> lines, bool to_file) : lines_(std::move(lines)), to_file_(to_file) {}

    std::unique_ptr<LineOutput> lines_;
    bool to_file_;
    bool interactive_ = false;
};

}  // namespace connsnoop
