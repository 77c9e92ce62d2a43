#include "app/trace_session.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "aggregate/grouped_talkers.hpp"
#include "app/alert_watch.hpp"
#include "app/trace_loop.hpp"
#include "enrich/event_enricher.hpp"
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

int run_trace_session(const Options& options) {
    LineOutput stdout_lines(stdout);
    auto writer = options.format == OutputFormat::json
                      ? make_json_writer(stdout_lines)
                      : make_table_writer(stdout_lines, TableLayout{options.time, terminal_width(options.wide)});

    // --alert: events are also counted per group (--by) to know each group's rate.
    std::optional<GroupedTalkers> talkers;
    std::optional<AlertWatch> alerts;
    if (options.alert_rate) {
        talkers.emplace(std::vector<GroupBy>{options.group_by}, MonoClock::now());
        alerts.emplace(*options.alert_rate, options.group_by, alert_line_sink(stdout_lines, options.format));
    }

    EventEnricher enricher;
    std::uint64_t events = 0;
    const auto count_reached = [&] { return options.max_events && events >= *options.max_events; };
    TraceLoopHooks hooks;
    hooks.on_event = [&](ConnectEvent&& event) {
        enricher.enrich(event);
        writer->write_connect(event);
        if (talkers) talkers->record_attempt(event);
        ++events;
        return !writer->closed() && !count_reached();
    };
    hooks.on_started = [&] { writer->begin(); };
    hooks.on_loss = [&](const LossReport& report) { writer->write_lost(report); };
    hooks.after_poll = [&] {
        if (alerts) {
            const auto now = MonoClock::now();
            talkers->expire(now);
            alerts->check(talkers->table(options.group_by), now);
        }
        return true;
    };
    hooks.finished = [&] { return writer->closed() || count_reached(); };

    auto stats = run_trace_loop(options, hooks);
    if (!stats) {
        report_error(stats.error());
        return 1;
    }
    int exit_code = stats->runtime_error ? 1 : 0;
    if (writer->closed() && stdout_lines.error() != EPIPE) {
        std::fprintf(stderr, "connsnoop: error: writing output: %s\n", std::strerror(stdout_lines.error()));
        exit_code = 1;
    }
    RunSummary summary{std::chrono::system_clock::now(), events, stats->lost, stats->malformed,
                       stats->duration_seconds, stats->hook};
    writer->write_summary(summary);
    print_summary_line(summary);
    return exit_code;
}

}  // namespace connsnoop
