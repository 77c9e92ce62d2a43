#include "app/linklocal_session.hpp"

#include <cstdio>
#include <memory>
#include <optional>

#include "aggregate/linklocal_report.hpp"
#include "app/event_pipeline.hpp"
#include "app/pipeline_sinks.hpp"
#include "app/trace_loop.hpp"
#include "enrich/event_enricher.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/json_format.hpp"
#include "output/linklocal_format.hpp"
#include "output/linklocal_screen.hpp"

namespace connsnoop {

namespace {

constexpr std::array<GroupBy, 8> kLinklocalGroupings = {GroupBy::pid,    GroupBy::comm,      GroupBy::command,
                                                        GroupBy::user,   GroupBy::container, GroupBy::unit,
                                                        GroupBy::cgroup, GroupBy::qname};

// The next grouping on the `g` key; qname only when queries are captured (--by qname).
GroupBy next_linklocal_grouping(GroupBy by, bool queries_captured) {
    for (std::size_t i = 0; i < kLinklocalGroupings.size(); ++i) {
        if (kLinklocalGroupings[i] != by) continue;
        const GroupBy next = kLinklocalGroupings[(i + 1) % kLinklocalGroupings.size()];
        return next == GroupBy::qname && !queries_captured ? kLinklocalGroupings.front() : next;
    }
    return kLinklocalGroupings.front();
}

// The view's sink: each interval's report on the screen, or as a block or a
// JSON record on a pipe or in --output's file; --alert's notices.
class LinklocalViewSink final : public EventSink {
public:
    LinklocalViewSink(const Options& options, LineOutput& lines, bool interactive)
        : options_(options),
          lines_(lines),
          interactive_(interactive),
          group_by_(options.group_by),
          queries_(options.tracer.linklocal_services) {
        if (options.linklocal.alert_percent) alerts_.emplace(*options.linklocal.alert_percent);
    }

    void on_start() override {
        if (!interactive_) return;
        auto opened = LinklocalScreen::open();
        if (!opened) {
            screen_error_ = opened.error();
            return;
        }
        screen_ = std::move(*opened);
        last_sample_.time = std::chrono::system_clock::now();
        show(build());  // the frame at once; rows follow at the first interval
    }

    // --by qname: the queries of the interval that ends at the next sample.
    void on_dns(const DnsQueryEvent& query) override { queries_.record(query); }

    void on_linklocal(const LinklocalSample& sample) override {
        ++intervals_;
        last_sample_ = sample;
        last_queries_ = queries_.take();
        auto report = build();
        if (alerts_) {
            if (auto alert = alerts_->check(report)) announce(*alert, report);
        }
        show(report);
    }

    bool on_tick(MonoTime /*now*/) override {
        for (LinklocalKey key; screen_ && (key = screen_->read_key()) != LinklocalKey::none;) {
            if (key == LinklocalKey::quit) return false;
            if (key == LinklocalKey::next_grouping)
                group_by_ = next_linklocal_grouping(group_by_, options_.tracer.dns_capture);
            auto report = build();
            if (alerts_) {
                report.alert_percent = alerts_->percent();
                report.alert_firing = alerts_firing_;
            }
            show(report);
        }
        lines_.flush();
        return true;
    }

    [[nodiscard]] bool finished() const override { return screen_error_.has_value() || lines_.closed(); }

    int end_run(const TraceLoopStats& stats) {
        const auto last = screen_ ? screen_->last_lines() : std::vector<std::string>{};
        screen_.reset();
        for (const auto& line : last) lines_.write_line(line);
        if (screen_error_) {
            report_error(*screen_error_);
            return 1;
        }
        lines_.flush();
        const int exit_code = exit_code_after(stats, lines_);
        RunSummary summary{std::chrono::system_clock::now(), intervals_, stats.lost, stats.malformed,
                           stats.duration_seconds,           stats.hook};
        if (!interactive_ && !options_.quiet && options_.format == OutputFormat::json)
            lines_.write_line(to_json_line(summary_to_json(summary)));
        lines_.flush();
        std::fprintf(stderr, "connsnoop: %llu intervals in %.1f s\n", static_cast<unsigned long long>(intervals_),
                     stats.duration_seconds);
        return exit_code;
    }

private:
    LinklocalReport build() const {
        auto report = build_linklocal_report(last_sample_, group_by_, options_.tracer.linklocal_services,
                                             options_.linklocal.budget_pps);
        if (group_by_ == GroupBy::qname) {
            report.queries = last_queries_;
            for (const auto& row : report.queries) report.query_total += row.queries;
        }
        return report;
    }

    void announce(const LinklocalAlert& alert, const LinklocalReport& report) {
        alerts_firing_ = alert.firing;
        if (screen_) {
            notice_ = format_linklocal_alert(alert, report);
        } else if (options_.format == OutputFormat::json) {
            lines_.write_line(to_json_line(linklocal_alert_to_json(alert, report)));
        } else {
            write_text(format_linklocal_alert(alert, report));
        }
    }

    // A text line on a pipe or file: no byte above 0x7F unless the locale is UTF-8.
    void write_text(const std::string& line) { lines_.write_line(utf8_ ? line : escape_non_ascii(line)); }

    void show(LinklocalReport report) {
        report.final = last_sample_.final;
        if (screen_) {
            screen_->draw(format_linklocal_block(report, screen_->width(), notice_));
            return;
        }
        if (options_.quiet) return;
        if (options_.format == OutputFormat::json) {
            lines_.write_line(to_json_line(linklocal_to_json(report)));
            return;
        }
        if (options_.top.rows != 0 && report.rows.size() > options_.top.rows) report.rows.resize(options_.top.rows);
        if (options_.top.rows != 0 && report.queries.size() > options_.top.rows)
            report.queries.resize(options_.top.rows);
        const auto block = format_linklocal_block(report, 4096);
        for (std::size_t i = 0; i < block.size(); ++i) {
            if (i == 2) continue;  // the notice line: alerts are lines of their own here
            write_text(block[i]);
        }
        lines_.write_line("");
    }

    const Options& options_;
    LineOutput& lines_;
    bool interactive_;
    bool utf8_ = locale_is_utf8();  // text blocks: no byte above 0x7F where it is not
    GroupBy group_by_;
    std::optional<LinklocalAlertWatch> alerts_;
    bool alerts_firing_ = false;
    LinklocalSample last_sample_;
    LinklocalQueryCounter queries_;
    std::vector<LinklocalQueryRow> last_queries_;
    std::unique_ptr<LinklocalScreen> screen_;
    std::optional<Error> screen_error_;
    std::string notice_;
    std::uint64_t intervals_ = 0;
};

}  // namespace

int run_linklocal_session(const Options& options) {
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

    auto started = MetricsSink::start(options);
    if (!started) {
        report_error(started.error());
        return 1;
    }
    const std::unique_ptr<MetricsSink> metrics = std::move(started).value();
    auto exec_tracker = start_exec_tracker(options);
    if (!exec_tracker) {
        report_error(exec_tracker.error());
        return 1;
    }
    EventEnricher enricher(exec_tracker->get(), options.ancestry_depth);
    if (metrics) metrics->report_health_of(report_lines, exec_tracker->get());
    PipelineConfig config = pipeline_config(options);
    config.connects = false;  // packets are counted, no attempt is traced
    config.loss_on_stderr = !interactive;
    EventPipeline pipeline(config, enricher);

    LinklocalViewSink view(options, report_lines, interactive);
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
