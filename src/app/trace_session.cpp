#include "app/trace_session.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>

#include "collect/connect_tracer.hpp"
#include "enrich/event_enricher.hpp"
#include "output/event_writer.hpp"
#include "output/escape.hpp"

namespace connsnoop {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

void request_stop(int signal_number) { g_stop_signal = signal_number; }

// SIGINT/SIGTERM interrupt the ring-buffer wait (epoll_wait is never
// restarted) and end the loop cleanly. SA_RESTART resumes a write blocked on a
// slow reader, which otherwise failed with EINTR and lost the pending lines;
// SA_RESETHAND lets a second signal end a run whose reader never reads.
// SIGPIPE is ignored so a closed reader shows up as EPIPE.
void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    action.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

std::optional<std::size_t> terminal_width(bool wide) {
    if (wide || !isatty(STDOUT_FILENO)) return std::nullopt;
    winsize size{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return std::nullopt;
    return size.ws_col;
}

// Messages quote what the user gave (paths, names): escaped, they cannot add
// lines or act on the terminal.
void report_error(const Error& error) {
    std::fprintf(stderr, "connsnoop: error: %s\n", escape_for_terminal(error.message).c_str());
    if (!error.hint.empty()) std::fprintf(stderr, "hint: %s\n", escape_for_terminal(error.hint).c_str());
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

}  // namespace

int run_trace_session(const Options& options) {
    install_signal_handlers();
    LineOutput stdout_lines(stdout);
    auto writer = options.format == OutputFormat::json
                      ? make_json_writer(stdout_lines)
                      : make_table_writer(stdout_lines, TableLayout{options.time, terminal_width(options.wide)});

    EventEnricher enricher;
    std::uint64_t events = 0;
    auto on_event = [&](ConnectEvent&& event) {
        enricher.enrich(event);
        writer->write_connect(event);
        ++events;
        return !writer->closed() && !(options.max_events && events >= *options.max_events);
    };

    auto tracer = ConnectTracer::start(options.tracer, on_event);
    if (!tracer) {
        report_error(tracer.error());
        return 1;
    }
    std::fprintf(stderr, "connsnoop: tracing TCP connects via %s (filters: %s). Ctrl-C to end.\n",
                 (*tracer)->hook().c_str(), describe_filters(options.tracer.filters).c_str());
    writer->begin();

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
    }
    // Records already in the ring buffer when we stop still belong to the run.
    if (exit_code == 0 && !writer->closed() && !(options.max_events && events >= *options.max_events)) {
        (void)(*tracer)->drain();
    }
    losses.check(true);

    if (writer->closed() && stdout_lines.error() != EPIPE) {
        std::fprintf(stderr, "connsnoop: error: writing output: %s\n", std::strerror(stdout_lines.error()));
        exit_code = 1;
    }
    RunSummary summary{std::chrono::system_clock::now(), events, losses.total(), (*tracer)->malformed_records(),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                       (*tracer)->hook()};
    writer->write_summary(summary);
    std::fprintf(stderr, "connsnoop: %llu events, %llu lost", static_cast<unsigned long long>(summary.events),
                 static_cast<unsigned long long>(summary.lost));
    if (summary.malformed != 0) std::fprintf(stderr, ", %llu malformed", static_cast<unsigned long long>(summary.malformed));
    std::fprintf(stderr, " in %.1f s\n", summary.duration_seconds);
    return exit_code;
}

}  // namespace connsnoop
