#include "app/trace_session.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "aggregate/connect_metrics.hpp"
#include "aggregate/grouped_talkers.hpp"
#include "app/alert_watch.hpp"
#include "app/trace_loop.hpp"
#include "collect/outcome_joiner.hpp"
#include "collect/process_tracker.hpp"
#include "connsnoop_version.hpp"
#include "enrich/event_enricher.hpp"
#include "output/event_writer.hpp"
#include "output/metrics_server.hpp"
#include "output/prometheus_format.hpp"

namespace connsnoop {

namespace {

std::optional<std::size_t> terminal_width(bool wide) {
    if (wide || !isatty(STDOUT_FILENO)) return std::nullopt;
    winsize size{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return std::nullopt;
    return size.ws_col;
}

std::string describe_outcomes(const OutcomeSummary& outcomes) {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < kConnectResultCount; ++i) {
        if (outcomes.by_result[i] != 0) {
            parts.push_back(fmt::format("{} {}", outcomes.by_result[i], result_name(static_cast<ConnectResult>(i))));
        }
    }
    if (parts.empty()) parts.emplace_back("no attempts");
    return fmt::format("{}; {} outcomes not followed (in-flight map full)", fmt::join(parts, ", "),
                       outcomes.not_followed);
}

// --metrics: the counters and the HTTP server that exposes them. Bound
// before BPF is loaded, so a busy port fails fast.
struct MetricsExport {
    std::unique_ptr<ConnectMetrics> metrics;
    std::unique_ptr<MetricsServer> server;
};

Result<MetricsExport> start_metrics(const Options& options) {
    MetricsExport out;
    if (!options.metrics.listen) return out;
    out.metrics = std::make_unique<ConnectMetrics>(
        MetricsConfig{options.metrics.key, options.tracer.filters.destinations, options.metrics.max_series});
    auto server = MetricsServer::start(*options.metrics.listen, [&metrics = *out.metrics] {
        return format_prometheus(metrics.snapshot(), kConnsnoopVersion);
    });
    if (!server) return server.error();
    out.server = std::move(server).value();
    return out;
}

}  // namespace

int run_trace_session(const Options& options) {
    LineOutput stdout_lines(stdout);
    std::unique_ptr<LineOutput> file_lines;
    if (!options.output_path.empty()) {
        auto opened = LineOutput::open_file(options.output_path);
        if (!opened) {
            report_error(opened.error());
            return 1;
        }
        file_lines = std::move(opened).value();
    }
    LineOutput& event_lines = file_lines ? *file_lines : stdout_lines;
    event_lines.set_batched(true);  // flushed after every ring-buffer batch (after_poll)
    const bool outcomes_wanted = options.outcome != OutcomeMode::off;
    const auto width = file_lines ? std::nullopt : terminal_width(options.wide);
    auto writer = options.format == OutputFormat::json
                      ? make_json_writer(event_lines)
                      : make_table_writer(event_lines, TableLayout{options.time, width, outcomes_wanted,
                                                                   options.tracer.http_capture});

    auto metrics_export = start_metrics(options);
    if (!metrics_export) {
        report_error(metrics_export.error());
        return 1;
    }
    ConnectMetrics* metrics = metrics_export->metrics.get();

    // Started before the connect hook, so the parents of the first events are known.
    // Asked for with --ancestry, a refused exec tracker ends the run; loaded
    // by default, connsnoop runs without it and says so.
    std::unique_ptr<ProcessTracker> process_tracker;
    if (options.ancestry_depth > 0) {
        auto started = ProcessTracker::start(options.verbose, options.tracer.btf_path);
        if (started) {
            process_tracker = std::move(started).value();
        } else if (options.ancestry_given) {
            report_error(started.error());
            return 1;
        } else {
            std::fprintf(stderr,
                         "connsnoop: running without the exec tracker (%s): parents are named from /proc only\n",
                         started.error().message.c_str());
        }
    }
    EventEnricher enricher(process_tracker.get(), options.ancestry_depth);

    // --alert: events are also counted per group (--by) to know each group's rate.
    std::optional<GroupedTalkers> talkers;
    std::optional<AlertWatch> alerts;
    if (options.alert_rate) {
        talkers.emplace(std::vector<GroupBy>{options.group_by}, MonoClock::now());
        alerts.emplace(*options.alert_rate, options.group_by, alert_line_sink(event_lines, options.format));
    }

    std::uint64_t events = 0;
    const auto count_reached = [&] { return options.max_events && events >= *options.max_events; };
    // With --outcome/--failed an attempt is written once its fate is known,
    // and every fate is counted, also those --failed does not print.
    OutcomeJoiner joiner;
    std::optional<OutcomeSummary> outcome_counts;
    if (outcomes_wanted) outcome_counts.emplace();
    auto write_event = [&](const ConnectEvent& event) {
        if (outcome_counts && event.outcome) {
            outcome_counts->count(event.outcome->result);
            if (metrics) metrics->record_result(event);
            if (options.outcome == OutcomeMode::failed_only && !did_not_establish(event.outcome->result)) return true;
        }
        // --imds-v1 answers "which requests had no token": connects are not part of that answer.
        if (!options.quiet && !options.imds_v1_only) writer->write_connect(event);
        if (!options.imds_v1_only) ++events;
        return !writer->closed() && !count_reached();
    };

    const ConnectTracer* tracer = nullptr;
    TraceLoopHooks hooks;
    hooks.on_event = [&](ConnectEvent&& event) {
        // Enriched at the attempt, while the process and its parents still run.
        enricher.enrich(event);
        // The kernel knows cgroup IDs, not container IDs or unit names: these filters run here.
        if (!options.container_prefix.empty() && !event.container_id.starts_with(options.container_prefix)) return true;
        if (!options.unit.empty() && event.unit != options.unit) return true;
        if (metrics) metrics->record_attempt(event);
        if (talkers) talkers->record_attempt(event);
        if (!outcomes_wanted) return write_event(event);
        auto ready = joiner.add_attempt(std::move(event));
        return ready ? write_event(*ready) : true;
    };
    if (options.tracer.http_capture) {
        hooks.on_http = [&](HttpRequestEvent&& request) {
            if (options.imds_v1_only && classify_imds(request) != ImdsVersion::v1) return true;
            enricher.enrich(request.connection);
            if (!options.container_prefix.empty() &&
                !request.connection.container_id.starts_with(options.container_prefix)) {
                return true;
            }
            if (!options.unit.empty() && request.connection.unit != options.unit) return true;
            if (talkers) talkers->record_request(request);
            if (metrics) {
                if (const auto version = imds_version_name(classify_imds(request)); !version.empty()) {
                    metrics->record_imds_request(request.connection, version);
                }
            }
            if (!options.quiet) writer->write_http(request);
            ++events;
            return !writer->closed() && !count_reached();
        };
    }
    if (outcomes_wanted) {
        hooks.on_outcome = [&](OutcomeEvent&& outcome) {
            auto resolved = joiner.resolve(outcome);
            return resolved ? write_event(*resolved) : true;
        };
    }
    hooks.on_attached = [&](const ConnectTracer& attached) {
        tracer = &attached;
        if (metrics_export->server)
            std::fprintf(stderr, "connsnoop: metrics at %s\n", metrics_export->server->url().c_str());
    };
    hooks.on_started = [&] {
        if (!options.quiet) writer->begin();
    };
    hooks.on_loss = [&](const LossReport& report) {
        if (!options.quiet) writer->write_lost(report);
    };
    hooks.after_poll = [&] {
        event_lines.flush();
        event_lines.check_reader();
        if (alerts) {
            const auto now = MonoClock::now();
            talkers->expire(now);
            alerts->check(talkers->table(options.group_by), now);
        }
        if (metrics) {
            metrics->update_health({events, tracer->lost_events(), tracer->malformed_records(), 1,
                                    options.tracer.ringbuf_bytes, hook_name(tracer->hook())});
        }
        if (take_reopen_request()) {
            if (auto reopened = event_lines.reopen(); !reopened) report_error(reopened.error());
        }
        return true;
    };
    hooks.finished = [&] { return writer->closed() || count_reached(); };

    auto stats = run_trace_loop(options, hooks);
    if (!stats) {
        report_error(stats.error());
        return 1;
    }
    // Attempts still connecting when the run ends are written as pending.
    for (auto& event : joiner.take_pending()) {
        if (writer->closed() || count_reached()) {
            outcome_counts->count(ConnectResult::pending);  // still counted in the summary
        } else {
            write_event(event);
        }
    }
    event_lines.flush();
    int exit_code = stats->runtime_error ? 1 : 0;
    if (writer->closed() && event_lines.error() != EPIPE) {
        std::fprintf(stderr, "connsnoop: error: writing output: %s\n", std::strerror(event_lines.error()));
        exit_code = 1;
    }
    RunSummary summary{std::chrono::system_clock::now(), events,     stats->lost, stats->malformed,
                       stats->duration_seconds,          stats->hook};
    if (outcome_counts) {
        outcome_counts->not_followed = stats->untracked_outcomes;
        summary.outcomes = outcome_counts;
    }
    if (!options.quiet) writer->write_summary(summary);
    event_lines.flush();
    print_summary_line(summary);
    if (summary.outcomes)
        std::fprintf(stderr, "connsnoop: results: %s\n", describe_outcomes(*summary.outcomes).c_str());
    return exit_code;
}

}  // namespace connsnoop
