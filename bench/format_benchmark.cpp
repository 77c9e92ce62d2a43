// Micro-benchmarks of connsnoop's user-space hot path, per event: decode a
// ring-buffer record, enrich it, format it as a table row or a JSON line, and
// the whole chain through the real EventWriter into /dev/null (one write and
// flush per line, as connsnoop does). The harness compares events per second
// here with the kernel's event rate under a connect storm: if formatting is
// slower than the storm, the consumer is what loses events.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

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

ConnectEvent decoded(const std::string& argv_area) {
    const auto bytes = fixtures::raw_connect_record(argv_area);
    auto event = decode_connect_record(bytes, ClockConverter::from_system_clocks());
    EventEnricher enricher;
    enricher.enrich(*event);
    return *event;
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

void BM_FormatTableRow(benchmark::State& state, const std::string& argv_area) {
    const ConnectEvent event = decoded(argv_area);
    const TableLayout layout{TimeFormat::local, std::nullopt};
    for (auto _ : state) {
        auto row = format_table_row(event, layout);
        benchmark::DoNotOptimize(row);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_FormatJsonLine(benchmark::State& state, const std::string& argv_area) {
    const ConnectEvent event = decoded(argv_area);
    for (auto _ : state) {
        auto line = to_json_line(connect_to_json(event));
        benchmark::DoNotOptimize(line);
    }
    state.SetItemsProcessed(state.iterations());
}

// decode -> enrich -> write, as one trace session does per ring-buffer record.
void BM_WholePath(benchmark::State& state, const std::string& argv_area, bool json) {
    const auto bytes = fixtures::raw_connect_record(argv_area);
    const auto clock = ClockConverter::from_system_clocks();
    std::FILE* sink = std::fopen("/dev/null", "w");
    if (sink == nullptr) {
        state.SkipWithError("cannot open /dev/null");
        return;
    }
    {
        LineOutput out(sink);
        auto writer =
            json ? make_json_writer(out) : make_table_writer(out, TableLayout{TimeFormat::local, std::nullopt});
        EventEnricher enricher;
        for (auto _ : state) {
            auto event = decode_connect_record(bytes, clock);
            enricher.enrich(*event);
            writer->write_connect(*event);
        }
    }
    std::fclose(sink);
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_DecodeRecord, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_DecodeRecord, long_argv, long_argv());
BENCHMARK_CAPTURE(BM_FormatTableRow, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_FormatTableRow, long_argv, long_argv());
BENCHMARK_CAPTURE(BM_FormatJsonLine, typical_argv, kTypicalArgv);
BENCHMARK_CAPTURE(BM_FormatJsonLine, long_argv, long_argv());
BENCHMARK_CAPTURE(BM_WholePath, table_typical_argv, kTypicalArgv, false);
BENCHMARK_CAPTURE(BM_WholePath, json_typical_argv, kTypicalArgv, true);
BENCHMARK_CAPTURE(BM_WholePath, json_long_argv, long_argv(), true);

}  // namespace
}  // namespace connsnoop

BENCHMARK_MAIN();
