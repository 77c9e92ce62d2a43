#include "app/top_session.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "aggregate/grouped_talkers.hpp"
#include "app/alert_watch.hpp"
#include "app/trace_loop.hpp"
#include "enrich/event_enricher.hpp"
#include "output/json_format.hpp"
#include "output/top_format.hpp"
#include "output/top_screen.hpp"

namespace connsnoop {

namespace {

// What the view or a summary shows right now.
struct ViewState {
    GroupBy group_by;
    SortColumn sort;
    bool reversed = false;
    bool outcomes = false;  // outcomes are traced: FAILED, MEAN and P99 mean something
};

IntervalReport make_report(const GroupedTalkers& talkers, const ViewState& view,
                           const std::optional<AlertWatch>& alerts, MonoTime now, std::size_t max_rows) {
    const TalkerTable& table = talkers.table(view.group_by);
    IntervalReport report;
    report.time = std::chrono::system_clock::now();
    report.group_by = view.group_by;
    report.sort = view.sort;
    report.reversed = view.reversed;
    report.outcomes = view.outcomes;
    report.groups = table.group_count();
    report.groups_dropped = table.evicted_groups();
    report.rows = table.rows(now);
    sort_rows(report.rows, view.sort, view.reversed);
    if (max_rows != 0 && report.rows.size() > max_rows) report.rows.resize(max_rows);
    if (alerts) {
        report.alert_rate = alerts->alerts().threshold();
        report.alerts_firing = alerts->alerts().firing_count();
        // Alerts follow the --by grouping; rows of another grouping are not marked.
        for (const auto& row : report.rows) {
            report.alerting.push_back(alerts->group_by() == view.group_by && alerts->alerts().is_firing(row.key));
        }
    }
    return report;
}

}  // namespace

int run_top_session(const Options& options) {
    const bool interactive = isatty(STDOUT_FILENO) != 0;
    if (interactive) {
        // Before anything is loaded: a terminal that cannot show the view is the user's first answer.
        if (auto usable = TopScreen::check_terminal(); !usable) {
            report_error(usable.error());
            return 1;
        }
    }
    LineOutput stdout_lines(stdout);
    const MonoTime started = MonoClock::now();
    // On a terminal every grouping is counted, so `g` switches with history intact.
    const bool requests = is_request_grouping(options.group_by);
    std::vector<GroupBy> groupings{options.group_by};
    if (interactive && requests) groupings.assign(kRequestGroupings.begin(), kRequestGroupings.end());
    if (interactive && !requests) groupings.assign(kGroupings.begin(), kGroupings.end());
    GroupedTalkers talkers(groupings, started);
    ViewState view{options.group_by, options.top.sort, false, options.outcome != OutcomeMode::off};

    std::unique_ptr<TopScreen> screen;
    std::optional<Error> screen_error;
    std::string latest_notice;
    std::optional<AlertWatch> alerts;
    if (options.alert_rate) {
        AlertWatch::Sink sink =
            interactive
                ? AlertWatch::Sink([&](const AlertNotice& notice) { latest_notice = format_alert_notice(notice); })
                : alert_line_sink(stdout_lines, options.format);
        alerts.emplace(*options.alert_rate, options.group_by, std::move(sink));
    }

    EventEnricher enricher;
    std::uint64_t events = 0;
    std::uint64_t lost = 0;
    bool quit = false;
    const auto count_reached = [&] { return options.max_events && events >= *options.max_events; };

    const auto emit = [&](MonoTime now, bool final_report) {
        auto report = make_report(talkers, view, alerts, now, interactive ? 0 : options.top.rows);
        report.interval_seconds = std::chrono::duration<double>(options.top.interval).count();
        report.events = events;
        report.lost = lost;
        report.final = final_report;
        if (screen) {
            if (const auto& key = screen->detail_key()) report.detail = talkers.table(view.group_by).detail(*key, now);
            screen->draw(std::move(report), latest_notice);
        } else if (options.format == OutputFormat::json) {
            stdout_lines.write_line(to_json_line(report_to_json(report)));
        } else {
            for (const auto& line : format_report_block(report)) stdout_lines.write_line(line);
        }
    };

    TraceLoopHooks hooks;
    hooks.loss_on_stderr = !interactive;
    hooks.on_event = [&](ConnectEvent&& event) {
        if (requests) return true;  // --by path/imds ranks requests, not connections
        enricher.enrich(event);
        talkers.record_attempt(event);
        ++events;
        return !count_reached();
    };
    if (requests) {
        hooks.on_http = [&](HttpRequestEvent&& request) {
            if (options.imds_v1_only && classify_imds(request) != ImdsVersion::v1) return true;
            enricher.enrich(request.connection);
            talkers.record_request(request);
            ++events;
            return !count_reached();
        };
    }
    hooks.on_started = [&] {
        if (!interactive) return;
        auto opened = TopScreen::open();
        if (!opened) {
            screen_error = opened.error();
            return;
        }
        screen = std::move(*opened);
        emit(MonoClock::now(), false);  // the frame at once; rows follow at the first refresh
    };
    hooks.on_loss = [&](const LossReport& report) { lost = report.total_lost; };
    MonoTime next_refresh = started + options.top.interval;
    hooks.after_poll = [&] {
        const MonoTime now = MonoClock::now();
        talkers.expire(now);
        if (alerts) alerts->check(talkers.table(options.group_by), now);
        bool redraw = false;
        for (TopCommand command; screen && (command = screen->read_command()) != TopCommand::none;) {
            if (command == TopCommand::quit) quit = true;
            if (command == TopCommand::next_sort) view.sort = next_sort_column(view.sort, view.outcomes);
            if (command == TopCommand::reverse_sort) view.reversed = !view.reversed;
            if (command == TopCommand::next_grouping) view.group_by = next_grouping(view.group_by);
            redraw = true;
        }
        if (quit) return false;
        if (now >= next_refresh) {
            next_refresh += options.top.interval;
            if (next_refresh <= now) next_refresh = now + options.top.interval;  // fell behind: no burst of catch-ups
            redraw = true;
        }
        if (redraw) emit(now, false);
        return true;
    };
    hooks.finished = [&] { return screen_error.has_value() || stdout_lines.closed() || count_reached(); };

    auto stats = run_trace_loop(options, hooks);
    // The terminal is restored before anything else is printed; the last
    // ranking stays on it, as plain text.
    const auto ranking = screen ? screen->final_ranking() : std::vector<std::string>{};
    screen.reset();
    for (const auto& line : ranking) stdout_lines.write_line(line);
    if (!stats) {
        report_error(stats.error());
        return 1;
    }
    if (screen_error) {
        report_error(*screen_error);
        return 1;
    }
    int exit_code = stats->runtime_error ? 1 : 0;
    lost = stats->lost;
    // A pipe gets the complete picture once more, after the last records were drained.
    if (!interactive && !stdout_lines.closed()) emit(MonoClock::now(), true);
    if (stdout_lines.closed() && stdout_lines.error() != EPIPE) {
        std::fprintf(stderr, "connsnoop: error: writing output: %s\n", std::strerror(stdout_lines.error()));
        exit_code = 1;
    }
    RunSummary summary{std::chrono::system_clock::now(), events,     stats->lost, stats->malformed,
                       stats->duration_seconds,          stats->hook};
    if (!interactive && options.format == OutputFormat::json)
        stdout_lines.write_line(to_json_line(summary_to_json(summary)));
    print_summary_line(summary);
    return exit_code;
}

}  // namespace connsnoop
