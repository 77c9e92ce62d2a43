#include "app/trace_session.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>

#include "aggregate/connect_metrics.hpp"
#include "collect/connect_tracer.hpp"
#include "collect/outcome_joiner.hpp"
#include "collect/process_tracker.hpp"
#include "connsnoop_version.hpp"
#include "enrich/event_enricher.hpp"
#include "output/event_writer.hpp"
#include "output/escape.hpp"
#include "output/metrics_server.hpp"
#include "output/prometheus_format.hpp"

namespace connsnoop {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_reopen_requested = 0;

void request_stop(int signal_number) { g_stop_signal = signal_number; }
void request_reopen(int /*signal_number*/) { g_reopen_requested = 1; }

// SIGINT/SIGTERM interrupt the ring-buffer wait (no SA_RESTART) and end the
// loop cleanly; SIGHUP reopens --output (log rotation); SIGPIPE is ignored so
// a closed reader shows up as EPIPE.
void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    action.sa_handler = request_reopen;
    sigaction(SIGHUP, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

std::optional<std::size_t> terminal_width(bool wide) {
    if (wide || !isatty(STDOUT_FILENO)) return std::nullopt;
    winsize size{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return std::nullopt;
    return size.ws_col;
}

void report_error(const Error& error) {
    std::fprintf(stderr, "connsnoop: error: %s\n", error.message.c_str());
    if (!error.hint.empty()) std::fprintf(stderr, "hint: %s\n", error.hint.c_str());
}

std::string describe_filters(const TraceFilters& filters) {
    std::vector<std::string> parts;
    for (const auto& cidr : filters.destinations) parts.push_back("dst " + cidr.to_string());
    for (auto port : filters.destination_ports) parts.push_back("port " + std::to_string(port));
    for (auto pid : filters.pids) parts.push_back("pid " + std::to_string(pid));
    for (auto uid : filters.uids) parts.push_back("uid " + std::to_string(uid));
    if (!filters.cgroup_path.empty()) parts.push_back("cgroup " + escape_for_terminal(filters.cgroup_path));
    if (!filters.comm.empty()) parts.push_back("comm " + escape_for_terminal(filters.comm));
    return parts.empty() ? "all" : fmt::format("{}", fmt::join(parts, ", "));
}

// Reports kernel-side loss as it happens: a record in the stream whenever it
// grows, and on stderr at most once a second.
class LossMonitor {
public:
    LossMonitor(const ConnectTracer& tracer, EventWriter& writer) : tracer_(tracer), writer_(writer) {}

    void check(bool final_check) {
        const auto total = tracer_.lost_events();
        const auto now = std::chrono::steady_clock::now();
        if (total > reported_in_stream_) {
            writer_.write_lost({std::chrono::system_clock::now(), total - reported_in_stream_, total});
            reported_in_stream_ = total;
        }
        if (total > reported_on_stderr_ && (final_check || now - last_stderr_report_ >= std::chrono::seconds(1))) {
            std::fprintf(stderr,
                         "connsnoop: %llu events lost (ring buffer full), %llu in all; "
                         "try a larger --ringbuf-size or narrower filters\n",
                         static_cast<unsigned long long>(total - reported_on_stderr_),
                         static_cast<unsigned long long>(total));
            reported_on_stderr_ = total;
            last_stderr_report_ = now;
        }
    }
    [[nodiscard]] std::uint64_t total() const { return reported_in_stream_; }

private:
    const ConnectTracer& tracer_;
    EventWriter& writer_;
    std::uint64_t reported_in_stream_ = 0;
    std::uint64_t reported_on_stderr_ = 0;
    std::chrono::steady_clock::time_point last_stderr_report_{};
};

constexpr auto kPollInterval = std::chrono::milliseconds(100);

// "2 established, 1 refused; 0 not followed": the results that occurred.
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

}  // namespace

int run_trace_session(const Options& options) {
    install_signal_handlers();
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
    const bool outcomes_wanted = options.outcome != OutcomeMode::off;
    const auto width = file_lines ? std::nullopt : terminal_width(options.wide);
    auto writer = options.format == OutputFormat::json
                      ? make_json_writer(event_lines)
                      : make_table_writer(event_lines, TableLayout{options.time, width, outcomes_wanted});

    // Metrics: bind before loading BPF, so a busy port fails fast.
    std::unique_ptr<ConnectMetrics> metrics;
    std::unique_ptr<MetricsServer> metrics_server;
    if (options.metrics.listen) {
        metrics = std::make_unique<ConnectMetrics>(
            MetricsConfig{options.metrics.key, options.tracer.filters.destinations, options.metrics.max_series});
        auto server = MetricsServer::start(*options.metrics.listen, [&metrics = *metrics] {
            return format_prometheus(metrics.snapshot(), kConnsnoopVersion);
        });
        if (!server) {
            report_error(server.error());
            return 1;
        }
        metrics_server = std::move(server).value();
    }

    // Started before the connect hook, so the parents of the first events are known.
    std::unique_ptr<ProcessTracker> process_tracker;
    if (options.ancestry_depth > 0) {
        auto started = ProcessTracker::start(options.verbose);
        if (!started) {
            report_error(started.error());
            return 1;
        }
        process_tracker = std::move(started).value();
    }
    EventEnricher enricher(process_tracker.get(), options.ancestry_depth);
    std::uint64_t events = 0;
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
        if (!options.quiet) writer->write_connect(event);
        ++events;
        return !writer->closed() && !(options.max_events && events >= *options.max_events);
    };
    auto on_event = [&](ConnectEvent&& event) {
        // Enriched at the attempt, while the process and its parents still run.
        enricher.enrich(event);
        // The kernel knows cgroup IDs, not container IDs or unit names: these filters run here.
        if (!options.container_prefix.empty() && !event.container_id.starts_with(options.container_prefix)) return true;
        if (!options.unit.empty() && event.unit != options.unit) return true;
        if (metrics) metrics->record_attempt(event);
        if (!outcomes_wanted) return write_event(event);
        auto ready = joiner.add_attempt(std::move(event));
        return ready ? write_event(*ready) : true;
    };
    auto on_outcome = [&](OutcomeEvent&& outcome) {
        auto resolved = joiner.resolve(outcome);
        return resolved ? write_event(*resolved) : true;
    };

    auto tracer = ConnectTracer::start(options.tracer, on_event, on_outcome);
    if (!tracer) {
        report_error(tracer.error());
        return 1;
    }
    std::fprintf(stderr, "connsnoop: tracing TCP connects via %s (filters: %s%s). Ctrl-C to end.\n",
                 (*tracer)->hook().c_str(), describe_filters(options.tracer.filters).c_str(),
                 outcomes_wanted ? "; following outcomes" : "");
    if (metrics_server) std::fprintf(stderr, "connsnoop: metrics at %s\n", metrics_server->url().c_str());
    if (!options.quiet) writer->begin();
    const auto update_health = [&] {
        if (metrics) {
            metrics->update_health({events, (*tracer)->lost_events(), (*tracer)->malformed_records(), 1,
                                    options.tracer.ringbuf_bytes, (*tracer)->hook()});
        }
    };

    LossMonitor losses(**tracer, *writer);
    const auto started = std::chrono::steady_clock::now();
    const auto done = [&] {
        return g_stop_signal != 0 || writer->closed() || (options.max_events && events >= *options.max_events) ||
               (options.duration && std::chrono::steady_clock::now() - started >= *options.duration);
    };
    int exit_code = 0;
    while (!done()) {
        auto polled = (*tracer)->poll(kPollInterval);
        if (!polled) {
            report_error(polled.error());
            exit_code = 1;
            break;
        }
        losses.check(false);
        update_health();
        if (g_reopen_requested) {
            g_reopen_requested = 0;
            if (auto reopened = event_lines.reopen(); !reopened) report_error(reopened.error());
        }
    }
    // Records already in the ring buffer when we stop still belong to the run.
    if (exit_code == 0 && !writer->closed() && !(options.max_events && events >= *options.max_events)) {
        (void)(*tracer)->drain();
    }
    losses.check(true);
    // Attempts still connecting when the run ends are written as pending.
    for (auto& event : joiner.take_pending()) {
        if (writer->closed() || (options.max_events && events >= *options.max_events)) {
            outcome_counts->count(ConnectResult::pending);  // still counted in the summary
        } else {
            write_event(event);
        }
    }

    if (writer->closed() && event_lines.error() != EPIPE) {
        std::fprintf(stderr, "connsnoop: error: writing output: %s\n", std::strerror(event_lines.error()));
        exit_code = 1;
    }
    RunSummary summary{std::chrono::system_clock::now(), events, losses.total(), (*tracer)->malformed_records(),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                       (*tracer)->hook()};
    if (outcome_counts) {
        outcome_counts->not_followed = (*tracer)->untracked_outcomes();
        summary.outcomes = outcome_counts;
    }
    if (!options.quiet) writer->write_summary(summary);
    std::fprintf(stderr, "connsnoop: %llu events, %llu lost", static_cast<unsigned long long>(summary.events),
                 static_cast<unsigned long long>(summary.lost));
    if (summary.malformed != 0) std::fprintf(stderr, ", %llu malformed", static_cast<unsigned long long>(summary.malformed));
    std::fprintf(stderr, " in %.1f s\n", summary.duration_seconds);
    if (summary.outcomes) std::fprintf(stderr, "connsnoop: results: %s\n", describe_outcomes(*summary.outcomes).c_str());
    return exit_code;
}

}  // namespace connsnoop
