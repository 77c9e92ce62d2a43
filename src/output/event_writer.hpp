// Output layer interface: one implementation per format, each a thin shell
// around pure formatting functions (see table_format.hpp, json_format.hpp).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/http_request_event.hpp"
#include "output/line_output.hpp"
#include "output/output_options.hpp"

namespace connsnoop {

struct LossReport {
    std::chrono::system_clock::time_point time;
    std::uint64_t newly_lost = 0;  // since the previous report
    std::uint64_t total_lost = 0;
};

// With --outcome/--failed: attempts by result (all of them, also those
// --failed did not print), and how many the kernel could not follow.
struct OutcomeSummary {
    std::array<std::uint64_t, kConnectResultCount> by_result{};
    std::uint64_t not_followed = 0;  // in-flight map full (the kernel's count)

    void count(ConnectResult result) { ++by_result[static_cast<std::size_t>(result)]; }
    [[nodiscard]] std::uint64_t of(ConnectResult result) const { return by_result[static_cast<std::size_t>(result)]; }
};

struct RunSummary {
    std::chrono::system_clock::time_point time;
    std::uint64_t events = 0;     // events written
    std::uint64_t lost = 0;       // dropped in the kernel (ring buffer full)
    std::uint64_t malformed = 0;  // records that could not be decoded
    double duration_seconds = 0;
    std::string hook;  // tp_btf or raw_tp
    std::optional<OutcomeSummary> outcomes = std::nullopt;
    std::uint64_t lost_output = 0;  // lines dropped because --output could not take them (disk full)
};

class EventWriter {
public:
    virtual ~EventWriter() = default;
    virtual void begin() = 0;
    virtual void write_connect(const ConnectEvent& event) = 0;
    virtual void write_http(const HttpRequestEvent& request) = 0;
    virtual void write_dns(const DnsQueryEvent& query) = 0;
    virtual void write_lost(const LossReport& report) = 0;
    virtual void write_summary(const RunSummary& summary) = 0;
    [[nodiscard]] virtual bool closed() const = 0;
};

std::unique_ptr<EventWriter> make_table_writer(LineOutput& out, TableLayout layout);
// `ancestors`: --ancestry short writes each as pid and comm only.
std::unique_ptr<EventWriter> make_json_writer(LineOutput& out, AncestorDetail ancestors = AncestorDetail::full);

}  // namespace connsnoop
