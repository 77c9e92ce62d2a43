#include "app/trace_loop.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include "app/startup_heap.hpp"
#include "output/count_text.hpp"
#include "output/escape.hpp"

namespace connsnoop {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_reopen_requested = 0;
// CLOCK_MONOTONIC at the stop signal: events stamped later are not delivered,
// so a stop is honoured even while a flood keeps the ring buffer full.
std::atomic<std::uint64_t> g_stop_time_ns{0};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "used from a signal handler");

void request_stop(int signal_number) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
    g_stop_time_ns =
        static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(now.tv_nsec);
    g_stop_signal = signal_number;
}
void request_reopen(int /*signal_number*/) { g_reopen_requested = 1; }

// SIGINT/SIGTERM interrupt the ring-buffer wait (epoll_wait is never
// restarted) and end the loop cleanly. SA_RESTART resumes a write blocked on a
// slow reader, which otherwise failed with EINTR and lost the pending lines;
// SA_RESETHAND lets a second signal end a run whose reader never reads.
// SIGHUP asks for --output to be reopened; SIGPIPE is ignored so a closed
// reader shows up as EPIPE.
void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    action.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    action.sa_handler = request_reopen;
    action.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

bool after_stop(std::uint64_t monotonic_ns) { return g_stop_signal != 0 && monotonic_ns > g_stop_time_ns.load(); }

// Every filter in force, the kernel's and those applied after enrichment.
std::string describe_filters(const Options& options) {
    const auto& filters = options.tracer.filters;
    std::vector<std::string> parts;
    for (const auto& cidr : filters.destinations) parts.push_back("dst " + cidr.to_string());
    for (auto ports : filters.destination_ports) {
        parts.push_back("port " + std::to_string(ports.first) +
                        (ports.last == ports.first ? "" : "-" + std::to_string(ports.last)));
    }
    for (auto pid : filters.pids) parts.push_back("pid " + std::to_string(pid));
    for (auto uid : filters.uids) parts.push_back("uid " + std::to_string(uid));
    for (const auto& path : filters.cgroup_paths) parts.push_back("cgroup " + escape_for_terminal(path));
    for (const auto& comm : filters.comms) parts.push_back("comm " + escape_for_terminal(comm));
    for (auto inode : filters.netns_inodes) parts.push_back("netns " + std::to_string(inode));
    for (const auto& cidr : filters.excluded_destinations) parts.push_back("not dst " + cidr.to_string());
    for (const auto& comm : filters.excluded_comms) parts.push_back("not comm " + escape_for_terminal(comm));
    if (!options.container_prefix.empty()) parts.push_back("container " + options.container_prefix);
    if (!options.unit.empty()) parts.push_back("unit " + escape_for_terminal(options.unit));
    return parts.empty() ? "all" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string describe_http_capture(const TracerConfig& tracer) {
    std::string text;
    if (tracer.http_capture) text = fmt::format("; HTTP requests on port {}", fmt::join(tracer.http_ports, ", "));
    if (tracer.udp_sends) text += "; first UDP sends";
    if (tracer.dns_capture) text += "; DNS queries";
    return text;
}

// Reports kernel-side loss as it happens: to the session whenever it grows,
// and on stderr at most once a second.
class LossMonitor {
public:
    LossMonitor(ConnectTracer& tracer, std::function<void(const LossReport&)> on_loss, bool on_stderr)
        : tracer_(tracer), on_loss_(std::move(on_loss)), on_stderr_(on_stderr) {}

    // The counter is read when the ring may have been full since the last
    // read, at least once a second, and at the end: not with a bpf() call on
    // every wake-up.
    void check(bool final_check) {
        const auto now = std::chrono::steady_clock::now();
        const bool possible = tracer_.loss_possible_since_last_ask();
        if (!final_check && !possible && now - last_read_ < kLossReadInterval) return;
        last_read_ = now;
        const auto total = tracer_.lost_events();
        if (total > reported_to_session_) {
            on_loss_({std::chrono::system_clock::now(), total - reported_to_session_, total});
            reported_to_session_ = total;
        }
        if (on_stderr_ && total > reported_on_stderr_ &&
            (final_check || now - last_stderr_report_ >= std::chrono::seconds(1))) {
            std::fprintf(stderr,
                         "connsnoop: %llu events lost (ring buffer full), %llu in all; "
                         "try a larger --ringbuf-size or narrower filters\n",
                         static_cast<unsigned long long>(total - reported_on_stderr_),
                         static_cast<unsigned long long>(total));
            reported_on_stderr_ = total;
            last_stderr_report_ = now;
        }
    }
    [[nodiscard]] std::uint64_t total() const { return reported_to_session_; }

private:
    static constexpr auto kLossReadInterval = std::chrono::seconds(1);

    ConnectTracer& tracer_;
    std::function<void(const LossReport&)> on_loss_;
    bool on_stderr_;
    std::uint64_t reported_to_session_ = 0;
    std::uint64_t reported_on_stderr_ = 0;
    std::chrono::steady_clock::time_point last_stderr_report_{};
    std::chrono::steady_clock::time_point last_read_{};
};

constexpr auto kPollInterval = std::chrono::milliseconds(100);

// The linklocal view: reads the kernel's counters once per interval (and
// once more at the end) and hands the interval's traffic to the pipeline.
class LinklocalPoller {
public:
    explicit LinklocalPoller(std::chrono::milliseconds interval)
        : interval_(interval), last_read_(std::chrono::steady_clock::now()), next_read_(last_read_ + interval) {}

    Status poll(ConnectTracer& tracer, EventPipeline& pipeline, bool final_read) {
        const auto now = std::chrono::steady_clock::now();
        if (!final_read && now < next_read_) return Ok{};
        next_read_ += interval_;
        if (next_read_ <= now) next_read_ = now + interval_;  // fell behind: no burst
        auto counters = tracer.read_linklocal_counters();
        if (!counters) return counters.error();
        auto sample = sampler_.take(*counters, tracer.linklocal_uncounted_packets(),
                                    std::chrono::duration<double>(now - last_read_).count());
        last_read_ = now;
        sample.final = final_read;
        tracer.forget_linklocal_counters(sampler_.take_idle_counters());
        pipeline.linklocal(std::move(sample));
        return Ok{};
    }

private:
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point last_read_;
    std::chrono::steady_clock::time_point next_read_;
    LinklocalSampler sampler_;
};

std::string describe_linklocal(const TracerConfig& tracer) {
    std::vector<std::string> parts;
    for (const auto& service : tracer.linklocal_services)
        parts.push_back(escape_for_terminal(service.name) + " " + service.address.to_string());
    return fmt::format("{}", fmt::join(parts, ", "));
}

// --duration ends the run by itself: the banner says when instead of Ctrl-C.
std::string banner_ending(const Options& options) {
    return options.duration ? fmt::format("Ends after {:g} s.", static_cast<double>(options.duration->count()) / 1000)
                            : std::string("Ctrl-C to end.");
}

std::string linklocal_banner(const Options& options) {
    return fmt::format(
        "connsnoop: counting link-local packets per process via cgroup hooks (services: {}; filters: "
        "{}). {}",
        describe_linklocal(options.tracer), describe_filters(options), banner_ending(options));
}

}  // namespace

std::string start_banner(const Options& options, std::string_view hook) {
    return fmt::format("connsnoop: tracing TCP connects via {} (filters: {}{}{}). {}", hook, describe_filters(options),
                       options.tracer.track_outcomes ? "; following outcomes" : "",
                       describe_http_capture(options.tracer), banner_ending(options));
}

// Messages quote what the user gave (paths, names): escaped, they cannot add
// lines or act on the terminal.
void report_error(const Error& error) {
    std::fprintf(stderr, "connsnoop: error: %s\n", escape_for_terminal(error.message).c_str());
    if (!error.hint.empty()) std::fprintf(stderr, "hint: %s\n", escape_for_terminal(error.hint).c_str());
}

void print_summary_line(const RunSummary& summary) {
    std::fprintf(stderr, "connsnoop: %s, %llu lost", count_of(summary.events, "event").c_str(),
                 static_cast<unsigned long long>(summary.lost));
    if (summary.malformed != 0)
        std::fprintf(stderr, ", %llu malformed", static_cast<unsigned long long>(summary.malformed));
    if (summary.lost_output != 0)
        std::fprintf(stderr, ", %s not written to --output", count_of(summary.lost_output, "line").c_str());
    std::fprintf(stderr, " in %.1f s\n", summary.duration_seconds);
}

bool stop_requested() { return g_stop_signal != 0; }

bool take_reopen_request() {
    if (g_reopen_requested == 0) return false;
    g_reopen_requested = 0;
    return true;
}

Result<TraceLoopStats> run_trace_loop(const Options& options, EventPipeline& pipeline,
                                      const ProcessTracker* exec_tracker) {
    install_signal_handlers();
    // Everything stamped before the stop signal is still delivered (and so
    // flushed); what the kernel stamps after it ends delivery.
    ConnectHandler on_event = [&pipeline](ConnectEvent&& event) {
        return !after_stop(event.monotonic_ns) && pipeline.connect(std::move(event));
    };
    OutcomeHandler on_outcome = [&pipeline](OutcomeEvent&& outcome) {
        return !after_stop(outcome.monotonic_ns) && pipeline.outcome(outcome);
    };
    HttpHandler on_http = [&pipeline](HttpRequestEvent&& request) {
        return !after_stop(request.connection.monotonic_ns) && pipeline.http(std::move(request));
    };
    DnsHandler on_dns = [&pipeline](DnsQueryEvent&& query) {
        return !after_stop(query.sender.monotonic_ns) && pipeline.dns(std::move(query));
    };
    // The object the exec tracker loaded for this config, when it runs: loaded once for both.
    auto tracer = ConnectTracer::start(options.tracer, on_event, on_outcome, on_http, on_dns,
                                       exec_tracker ? exec_tracker->connect_tracer_object() : nullptr);
    StartupHeap::end_startup_heap();  // every BPF object is loaded
    if (!tracer) return tracer.error();
    if (options.tracer.trace_connects) {
        std::fprintf(stderr, "%s\n", start_banner(options, hook_name((*tracer)->hook())).c_str());
    } else {
        std::fprintf(stderr, "%s\n", linklocal_banner(options).c_str());
    }
    std::optional<LinklocalPoller> linklocal;
    if (!options.tracer.linklocal_services.empty()) linklocal.emplace(options.top.interval);
    pipeline.attached(**tracer);
    pipeline.start();

    TraceLoopStats stats;
    LossMonitor losses(
        **tracer, [&pipeline](const LossReport& report) { pipeline.loss(report); }, pipeline.config().loss_on_stderr);
    const auto started = std::chrono::steady_clock::now();
    const auto done = [&] {
        return stop_requested() || pipeline.finished() ||
               (options.duration && std::chrono::steady_clock::now() - started >= *options.duration);
    };
    while (!done()) {
        auto polled = (*tracer)->poll(kPollInterval);
        if (!polled) {
            report_error(polled.error());
            stats.runtime_error = polled.error();
            break;
        }
        losses.check(false);
        if (linklocal) {
            if (auto read = linklocal->poll(**tracer, pipeline, false); !read) {
                report_error(read.error());
                stats.runtime_error = read.error();
                break;
            }
        }
        if (!pipeline.tick(MonoClock::now())) break;
    }
    // What was counted up to the end belongs to the run: one last read.
    if (linklocal && !stats.runtime_error) {
        // The queries (--by qname) still in the ring buffer belong to the last interval.
        if (options.tracer.dns_capture && !pipeline.finished()) (void)(*tracer)->drain_all();
        if (auto read = linklocal->poll(**tracer, pipeline, true); !read) {
            report_error(read.error());
            stats.runtime_error = read.error();
        }
    }
    // Records already in the ring buffer when we stop still belong to the run.
    if (!stats.runtime_error && !pipeline.finished()) (void)(*tracer)->drain_all();
    losses.check(true);

    stats.lost = losses.total();
    stats.malformed = (*tracer)->malformed_records();
    stats.untracked_outcomes = (*tracer)->untracked_outcomes();
    if (const auto unwatched = (*tracer)->unwatched_connect_calls(); unwatched != 0) {
        std::fprintf(stderr,
                     "connsnoop: %s not watched for a failure before any SYN (pending-call map full): such a "
                     "failure of theirs is missing\n",
                     count_of(unwatched, "connect() call").c_str());
    }
    stats.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    stats.hook = hook_name((*tracer)->hook());
    pipeline.finish();
    return stats;
}

int exit_code_after(const TraceLoopStats& stats, const LineOutput& output) {
    int exit_code = stats.runtime_error ? 1 : 0;
    if (output.closed() && output.error() != EPIPE) {
        std::fprintf(stderr, "connsnoop: error: writing output: %s\n", std::strerror(output.error()));
        exit_code = 1;
    }
    return exit_code;
}

}  // namespace connsnoop
