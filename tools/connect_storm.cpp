// connect-storm: the project's load generator. Worker processes make TCP
// connect/close cycles as fast as they can (or at a set rate) against a
// listener it starts itself on loopback, or against --connect ADDR:PORT
// (e.g. the stand-in metadata server inside a test's network namespace).
// Clients close with SO_LINGER 0 (RST) so no TIME_WAIT piles up and the
// ephemeral port range never runs out. Prints one JSON line at the end;
// with --cycle-bucket-ns, also how long the connect/close cycles took (all
// processes together): a benchmark can then tell the loop's own pace from the
// time other programs on the host took its CPU away.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Target {
    sockaddr_storage address{};
    socklen_t length = 0;
};

bool parse_target(const std::string& text, Target& target) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    std::string host = text.substr(0, colon);
    const int port = std::atoi(text.c_str() + colon + 1);
    if (port <= 0 || port > 65535) return false;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&target.address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&target.address);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        target.length = sizeof(*v4);
        return true;
    }
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        target.length = sizeof(*v6);
        return true;
    }
    return false;
}

// A listener on 127.0.0.1 with an ephemeral port, accepting and closing in a thread.
int start_listener(Target& target, std::atomic<bool>& stop, std::thread& acceptor) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || listen(fd, 4096) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        std::perror("connect-storm: listener");
        return -1;
    }
    std::memcpy(&target.address, &address, sizeof(address));
    target.length = sizeof(address);
    acceptor = std::thread([fd, &stop] {
        while (!stop.load()) {
            pollfd entry{fd, POLLIN, 0};
            if (poll(&entry, 1, 100) <= 0) continue;
            const int client = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) close(client);
        }
    });
    return fd;
}

struct WorkerResult {
    std::uint64_t connections = 0;
    std::uint64_t errors = 0;
};

// Connected cycles counted by duration, in buckets of bucket_ns (0: off).
struct CycleTimes {
    double bucket_ns = 0;
    std::vector<std::uint32_t> counts;

    void add(std::chrono::steady_clock::duration cycle) {
        if (bucket_ns <= 0) return;
        const auto index =
            static_cast<std::size_t>(std::chrono::duration<double, std::nano>(cycle).count() / bucket_ns);
        if (index >= counts.size()) counts.resize(index + 1, 0);
        ++counts[index];
    }
};

WorkerResult run_worker(const Target& target, std::uint64_t count, double seconds, double rate, CycleTimes& cycles) {
    WorkerResult result;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds > 0 ? seconds : 1e9);
    const linger reset_on_close{1, 0};
    std::uint64_t timed = 0;  // connections whose cycle is counted
    auto cycle_start = start;
    for (std::uint64_t i = 0; count == 0 || i < count; ++i) {
        // one clock read per cycle: it ends the last cycle and checks the deadline
        const auto now = std::chrono::steady_clock::now();
        if (result.connections > timed) {
            cycles.add(now - cycle_start);
            timed = result.connections;
        }
        cycle_start = now;
        if (now >= deadline) break;
        if (rate > 0)
            std::this_thread::sleep_until(start + std::chrono::duration<double>(static_cast<double>(i) / rate));
        const int fd = socket(target.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            ++result.errors;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof(reset_on_close));
        if (connect(fd, reinterpret_cast<const sockaddr*>(&target.address), target.length) == 0) {
            ++result.connections;
        } else {
            ++result.errors;
        }
        close(fd);
    }
    if (result.connections > timed) cycles.add(std::chrono::steady_clock::now() - cycle_start);  // --count ended it
    return result;
}

bool write_all(int fd, const void* data, std::size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t written = write(fd, bytes, size);
        if (written <= 0) return false;
        bytes += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

bool read_all(int fd, void* data, std::size_t size) {
    auto* bytes = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t got = read(fd, bytes, size);
        if (got <= 0) return false;
        bytes += got;
        size -= static_cast<std::size_t>(got);
    }
    return true;
}

bool write_cycle_times(int fd, const CycleTimes& cycles) {
    const auto size = static_cast<std::uint32_t>(cycles.counts.size());
    return write_all(fd, &size, sizeof(size)) && write_all(fd, cycles.counts.data(), size * sizeof(std::uint32_t));
}

// Adds a worker's cycle times (as write_cycle_times sent them) to total.
bool add_cycle_times(int fd, CycleTimes& total) {
    std::uint32_t size = 0;
    if (!read_all(fd, &size, sizeof(size))) return false;
    std::vector<std::uint32_t> counts(size);
    if (!read_all(fd, counts.data(), size * sizeof(std::uint32_t))) return false;
    if (counts.size() > total.counts.size()) total.counts.resize(counts.size(), 0);
    for (std::size_t i = 0; i < counts.size(); ++i) total.counts[i] += counts[i];
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"connect-storm: TCP connect/close cycles from N processes, as fast as possible or at a set rate"};
    std::string connect_to;
    unsigned processes = 1;
    std::uint64_t count = 0;
    double seconds = 0;
    double rate = 0;
    double cycle_bucket_ns = 0;
    app.add_option("--connect", connect_to, "ADDR:PORT to connect to (default: a listener of its own on 127.0.0.1)");
    app.add_option("--processes", processes, "worker processes")->check(CLI::Range(1U, 1024U));
    app.add_option("--count", count, "connections per process (0: until --duration)");
    app.add_option("--duration", seconds, "seconds to run (0: until --count)");
    app.add_option("--rate", rate, "connections per second per process (0: as fast as possible)");
    app.add_option("--cycle-bucket-ns", cycle_bucket_ns,
                   "also print how many connect/close cycles took each multiple of this many ns")
        ->check(CLI::Range(1.0, 1e9));
    CLI11_PARSE(app, argc, argv);
    if (count == 0 && seconds <= 0) {
        std::fprintf(stderr, "connect-storm: give --count or --duration\n");
        return 2;
    }

    Target target;
    std::atomic<bool> stop_listener{false};
    std::thread acceptor;
    int listener = -1;
    if (connect_to.empty()) {
        listener = start_listener(target, stop_listener, acceptor);
        if (listener < 0) return 1;
    } else if (!parse_target(connect_to, target)) {
        std::fprintf(stderr, "connect-storm: invalid --connect '%s' (ADDR:PORT or [ADDR6]:PORT)\n", connect_to.c_str());
        return 2;
    }

    const auto start = std::chrono::steady_clock::now();
    std::vector<std::pair<pid_t, int>> workers;  // pid, read end of its result pipe
    for (unsigned i = 0; i < processes; ++i) {
        int result_pipe[2];
        if (pipe(result_pipe) != 0) return 1;
        const pid_t pid = fork();
        if (pid == 0) {
            close(result_pipe[0]);
            CycleTimes cycles{cycle_bucket_ns, {}};
            const WorkerResult result = run_worker(target, count, seconds, rate, cycles);
            const bool written =
                write_all(result_pipe[1], &result, sizeof(result)) && write_cycle_times(result_pipe[1], cycles);
            _exit(written ? 0 : 1);
        }
        close(result_pipe[1]);
        workers.emplace_back(pid, result_pipe[0]);
    }
    WorkerResult total;
    CycleTimes cycles{cycle_bucket_ns, {}};
    for (const auto& [pid, fd] : workers) {
        WorkerResult result;
        if (read_all(fd, &result, sizeof(result))) {
            total.connections += result.connections;
            total.errors += result.errors;
            add_cycle_times(fd, cycles);
        }
        close(fd);
        waitpid(pid, nullptr, 0);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (listener >= 0) {
        stop_listener = true;
        acceptor.join();
        close(listener);
    }
    std::printf("{\"connections\":%llu,\"errors\":%llu,\"processes\":%u,\"seconds\":%.3f,\"per_second\":%.0f",
                static_cast<unsigned long long>(total.connections), static_cast<unsigned long long>(total.errors),
                processes, elapsed, static_cast<double>(total.connections) / elapsed);
    if (cycle_bucket_ns > 0) {  // sparse: [bucket, cycles] for each bucket that has any
        std::printf(",\"cycle_bucket_ns\":%g,\"cycles\":[", cycle_bucket_ns);
        const char* separator = "";
        for (std::size_t i = 0; i < cycles.counts.size(); ++i) {
            if (cycles.counts[i] == 0) continue;
            std::printf("%s[%zu,%u]", separator, i, cycles.counts[i]);
            separator = ",";
        }
        std::printf("]");
    }
    std::printf("}\n");
    return total.errors == 0 ? 0 : 3;
}
