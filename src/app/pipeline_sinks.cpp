#include "app/pipeline_sinks.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "collect/connect_tracer.hpp"
#include "collect/libbpf_support.hpp"
#include "connsnoop_version.hpp"
#include "output/count_text.hpp"
#include "output/escape.hpp"
#include "output/prometheus_format.hpp"
#include "output/top_screen.hpp"

namespace connsnoop {

namespace {

std::string describe_outcomes(const OutcomeSummary& outcomes) {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < kConnectResultCount; ++i) {
        if (outcomes.by_result[i] != 0) {
            parts.push_back(fmt::format("{} {}", outcomes.by_result[i], result_name(static_cast<ConnectResult>(i))));
        }
    }
    if (parts.empty()) parts.emplace_back("no attempts");
    return fmt::format("{}; {} not followed (in-flight map full)", fmt::join(parts, ", "),
                       count_of(outcomes.not_followed, "outcome"));
}

}  // namespace

PipelineConfig pipeline_config(const Options& options) {
    PipelineConfig config;
    config.container_prefix = options.container_prefix;
    config.unit = options.unit;
    config.join_outcomes = options.outcome != OutcomeMode::off;
    config.imds_v1_only = options.imds_v1_only;
    return config;
}

Result<std::unique_ptr<ProcessTracker>> start_exec_tracker(const Options& options) {
    if (options.ancestry_depth == 0) return std::unique_ptr<ProcessTracker>();
    auto started = ProcessTracker::start(options.tracer);
    if (started) return std::move(started).value();
    // Asked for by the user (--ancestry, or a --btf file the connect tracer
    // needs just the same): the refusal is the answer, reported once at the top.
    if (options.ancestry_given || !options.tracer.btf_path.empty()) return started.error();
    // Without the privilege to load BPF the connect tracer fails the same
    // way: that is the one error to report, not a run "without the tracker".
    if (lacks_bpf_privileges(started.error().errno_value, current_bpf_privileges())) return started.error();
    std::fprintf(stderr, "connsnoop: running without the exec tracker (%s): parents are named from /proc only\n",
                 escape_for_terminal(started.error().message).c_str());
    return std::unique_ptr<ProcessTracker>();
}

Result<SessionOutput> SessionOutput::open(const Options& options) {
    if (options.output_path.empty()) return SessionOutput(std::make_unique<LineOutput>(stdout), false);
    auto file = LineOutput::open_file(options.output_path);
    if (!file) return file.error();
    return SessionOutput(std::move(file).value(), true);
}

Result<SessionOutput> SessionOutput::open_for_screen(const Options& options) {
    auto output = open(options);
    if (!output) return output.error();
    output->interactive_ = !output->to_file_ && !options.quiet && isatty(STDOUT_FILENO) != 0;
    if (output->interactive_) {
        const std::string_view view = options.mode == SessionMode::linklocal ? "linklocal" : "top";
        if (auto usable = TopScreen::check_terminal(view); !usable) return usable.error();
    }
    return output;
}

StreamSink::StreamSink(const Options& options, LineOutput& lines, std::unique_ptr<EventWriter> writer)
    : options_(options), lines_(lines), writer_(std::move(writer)) {
    if (options.outcome != OutcomeMode::off) outcome_counts_.emplace();
}

void StreamSink::on_start() {
    if (!options_.quiet) writer_->begin();
}

void StreamSink::write_event(const ConnectEvent& event) {
    // --imds-v1 answers "which requests had no token": connects are not part of that answer.
    if (options_.imds_v1_only) return;
    if (!options_.quiet) writer_->write_connect(event);
    ++events_;
}

void StreamSink::on_connect(const ConnectEvent& event) {
    if (!outcome_counts_ && !finished()) write_event(event);
}

void StreamSink::on_outcome(const ConnectEvent& event) {
    if (!outcome_counts_ || !event.outcome) return;
    outcome_counts_->count(event.outcome->result);  // counted in the summary, written or not
    // Still pending at the end and already written as pending: not twice.
    const bool announced = announced_.erase(event.attempt_id) != 0;
    if (announced && event.outcome->result == ConnectResult::pending) return;
    if (finished()) return;
    // --failed hides only what established: an attempt not followed (or
    // still pending at the end) may have failed, so it is shown.
    if (options_.outcome == OutcomeMode::failed_only && event.outcome->result == ConnectResult::established) return;
    write_event(event);
}

void StreamSink::on_overdue(const ConnectEvent& event) {
    if (!outcome_counts_) return;
    announced_.insert(event.attempt_id);
    if (!options_.quiet && !options_.imds_v1_only) writer_->write_connect(event);
}

void StreamSink::on_http(const HttpRequestEvent& request) {
    if (finished()) return;
    if (!options_.quiet) writer_->write_http(request);
    ++events_;
}

void StreamSink::on_dns(const DnsQueryEvent& query) {
    if (finished()) return;
    if (!options_.quiet) writer_->write_dns(query);
    ++events_;
}

void StreamSink::on_loss(const LossReport& report) {
    if (!options_.quiet) writer_->write_lost(report);
}

bool StreamSink::on_tick(MonoTime /*now*/) {
    // A write to a pipe whose reader has gone fails (EPIPE) and closes the
    // output by itself: poll for that only when there was nothing to write.
    const bool had_lines = lines_.has_pending();
    lines_.flush();
    if (!had_lines) lines_.check_reader();
    if (take_reopen_request()) {
        if (auto reopened = lines_.reopen(); !reopened) report_error(reopened.error());
    }
    return true;
}

bool StreamSink::finished() const {
    return writer_->closed() || (options_.max_events && events_ >= *options_.max_events);
}

int StreamSink::end_run(const TraceLoopStats& stats) {
    lines_.flush();
    const int exit_code = exit_code_after(stats, lines_);
    RunSummary summary{std::chrono::system_clock::now(), events_,   stats.lost, stats.malformed,
                       stats.duration_seconds,           stats.hook};
    if (outcome_counts_) {
        outcome_counts_->not_followed = stats.untracked_outcomes;
        summary.outcomes = outcome_counts_;
    }
    summary.lost_output = lines_.lost_lines();
    if (!options_.quiet) writer_->write_summary(summary);
    lines_.flush();
    summary.lost_output = lines_.lost_lines();  // the summary line itself may not have fit
    print_summary_line(summary);
    if (summary.outcomes)
        std::fprintf(stderr, "connsnoop: results: %s\n", describe_outcomes(*summary.outcomes).c_str());
    return exit_code;
}

MetricsSink::MetricsSink(const Options& options)
    : options_(options),
      metrics_(std::make_unique<ConnectMetrics>(
          MetricsConfig{options.metrics.key, options.tracer.filters.destinations, options.metrics.max_series})) {}

Result<std::unique_ptr<MetricsSink>> MetricsSink::start(const Options& options) {
    if (!options.metrics.listen) return std::unique_ptr<MetricsSink>();
    std::unique_ptr<MetricsSink> sink(new MetricsSink(options));
    auto server = MetricsServer::start(*options.metrics.listen, [&metrics = *sink->metrics_] {
        return format_prometheus(metrics.snapshot(), kConnsnoopVersion);
    });
    if (!server) return server.error();
    sink->server_ = std::move(server).value();
    return sink;
}

// The tool's own health, from the first scrape on (not only after a poll).
void MetricsSink::publish_health() {
    if (!tracer_) return;
    const auto attached = tracer_->programs_attached() + (exec_tracker_ ? exec_tracker_->programs_attached() : 0);
    metrics_->update_health({events_, tracer_->lost_events(), tracer_->malformed_records(), attached,
                             options_.tracer.ringbuf_bytes, hook_name(tracer_->hook()),
                             lines_ ? lines_->lost_lines() : 0});
}

void MetricsSink::on_attached(const ConnectTracer& tracer) {
    tracer_ = &tracer;
    publish_health();
    std::fprintf(stderr, "connsnoop: metrics at %s\n", server_->url().c_str());
}

void MetricsSink::on_connect(const ConnectEvent& event) {
    metrics_->record_attempt(event);
    ++events_;
}

void MetricsSink::on_outcome(const ConnectEvent& event) {
    if (event.outcome) metrics_->record_result(event);
}

void MetricsSink::on_http(const HttpRequestEvent& request) {
    ++events_;
    if (const auto version = imds_version_name(classify_imds(request)); !version.empty())
        metrics_->record_imds_request(request.connection, version);
}

void MetricsSink::on_linklocal(const LinklocalSample& sample) {
    const auto& services = options_.tracer.linklocal_services;
    std::uint64_t sent = 0;
    for (const auto& traffic : sample.traffic) {
        LinklocalLabels labels;
        labels.service = traffic.service < services.size() ? services[traffic.service].name : std::string("other");
        labels.direction = direction_name(traffic.direction);
        labels.protocol = protocol_name(traffic.protocol);
        metrics_->record_linklocal(traffic.process, traffic.owner_known, std::move(labels), traffic.packets,
                                   traffic.bytes);
        if (traffic.direction == LinklocalDirection::sent) sent += traffic.packets;
    }
    const double seconds = sample.interval_seconds;
    metrics_->update_linklocal_rate(options_.linklocal.budget_pps,
                                    seconds > 0 ? static_cast<double>(sent) / seconds : 0);
    ++events_;
}

bool MetricsSink::on_tick(MonoTime /*now*/) {
    publish_health();
    return true;
}

void TalkerSink::on_outcome(const ConnectEvent& event) {
    // Untracked and pending attempts have no fate to count.
    if (!event.outcome || event.outcome->result == ConnectResult::pending ||
        event.outcome->result == ConnectResult::untracked)
        return;
    const auto latency = std::chrono::nanoseconds(event.outcome->latency_ns.value_or(0));
    talkers_.record_outcome(event, did_not_establish(event.outcome->result), latency);
}

bool TalkerSink::on_tick(MonoTime now) {
    talkers_.expire(now);
    return true;
}

bool AlertSink::on_tick(MonoTime now) {
    watch_.check(talkers_.table(watch_.group_by()), now);
    return true;
}

}  // namespace connsnoop
