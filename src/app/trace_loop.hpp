// What every session (the event stream, top) does around its own event
// handling: signal handling, starting the tracer, the poll loop with its stop
// conditions (signal, --duration, the session's own), and loss monitoring.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cli/options.hpp"
#include "collect/connect_tracer.hpp"
#include "output/event_writer.hpp"
#include "util/result.hpp"

namespace connsnoop {

struct TraceLoopHooks {
    ConnectHandler on_event;    // each event; false stops delivery
    OutcomeHandler on_outcome;  // each outcome (--outcome/--failed); may be empty
    HttpHandler on_http;        // each request head (--http); may be empty
    // Once attached: lets the session read the tracer's counters (metrics).
    std::function<void(const ConnectTracer&)> on_attached = [](const ConnectTracer&) {};
    // Called once the tracer is attached (the session writes its header).
    std::function<void()> on_started = [] {};
    // Kernel-side loss grew (checked every poll): the session shows it.
    std::function<void(const LossReport&)> on_loss = [](const LossReport&) {};
    // After every poll (about every 100 ms): timers, keys, alerts. False ends the run.
    std::function<bool()> after_poll = [] { return true; };
    // The session's own stop condition (--count reached, reader gone). When it
    // holds, the ring buffer is not drained at the end.
    std::function<bool()> finished = [] { return false; };
    // Loss is also reported on stderr (at most once a second), unless stderr
    // is the terminal a full-screen view is drawn on.
    bool loss_on_stderr = true;
};

struct TraceLoopStats {
    std::uint64_t lost = 0;                // dropped in the kernel
    std::uint64_t malformed = 0;           // records that could not be decoded
    std::uint64_t untracked_outcomes = 0;  // attempts whose outcome the kernel could not follow
    double duration_seconds = 0;
    std::string hook;                    // tp_btf or raw_tp
    std::optional<Error> runtime_error;  // polling failed mid-run (already reported)
};

// Starts tracing with `options.tracer` (an error when it cannot start; not yet
// reported), announces it on stderr, and polls until a stop condition.
Result<TraceLoopStats> run_trace_loop(const Options& options, TraceLoopHooks hooks);

// One message on stderr, with its hint.
void report_error(const Error& error);

// "connsnoop: 8 events, 0 lost in 1.6 s" on stderr, at the end of a run.
void print_summary_line(const RunSummary& summary);

// True once SIGINT or SIGTERM arrived.
bool stop_requested();

// True once per SIGHUP (log rotation: reopen --output).
bool take_reopen_request();

}  // namespace connsnoop
