// What every session (the event stream, top) does around its pipeline:
// signal handling, starting the tracer, the poll loop with its stop
// conditions (signal, --duration, a sink's own), and loss monitoring.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/event_pipeline.hpp"
#include "cli/options.hpp"
#include "collect/connect_tracer.hpp"
#include "collect/process_tracker.hpp"
#include "output/event_writer.hpp"
#include "output/line_output.hpp"
#include "util/result.hpp"

namespace connsnoop {

struct TraceLoopStats {
    std::uint64_t lost = 0;                // dropped in the kernel
    std::uint64_t malformed = 0;           // records that could not be decoded
    std::uint64_t untracked_outcomes = 0;  // attempts whose outcome the kernel could not follow
    double duration_seconds = 0;
    std::string hook;                    // tp_btf or raw_tp
    std::optional<Error> runtime_error;  // polling failed mid-run (already reported)
};

// Starts tracing with `options.tracer` (an error when it cannot start; not yet
// reported), announces it on stderr, feeds every record to the pipeline and
// polls until a stop condition (signal, --duration, a sink's own).
Result<TraceLoopStats> run_trace_loop(const Options& options, EventPipeline& pipeline,
                                      const ProcessTracker* exec_tracker);

// The line said on stderr once tracing runs: the hook, every filter in force
// (the kernel's and --container/--unit), what else is followed, and how the
// run ends ("Ctrl-C to end." or, with --duration, when).
std::string start_banner(const Options& options, std::string_view hook);

// The end of a run, the same for every session: an output that failed for
// another reason than a reader that went away (EPIPE) makes the exit code 1.
int exit_code_after(const TraceLoopStats& stats, const LineOutput& output);

// One message on stderr, with its hint.
void report_error(const Error& error);

// "connsnoop: 8 events, 0 lost in 1.6 s" on stderr, at the end of a run.
void print_summary_line(const RunSummary& summary);

// True once SIGINT or SIGTERM arrived.
bool stop_requested();

// True once per SIGHUP (log rotation: reopen --output).
bool take_reopen_request();

}  // namespace connsnoop
