// Micro-benchmarks of connsnoop's user-space hot path, per event: decode a
// ring-buffer record, enrich it, format it as a table row or a JSON line, and
// the whole chain through the real EventWriter into /dev/null. The harness
// compares events per second here with the kernel's event rate under a
// connect storm: if formatting is slower than the storm, the consumer is what
// loses events.
//
// The typical record is what connsnoop writes by default for a service's
// helper: a 90-byte argv, user and group names, the executable, a systemd
// unit and two ancestors (ancestry is on by default). The whole path traces
// the benchmark process itself (its PID, start time, parents and cgroup), so
// every /proc lookup finds a live process, as it does for a real connect, and
// flushes every 64 lines, as a ring-buffer batch does.
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "collect/record_decoder.hpp"
#include "enrich/event_enricher.hpp"
#include "event_fixtures.hpp"
#include "output/event_writer.hpp"
#include "output/json_format.hpp"
#include "output/line_output.hpp"
#include "output/table_format.hpp"

namespace connsnoop {
namespace {

using namespace std::string_literals;

// A typical command line (about 90 bytes) and a long one (about 2 KiB).
const std::string kTypicalArgv =
    "/usr/bin/python3\0/opt/app/bin/fetch-credentials\0--role\0web-frontend\0--region\0eu-west-1\0"s;
std::string long_argv() {
    std::string area;
    for (int i = 0; i < 64; ++i) area += "--option-number-" + std::to_string(i) + "=value" + '\0';
    return area;
}

// Decoded and enriched as connsnoop does, then given the fields a typical
// service process has (the fixture's PID is not a live process here).
ConnectEvent typical_event(const std::string& argv_area) {
    const auto bytes = fixtures::raw_connect_record(argv_area);
    auto event = decode_connect_record(bytes, ClockConverter::from_system_clocks());
    EventEnricher enricher;
    enricher.enrich(*event);
    event->comm = "python3";
    event->user = "www-data";
    event->group = "www-data";
    event->exe = "/usr/bin/python3.11";
    event->cgroup_path = "/system.slice/fetch-credentials.service";
    event->unit = "fetch-credentials.service";
    event->ancestry = {AncestorProcess{812, "bash", {"/bin/bash", "/opt/app/run.sh"}, false},
                       AncestorProcess{1, "systemd", {"/sbin/init", "splash"}, false}};
    return *event;
}

std::uint64_t start_boottime_ns_of(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    const std::string stat((std::istreambuf_iterator<char>(file)), {});
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skipped;
    for (int field = 3; field < 22; ++field) fields >> skipped;
    std::uint64_t ticks = 0;
    fields >> ticks;
    return ticks * (1'000'000'000ULL / static_cast<std::uint64_t>(sysconf(_SC_CLK_TCK)));
}

pid_t parent_of(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    const std::string stat((std::istreambuf_iterator<char>(file)), {});
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string state;
    pid_t parent = 0;
    fields >> state >> parent;
    return parent;
}

// This process as the kernel would record it: live, with its real parents and cgroup.
std::vector<std::byte> own_record(const std::string& argv_area) {
    auto bytes = fixtures::raw_connect_record(argv_area);
    cs_connect_record record{};
    std::memcpy(&record, bytes.data(), sizeof(record));
    record.pid = record.tid = static_cast<std::uint32_t>(getpid());
    record.start_boottime_ns = start_boottime_ns_of(getpid());
    std::memset(record.ancestors, 0, sizeof(record.ancestors));
    pid_t parent = getppid();
    record.ppid = static_cast<std::uint32_t>(parent);
    for (std::size_t level = 0; level < CS_KERNEL_ANCESTRY && parent > 0; ++level) {
        record.ancestors[level] = {static_cast<std::uint32_t>(parent), 0, start_boottime_ns_of(parent)};
        parent = parent_of(parent);
    }
    std::ifstream cgroups("/proc/self/cgroup");
    std::ifstream mounts("/proc/self/mounts");
    std::string mount_point;
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string device, path, type;
        if (fields >> device >> path >> type && type == "cgroup2") mount_point = path;
    }
    for (std::string line; std::getline(cgroups, line);) {
        struct stat info {};
        if (line.starts_with("0::") && ::stat((mount_point + line.substr(3)).c_str(), &info) == 0) {
            record.cgroup_id = info.st_ino;
        }
    }
    std::memcpy(bytes.data(), &record, sizeof(record));
    return bytes;
}

void BM_DecodeRecord(benchmark::State& state, const std::string& argv_area) {
    const auto bytes = fixtures::raw_connect_record(argv_area);
    const auto clock = ClockConverter::from_system_clocks();
    for (auto _ : state) {
        auto event = decode_connect_record(bytes, clock);
        benchmark::DoNotOptimize(event);
    }
    state.SetItemsProcessed(state.iterations());
}

// Into one event kept from record to record, as the tracer does.
void BM_DecodeRecordInto(benchmark::State& state, const std::string& argv_area) {
    const auto bytes = fixtures::raw_connect_record(argv_area);
    const auto clock = ClockConverter::from_system_clocks();
    ConnectEvent event;
    for (auto _ : state) {
        auto decoded = decode_connect_record_into(bytes, clock, event);
        benchmark::DoNotOptimize(decoded);
        benchmark::DoNotOptimize(event.argv.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_FormatTableRow(benchmark::State& state, const std::string& argv_area) {
    const ConnectEvent event = typical_event(argv_area);
    const TableLayout layout{TimeFormat::local, std::nullopt};
    for (auto _ : state) {
        auto row = format_table_row(event, layout);
        benchmark::DoNotOptimize(row);
    }
    state.SetItemsProcessed(state.iterations());
}

// Into one reused buffer, as the JSON writer does.
void BM_FormatJsonLine(benchmark::State& state, const std::string& argv_area) {
    const ConnectEvent event = typical_event(argv_area);
    std::string line;
    for (auto _ : state) {
        line.clear();
        append_connect_json(line, event);
        benchmark::DoNotOptimize(line.data());
    }
    state.SetItemsProcessed(state.iterations());
}

// The same record, but each line from another process as far as the writer
// can tell: eight events in turn, each with its own argv, executable, cgroup
// and ancestry chain (equal in size to the typical one's), more than the
// writer keeps rendered. What a line costs the first time a process is seen.
void BM_FormatJsonLineCold(benchmark::State& state, const std::string& argv_area) {
    constexpr std::size_t kProcesses = 8;
    std::vector<ConnectEvent> events;
    for (std::size_t i = 0; i < kProcesses; ++i) {
        ConnectEvent event = typical_event(argv_area);
        const std::string tag = std::to_string(i);
        event.argv.back() += tag;
        event.exe += tag;
        event.cgroup_path = "/system.slice/fetch-credentials-" + tag + ".service";
        event.unit = "fetch-credentials-" + tag + ".service";
        event.ancestry = {AncestorProcess{812, "bash", {"/bin/bash", "/opt/app/run" + tag + ".sh"}, false},
                          AncestorProcess{1, "systemd", {"/sbin/init", "splash"}, false}};
        events.push_back(std::move(event));
    }
    std::string line;
    std::size_t next = 0;
    for (auto _ : state) {
        line.clear();
        append_connect_json(line, events[next]);
        next = (next + 1) % kProcesses;
        benchmark::DoNotOptimize(line.data());
    }
    state.SetItemsProcessed(state.iterations());
}

// decode -> enrich, the part of the whole path before formatting: what the
// reader spends per record whatever the output.
void BM_DecodeAndEnrich(benchmark::State& state, const std::string& argv_area) {
    const auto bytes = own_record(argv_area);
    const auto clock = ClockConverter::from_system_clocks();
    EventEnricher enricher(nullptr, 4);  // ancestry on, as by default
    ConnectEvent event;                  // reused from record to record, as the tracer does
    ArgvMemo memo;
    for (auto _ : state) {
        if (!decode_connect_record_into(bytes, clock, event, &memo)) {
            state.SkipWithError("the record does not decode");
            break;
        }
        enricher.enrich(event);
        benchmark::DoNotOptimize(event);
    }
    state.SetItemsProcessed(state.iterations());
}

// decode -> enrich -> write, as one trace session does per ring-buffer record.
void BM_WholePath(benchmark::State& state, const std::string& argv_area, bool json) {
    const auto bytes = own_record(argv_area);
    const auto clock = ClockConverter::from_system_clocks();
    std::FILE* sink = std::fopen("/dev/null", "w");
    if (sink == nullptr) {
        state.SkipWithError("cannot open /dev/null");
        return;
    }
    {
        LineOutput out(sink);
        out.set_batched(true);
        auto writer =
            json ? make_json_writer(out) : make_table_writer(out, TableLayout{TimeFormat::local, std::nullopt});
        EventEnricher enricher(nullptr, 4);  // ancestry on, as by default
        std::size_t lines = 0;
        ConnectEvent event;  // reused from record to record, as the tracer does
        ArgvMemo memo;
        for (auto _ : state) {
            if (!decode_connect_record_into(bytes, clock, event, &memo)) {
                state.SkipWithError("the record does not decode");
                break;
            }
            enricher.enrich(event);
            writer->write_connect(event);
            if (++lines % 64 == 0) out.flush();  // one write per batch
        }
    }
    std::fclose(sink);
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_DecodeRecord, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_DecodeRecord, long_argv, long_argv());
BENCHMARK_CAPTURE(BM_DecodeRecordInto, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_FormatTableRow, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_FormatTableRow, long_argv, long_argv());
BENCHMARK_CAPTURE(BM_FormatJsonLine, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_FormatJsonLine, long_argv, long_argv());
BENCHMARK_CAPTURE(BM_FormatJsonLineCold, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_DecodeAndEnrich, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_WholePath, table_typical_argv, kTypicalArgv, false);
BENCHMARK_CAPTURE(BM_WholePath, json_typical_argv, kTypicalArgv, true);
BENCHMARK_CAPTURE(BM_WholePath, json_long_argv, long_argv(), true);

}  // namespace
}  // namespace connsnoop

BENCHMARK_MAIN();
