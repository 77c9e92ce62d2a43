// Pure decoding of ring-buffer records into typed events: no kernel needed,
// so it is unit-tested and fuzzed directly.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/http_request_event.hpp"
#include "util/result.hpp"

namespace connsnoop {

// Converts kernel CLOCK_MONOTONIC stamps to wall-clock time.
class ClockConverter {
public:
    explicit ClockConverter(std::int64_t realtime_minus_monotonic_ns = 0) : offset_ns_(realtime_minus_monotonic_ns) {}
    static ClockConverter from_system_clocks();
    [[nodiscard]] std::chrono::system_clock::time_point to_wall(std::uint64_t monotonic_ns) const;

private:
    std::int64_t offset_ns_;
};

// The NUL-separated argv area split into arguments; trailing NUL padding
// (left by processes that shortened their title) is dropped. A rewritten
// area (its last byte is not NUL) holds one title that ends at the first NUL:
// the rule the kernel applies to /proc/PID/cmdline.
std::vector<std::string> split_argv(std::string_view area, bool rewritten = false);
// The same into `argv`, reusing the buffers of the strings already there.
void split_argv_into(std::string_view area, bool rewritten, std::vector<std::string>& argv);

// The last argv area a reader split (and redacted), with its arguments: the
// records of a process that connects again and again carry the same bytes,
// which are then copied from here instead of split and searched for tokens.
// Only the bytes and the rewritten flag decide, so a hit equals a fresh decode.
class ArgvMemo {
public:
    // The arguments for `area` when it is the one remembered, else null.
    [[nodiscard]] const std::vector<std::string>* find(std::string_view area, bool rewritten) const {
        return valid_ && rewritten == rewritten_ && area == area_ ? &argv_ : nullptr;
    }
    void remember(std::string_view area, bool rewritten, const std::vector<std::string>& argv) {
        area_.assign(area);
        rewritten_ = rewritten;
        argv_ = argv;  // assigns into the strings already there
        valid_ = true;
    }

private:
    std::string area_;
    bool rewritten_ = false;
    bool valid_ = false;
    std::vector<std::string> argv_;
};

Result<ConnectEvent> decode_connect_record(std::span<const std::byte> bytes, const ClockConverter& clock);
// The same into an event the caller keeps from record to record: the result
// equals a fresh decode, but the event's buffers are reused, so a reader's
// steady state allocates nothing here. On an error the event is unspecified.
// `memo` (may be null) is the caller's ArgvMemo, kept with the event.
Status decode_connect_record_into(std::span<const std::byte> bytes, const ClockConverter& clock, ConnectEvent& event,
                                  ArgvMemo* memo = nullptr);

// The result an outcome record's state and errno mean.
ConnectResult classify_outcome(std::uint32_t state, std::uint32_t error);
Result<OutcomeEvent> decode_outcome_record(std::span<const std::byte> bytes, const ClockConverter& clock);

// A request head parsed in the kernel on a watched connection (--http).
Result<HttpRequestEvent> decode_http_record(std::span<const std::byte> bytes, const ClockConverter& clock);
// The same into a request the caller keeps from record to record (as
// decode_connect_record_into).
Status decode_http_record_into(std::span<const std::byte> bytes, const ClockConverter& clock,
                               HttpRequestEvent& request);

// Any record of the ring buffer, by its leading kind: an attempt, a connect()
// that failed before any SYN (a ConnectEvent with its outcome set), an
// outcome, or an HTTP request.
// A query sent to a resolver (--dns).
Result<DnsQueryEvent> decode_dns_record(std::span<const std::byte> bytes, const ClockConverter& clock);

using TraceRecord = std::variant<ConnectEvent, OutcomeEvent, HttpRequestEvent, DnsQueryEvent>;
Result<TraceRecord> decode_record(std::span<const std::byte> bytes, const ClockConverter& clock);

}  // namespace connsnoop
