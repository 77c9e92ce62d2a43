#include "app/trace_session.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "app/event_pipeline.hpp"
#include "app/pipeline_sinks.hpp"
#include "app/startup_heap.hpp"
#include "app/trace_loop.hpp"
#include "enrich/event_enricher.hpp"
#include "enrich/exe_access.hpp"
#include "output/display_width.hpp"
#include "output/event_writer.hpp"

namespace connsnoop {

namespace {

std::optional<std::size_t> terminal_width(bool wide) {
    if (wide || !isatty(STDOUT_FILENO)) return std::nullopt;
    winsize size{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return std::nullopt;
    return size.ws_col;
}

}  // namespace

// The event stream: the stream writer, and as asked for the metrics, and
// the talker table with its alerts.
int run_trace_session(const Options& options) {
    auto output = SessionOutput::open(options);
    if (!output) {
        report_error(output.error());
        return 1;
    }
    LineOutput& event_lines = output->lines();
    event_lines.set_batched(true);  // flushed after every ring-buffer batch (on_tick)
    const auto width = output->to_file() ? std::nullopt : terminal_width(options.wide);
    TableLayout layout{options.time,
                       width,
                       options.outcome != OutcomeMode::off,
                       options.tracer.http_capture || options.tracer.dns_capture,  // requests, queries
                       locale_is_utf8(),
                       options.header,
                       options.columns};
    layout.protocol_column = options.tracer.udp_sends || options.tracer.dns_capture;
    layout.fit_cells = !options.wide;
    auto writer = options.format == OutputFormat::json ? make_json_writer(event_lines, options.ancestor_detail)
                                                       : make_table_writer(event_lines, layout);

    auto started = MetricsSink::start(options);
    if (!started) {
        report_error(started.error());
        return 1;
    }
    const std::unique_ptr<MetricsSink> metrics = std::move(started).value();
    // `exe` is shown in JSON and may label metrics: say once when it will be empty.
    const bool exe_shown = (options.format == OutputFormat::json && !options.quiet) ||
                           (options.metrics.listen && options.metrics.key == MetricsKey::exe);
    if (exe_shown) {
        if (auto warning = exe_access_warning(effective_capabilities())) {
            std::fprintf(stderr, "connsnoop: warning: %s\n", warning->c_str());
        }
    }
    // Started before the connect hook, so the parents of the first events are known.
    // Until the connect tracer is attached (run_trace_loop ends it).
    StartupHeap startup_heap;
    auto exec_tracker = start_exec_tracker(options);
    if (!exec_tracker) {
        report_error(exec_tracker.error());
        return 1;
    }
    EventEnricher enricher(exec_tracker->get(), options.ancestry_depth);
    if (metrics) metrics->report_health_of(event_lines, exec_tracker->get());
    EventPipeline pipeline(pipeline_config(options), enricher);

    StreamSink stream(options, event_lines, std::move(writer));
    pipeline.add_sink(stream);
    if (metrics) pipeline.add_sink(*metrics);
    // --alert: events are also counted per group (--by) to know each group's rate.
    std::optional<GroupedTalkers> talkers;
    std::optional<TalkerSink> talker_sink;
    std::optional<AlertSink> alerts;
    if (options.alert_rate) {
        talkers.emplace(std::vector<GroupBy>{options.group_by}, MonoClock::now());
        talker_sink.emplace(*talkers);
        alerts.emplace(*talkers, *options.alert_rate, options.group_by,
                       alert_line_sink(event_lines, options.format, locale_is_utf8()));
        pipeline.add_sink(*talker_sink);
        pipeline.add_sink(*alerts);
    }

    auto stats = run_trace_loop(options, pipeline, exec_tracker->get());
    if (!stats) {
        report_error(stats.error());
        return 1;
    }
    return stream.end_run(*stats);
}

}  // namespace connsnoop
