#include "app/top_session.hpp"

#include <cstdio>
#include <memory>
#include <optional>

#include "aggregate/grouped_talkers.hpp"
#include "app/event_pipeline.hpp"
#include "app/pipeline_sinks.hpp"
#include "app/startup_heap.hpp"
#include "app/trace_loop.hpp"
#include "enrich/event_enricher.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
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

IntervalReport make_report(const GroupedTalkers& talkers, const ViewState& view, const AlertWatch* alerts, MonoTime now,
                           std::size_t max_rows) {
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

// top's own sink: the full-screen ranking on a terminal, or a report block
// (text or JSON) every interval on a pipe or in --output's file.
class TopViewSink final : public EventSink {
public:
    TopViewSink(const Options& options, const EventPipeline& pipeline, const GroupedTalkers& talkers, LineOutput& lines,
                bool interactive)
        : options_(options),
          pipeline_(pipeline),
          talkers_(talkers),
          lines_(lines),
          interactive_(interactive),
          view_{options.group_by, options.top.sort, false, options.outcome != OutcomeMode::off},
          next_refresh_(MonoClock::now() + options.top.interval) {}

    void set_alerts(const AlertWatch* alerts) { alerts_ = alerts; }
    void set_notice(std::string notice) { latest_notice_ = std::move(notice); }

    void on_start() override {
        if (!interactive_) return;
        auto opened = TopScreen::open();
        if (!opened) {
            screen_error_ = opened.error();
            return;
        }
        screen_ = std::move(*opened);
        emit(MonoClock::now(), false);  // the frame at once; rows follow at the first refresh
    }
    void on_loss(const LossReport& report) override { lost_ = report.total_lost; }
    bool on_tick(MonoTime now) override {
        bool redraw = false;
        for (TopCommand command; screen_ && (command = screen_->read_command()) != TopCommand::none;) {
            if (command == TopCommand::quit) return false;
            if (command == TopCommand::next_sort) view_.sort = next_sort_column(view_.sort, view_.outcomes);
            if (command == TopCommand::reverse_sort) view_.reversed = !view_.reversed;
            if (command == TopCommand::next_grouping) view_.group_by = next_grouping(view_.group_by);
            redraw = true;
        }
        if (now >= next_refresh_) {
            next_refresh_ += options_.top.interval;
            if (next_refresh_ <= now) next_refresh_ = now + options_.top.interval;  // fell behind: no burst
            redraw = true;
        }
        if (redraw) emit(now, false);
        lines_.flush();
        return true;
    }
    [[nodiscard]] bool finished() const override {
        return screen_error_.has_value() || lines_.closed() ||
               (options_.max_events && pipeline_.passed() >= *options_.max_events);
    }

    // After the run: the terminal restored, the last picture once more on a
    // pipe or file, the summary; the exit code.
    int end_run(const TraceLoopStats& stats) {
        // The terminal is restored before anything else is printed; the last
        // ranking stays on it, as plain text.
        const auto ranking = screen_ ? screen_->final_ranking() : std::vector<std::string>{};
        screen_.reset();
        for (const auto& line : ranking) lines_.write_line(line);
        if (screen_error_) {
            report_error(*screen_error_);
            return 1;
        }
        lost_ = stats.lost;
        if (!interactive_ && !lines_.closed()) emit(MonoClock::now(), true);
        lines_.flush();
        const int exit_code = exit_code_after(stats, lines_);
        RunSummary summary{std::chrono::system_clock::now(), pipeline_.passed(), stats.lost, stats.malformed,
                           stats.duration_seconds,           stats.hook};
        if (!interactive_ && !options_.quiet && options_.format == OutputFormat::json)
            lines_.write_line(to_json_line(summary_to_json(summary)));
        lines_.flush();
        print_summary_line(summary);
        return exit_code;
    }

private:
    void emit(MonoTime now, bool final_report) {
        auto report = make_report(talkers_, view_, alerts_, now, interactive_ ? 0 : options_.top.rows);
        report.interval_seconds = std::chrono::duration<double>(options_.top.interval).count();
        report.events = pipeline_.passed();
        report.lost = lost_;
        report.final = final_report;
        if (screen_) {
            if (const auto& key = screen_->detail_key())
                report.detail = talkers_.table(view_.group_by).detail(*key, now);
            screen_->draw(std::move(report), latest_notice_);
        } else if (options_.quiet) {
            return;  // -q: metrics only
        } else if (options_.format == OutputFormat::json) {
            lines_.write_line(to_json_line(report_to_json(report)));
        } else {
            for (const auto& line : format_report_block(report)) {
                lines_.write_line(utf8_ ? line : escape_non_ascii(line));  // a terminal that is not UTF-8
            }
        }
    }

    const Options& options_;
    const EventPipeline& pipeline_;
    const GroupedTalkers& talkers_;
    LineOutput& lines_;
    bool interactive_;
    bool utf8_ = locale_is_utf8();  // text blocks: no byte above 0x7F where it is not
    ViewState view_;
    MonoTime next_refresh_;
    const AlertWatch* alerts_ = nullptr;
    std::unique_ptr<TopScreen> screen_;
    std::optional<Error> screen_error_;
    std::string latest_notice_;
    std::uint64_t lost_ = 0;
};

}  // namespace

// top: the talker table and its view, and as asked for alerts and metrics.
int run_top_session(const Options& options) {
    auto output = SessionOutput::open_for_screen(options);
    if (!output) {
        report_error(output.error());
        return 1;
    }
    LineOutput& report_lines = output->lines();
    const bool interactive = output->interactive();
    if (interactive && options.top.rows_given) {  // known only now: refused as a command-line error
        std::fprintf(stderr,
                     "connsnoop: --rows sizes the blocks written to a pipe or file; on a terminal the view shows "
                     "the rows that fit\n");
        return 2;
    }

    // On a terminal every grouping is counted, so `g` switches with history intact.
    const bool requests = is_request_grouping(options.group_by);
    const bool queries = is_query_grouping(options.group_by);
    std::vector<GroupBy> groupings{options.group_by};
    if (interactive && requests) groupings.assign(kRequestGroupings.begin(), kRequestGroupings.end());
    if (interactive && queries) groupings.assign(kQueryGroupings.begin(), kQueryGroupings.end());
    if (interactive && !requests && !queries) groupings.assign(kGroupings.begin(), kGroupings.end());
    GroupedTalkers talkers(groupings, MonoClock::now());

    auto started = MetricsSink::start(options);
    if (!started) {
        report_error(started.error());
        return 1;
    }
    const std::unique_ptr<MetricsSink> metrics = std::move(started).value();
    // Until the connect tracer is attached (run_trace_loop ends it).
    StartupHeap startup_heap;
    auto exec_tracker = start_exec_tracker(options);
    if (!exec_tracker) {
        report_error(exec_tracker.error());
        return 1;
    }
    EventEnricher enricher(exec_tracker->get(), options.ancestry_depth);
    if (metrics) metrics->report_health_of(report_lines, exec_tracker->get());
    PipelineConfig config = pipeline_config(options);
    config.connects = !requests && !queries;  // --by path/imds/qname ranks requests or queries, not connections
    config.loss_on_stderr = !interactive;
    EventPipeline pipeline(config, enricher);

    TalkerSink talker_sink(talkers);
    TopViewSink view(options, pipeline, talkers, report_lines, interactive);
    std::optional<AlertSink> alerts;
    if (options.alert_rate) {
        AlertWatch::Sink notices =
            interactive
                ? AlertWatch::Sink([&view](const AlertNotice& notice) { view.set_notice(format_alert_notice(notice)); })
                : alert_line_sink(report_lines, options.format, locale_is_utf8());
        alerts.emplace(talkers, *options.alert_rate, options.group_by, std::move(notices));
        view.set_alerts(&alerts->watch());
    }
    pipeline.add_sink(talker_sink);
    if (alerts) pipeline.add_sink(*alerts);
    if (metrics) pipeline.add_sink(*metrics);
    pipeline.add_sink(view);

    auto stats = run_trace_loop(options, pipeline, exec_tracker->get());
    if (!stats) {
        report_error(stats.error());
        return 1;
    }
    return view.end_run(*stats);
}

}  // namespace connsnoop
