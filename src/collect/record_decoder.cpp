#include "collect/record_decoder.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <type_traits>

extern "C" {
#include "connsnoop_abi.h"
}

#include "collect/token_redaction.hpp"

namespace connsnoop {

// The ABI header is compiled by clang for BPF and by g++ here: pin the layout.
static_assert(std::is_standard_layout_v<cs_connect_record>);
static_assert(sizeof(cs_connect_record) == 200, "cs_connect_record layout changed: update both sides");
static_assert(offsetof(cs_connect_record, ns_pid) == 120);
static_assert(offsetof(cs_connect_record, ancestors) == 136);
static_assert(offsetof(cs_connect_record, timestamp_ns) == 8);
static_assert(offsetof(cs_connect_record, saddr) == 60);
static_assert(offsetof(cs_connect_record, comm) == 92);
static_assert(offsetof(cs_connect_record, error) == 108);
static_assert(offsetof(cs_connect_record, attempt_id) == 112);
static_assert(std::is_standard_layout_v<cs_outcome_record>);
static_assert(sizeof(cs_outcome_record) == 40, "cs_outcome_record layout changed: update both sides");
static_assert(offsetof(cs_outcome_record, attempt_id) == 16);
static_assert(offsetof(cs_outcome_record, error) == 32);
static_assert(offsetof(cs_outcome_record, sport) == 36);
static_assert(std::is_standard_layout_v<cs_http_record>);
static_assert(offsetof(cs_http_record, headers) == sizeof(cs_connect_record));
static_assert(sizeof(cs_http_record) == sizeof(cs_connect_record) + 24 + CS_HTTP_METHOD_LEN + CS_HTTP_PATH_LEN +
                                            CS_HTTP_VERSION_LEN + CS_HTTP_USER_AGENT_LEN,
              "cs_http_record layout changed: update both sides");
static_assert(std::is_standard_layout_v<cs_dns_record>);
static_assert(offsetof(cs_dns_record, query_id) == sizeof(cs_connect_record));
static_assert(sizeof(cs_dns_record) == sizeof(cs_connect_record) + 16 + CS_DNS_NAME_MAX,
              "cs_dns_record layout changed: update both sides");
static_assert(std::uint32_t{kHttpHeaderHost} == CS_HTTP_HEADER_HOST &&
              std::uint32_t{kHttpHeaderUserAgent} == CS_HTTP_HEADER_USER_AGENT &&
              std::uint32_t{kHttpHeaderImdsToken} == CS_HTTP_HEADER_IMDS_TOKEN &&
              std::uint32_t{kHttpHeaderImdsTokenTtl} == CS_HTTP_HEADER_IMDS_TOKEN_TTL);

Status fill_connect_event(const cs_connect_record& record, std::span<const std::byte> argv_area,
                          const ClockConverter& clock, ConnectEvent& event, ArgvMemo* memo = nullptr);
Result<ConnectEvent> connect_event_from(const cs_connect_record& record, std::span<const std::byte> argv_area,
                                        const ClockConverter& clock);

namespace {
std::int64_t read_clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

IpAddress address_from(std::uint16_t family, const std::uint8_t (&bytes)[16]) {
    IpAddress address;
    address.family = family == CS_AF_INET6 ? AddressFamily::ipv6 : AddressFamily::ipv4;
    const std::size_t length = address.family == AddressFamily::ipv4 ? 4 : 16;
    std::memcpy(address.bytes.data(), bytes, length);
    return address;
}
}  // namespace

ClockConverter ClockConverter::from_system_clocks() {
    // Bracket the realtime read between two monotonic reads to halve the error.
    const auto before = read_clock_ns(CLOCK_MONOTONIC);
    const auto realtime = read_clock_ns(CLOCK_REALTIME);
    const auto after = read_clock_ns(CLOCK_MONOTONIC);
    return ClockConverter(realtime - (before + (after - before) / 2));
}

std::chrono::system_clock::time_point ClockConverter::to_wall(std::uint64_t monotonic_ns) const {
    // Unsigned, so a corrupt stamp wraps instead of overflowing (undefined behaviour; found by fuzzing).
    const auto since_epoch =
        std::chrono::nanoseconds(static_cast<std::int64_t>(monotonic_ns + static_cast<std::uint64_t>(offset_ns_)));
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

void split_argv_into(std::string_view area, bool rewritten, std::vector<std::string>& argv) {
    if (rewritten) area = area.substr(0, area.find('\0'));
    while (!area.empty() && area.back() == '\0') area.remove_suffix(1);
    std::size_t count = 0;
    for (std::size_t start = 0; !area.empty();) {
        const auto nul = area.find('\0', start);
        const auto argument = area.substr(start, nul - start);
        if (count < argv.size()) {
            argv[count].assign(argument);  // into the buffer the last record's argument left
        } else {
            argv.emplace_back(argument);
        }
        ++count;
        if (nul == std::string_view::npos) break;
        start = nul + 1;
    }
    argv.resize(count);
}

std::vector<std::string> split_argv(std::string_view area, bool rewritten) {
    std::vector<std::string> argv;
    split_argv_into(area, rewritten, argv);
    return argv;
}

std::string_view result_name(ConnectResult result) {
    switch (result) {
        case ConnectResult::established:
            return "established";
        case ConnectResult::refused:
            return "refused";
        case ConnectResult::timeout:
            return "timeout";
        case ConnectResult::reset:
            return "reset";
        case ConnectResult::aborted:
            return "aborted";
        case ConnectResult::error:
            return "error";
        case ConnectResult::failed:
            return "failed";
        case ConnectResult::untracked:
            return "untracked";
        case ConnectResult::pending:
            return "pending";
    }
    return "unknown";
}

bool did_not_establish(ConnectResult result) {
    return result != ConnectResult::established && result != ConnectResult::untracked &&
           result != ConnectResult::pending;
}

std::string errno_name(int error) {
    if (const char* name = strerrorname_np(error)) return name;
    return std::to_string(error);
}

ConnectResult classify_outcome(std::uint32_t state, std::uint32_t error) {
    if (state == CS_OUTCOME_ESTABLISHED) return ConnectResult::established;
    if (state == CS_OUTCOME_CONNECT_FAILED) return ConnectResult::failed;
    switch (error) {
        case 0:
            return ConnectResult::aborted;
        case ECONNREFUSED:
            return ConnectResult::refused;
        case ETIMEDOUT:
            return ConnectResult::timeout;
        case ECONNRESET:
            return ConnectResult::reset;
        default:
            return ConnectResult::error;
    }
}

Result<OutcomeEvent> decode_outcome_record(std::span<const std::byte> bytes, const ClockConverter& clock) {
    cs_outcome_record record{};
    if (bytes.size() < sizeof(record)) {
        return Error{"short outcome record: " + std::to_string(bytes.size()) + " bytes", "", 0};
    }
    std::memcpy(&record, bytes.data(), sizeof(record));
    if (record.kind != CS_RECORD_OUTCOME) {
        return Error{"unexpected record kind " + std::to_string(record.kind), "", 0};
    }
    if (record.state < CS_OUTCOME_ESTABLISHED || record.state > CS_OUTCOME_CONNECT_FAILED) {
        return Error{"outcome record with unknown state " + std::to_string(record.state), "", 0};
    }
    if (record.attempt_id == 0) return Error{"outcome record without an attempt id", "", 0};
    OutcomeEvent event;
    event.monotonic_ns = record.timestamp_ns;
    event.wall_time = clock.to_wall(record.timestamp_ns);
    event.attempt_id = record.attempt_id;
    event.outcome.result = classify_outcome(record.state, record.error);
    event.outcome.error = static_cast<int>(record.error);
    // connect() failed inside the call: no SYN left, so there is no latency to speak of.
    if (record.state != CS_OUTCOME_CONNECT_FAILED) event.outcome.latency_ns = record.latency_ns;
    event.source_port = record.sport;
    return event;
}

Result<TraceRecord> decode_record(std::span<const std::byte> bytes, const ClockConverter& clock) {
    std::uint32_t kind = 0;
    if (bytes.size() < sizeof(kind)) return Error{"record too short for its kind", "", 0};
    std::memcpy(&kind, bytes.data(), sizeof(kind));
    if (kind == CS_RECORD_HTTP) {
        auto request = decode_http_record(bytes, clock);
        if (!request) return request.error();
        return TraceRecord(std::move(request).value());
    }
    if (kind == CS_RECORD_DNS) {
        auto query = decode_dns_record(bytes, clock);
        if (!query) return query.error();
        return TraceRecord(std::move(query).value());
    }
    if (kind == CS_RECORD_OUTCOME) {
        auto outcome = decode_outcome_record(bytes, clock);
        if (!outcome) return outcome.error();
        return TraceRecord(std::move(outcome).value());
    }
    auto connect = decode_connect_record(bytes, clock);
    if (!connect) return connect.error();
    return TraceRecord(std::move(connect).value());
}

Status decode_connect_record_into(std::span<const std::byte> bytes, const ClockConverter& clock, ConnectEvent& event,
                                  ArgvMemo* memo) {
    cs_connect_record record{};
    if (bytes.size() < sizeof(record)) {
        return Error{"short connect record: " + std::to_string(bytes.size()) + " bytes", "", 0};
    }
    std::memcpy(&record, bytes.data(), sizeof(record));
    if (record.kind != CS_RECORD_CONNECT && record.kind != CS_RECORD_CONNECT_FAILED &&
        record.kind != CS_RECORD_UDP_SEND) {
        return Error{"unexpected record kind " + std::to_string(record.kind), "", 0};
    }
    return fill_connect_event(record, bytes.subspan(sizeof(record)), clock, event, memo);
}

Result<ConnectEvent> decode_connect_record(std::span<const std::byte> bytes, const ClockConverter& clock) {
    ConnectEvent event;
    if (auto decoded = decode_connect_record_into(bytes, clock, event); !decoded) return decoded.error();
    return event;
}

namespace {
// Makes `event` what a new one is, but keeps the buffers that decoding and
// enrichment fill again for the next record of a reader: strings and vectors
// are cleared, not freed (argv's strings are refilled in place by
// split_argv_into), and nothing is built, moved or destroyed per record.
// Every field is set here, so none carries over from the last record; the
// size check below catches a field added later, and the tests compare a
// reused event with a fresh one.
void reset_keeping_buffers(ConnectEvent& event) {
    static_assert(sizeof(ConnectEvent) == 552, "a field was added to ConnectEvent: reset it here too");
    event.protocol = Protocol::tcp;
    event.monotonic_ns = 0;
    event.wall_time = {};
    event.pid = event.tid = event.ppid = event.uid = event.gid = 0;
    event.cgroup_id = 0;
    event.netns = event.ns_pid = event.pidns = 0;
    event.start_boottime_ns = 0;
    event.parents.clear();
    event.comm.clear();  // argv is not: split_argv_into sets all of it
    event.argv_truncated = event.argv_unreadable = false;
    event.argv_area_len = 0;
    event.source = IpAddress{};
    event.source_port = 0;
    event.destination = IpAddress{};
    event.destination_port = 0;
    event.attempt_id = 0;
    event.outcome.reset();
    for (auto* text : {&event.user, &event.group, &event.exe, &event.cgroup_path, &event.container_id,
                       &event.container_runtime, &event.pod_uid, &event.qos_class, &event.unit}) {
        text->clear();
    }
    event.ancestry.clear();
}
}  // namespace

// The process and connection part shared by connect and HTTP records; the
// argv bytes follow the whole record.
Status fill_connect_event(const cs_connect_record& record, std::span<const std::byte> argv_area,
                          const ClockConverter& clock, ConnectEvent& event, ArgvMemo* memo) {
    if (record.argv_len > argv_area.size()) {
        return Error{"connect record claims " + std::to_string(record.argv_len) + " argv bytes but carries " +
                         std::to_string(argv_area.size()),
                     "", 0};
    }
    if (record.family != CS_AF_INET && record.family != CS_AF_INET6) {
        return Error{"connect record with unknown address family " + std::to_string(record.family), "", 0};
    }
    if (record.kind == CS_RECORD_CONNECT_FAILED && record.error == 0) {
        return Error{"failed-connect record without an errno", "", 0};
    }

    reset_keeping_buffers(event);
    // a DNS query is a datagram too
    if (record.kind == CS_RECORD_UDP_SEND || record.kind == CS_RECORD_DNS) event.protocol = Protocol::udp;
    event.monotonic_ns = record.timestamp_ns;
    event.wall_time = clock.to_wall(record.timestamp_ns);
    event.pid = record.pid;
    event.tid = record.tid;
    event.ppid = record.ppid;
    event.uid = record.uid;
    event.gid = record.gid;
    event.cgroup_id = record.cgroup_id;
    event.netns = record.netns;
    event.ns_pid = record.ns_pid;
    event.pidns = record.pidns;
    event.start_boottime_ns = record.start_boottime_ns;
    for (const auto& ancestor : record.ancestors) {
        if (ancestor.pid == 0) break;
        event.parents.push_back(ProcessRef{ancestor.pid, ancestor.start_boottime_ns});
    }
    event.comm.assign(record.comm, strnlen(record.comm, sizeof(record.comm)));
    const std::string_view area(reinterpret_cast<const char*>(argv_area.data()), record.argv_len);
    const bool rewritten = (record.flags & CS_ARGV_REWRITTEN) != 0;
    if (const auto* known = memo != nullptr ? memo->find(area, rewritten) : nullptr) {
        event.argv = *known;  // split and redacted before
    } else {
        split_argv_into(area, rewritten, event.argv);
        // A header name inside an argument is inside the area: one search of the
        // area spares the search argument by argument for almost every record.
        if (may_hold_imds_token(area)) redact_imds_tokens(event.argv);
        if (memo != nullptr) memo->remember(area, rewritten, event.argv);
    }
    event.argv_truncated = (record.flags & CS_ARGV_TRUNCATED) != 0;
    event.argv_unreadable = (record.flags & CS_ARGV_UNREADABLE) != 0;
    event.argv_area_len = record.argv_area_len;
    event.source = address_from(record.family, record.saddr);
    event.source_port = record.sport;
    event.destination = address_from(record.family, record.daddr);
    event.destination_port = record.dport;
    event.attempt_id = record.attempt_id;
    if (record.kind == CS_RECORD_CONNECT_FAILED) {
        event.outcome = ConnectOutcome{ConnectResult::failed, static_cast<int>(record.error), std::nullopt};
    } else if ((record.flags & CS_OUTCOME_UNTRACKED) != 0) {
        event.outcome = ConnectOutcome{ConnectResult::untracked, 0, std::nullopt};
    }
    return Ok{};
}

Result<ConnectEvent> connect_event_from(const cs_connect_record& record, std::span<const std::byte> argv_area,
                                        const ClockConverter& clock) {
    ConnectEvent event;
    if (auto filled = fill_connect_event(record, argv_area, clock, event); !filled) return filled.error();
    return event;
}

Status decode_http_record_into(std::span<const std::byte> bytes, const ClockConverter& clock,
                               HttpRequestEvent& request) {
    cs_http_record record{};
    if (bytes.size() < sizeof(record)) {
        return Error{"short HTTP record: " + std::to_string(bytes.size()) + " bytes", "", 0};
    }
    std::memcpy(&record, bytes.data(), sizeof(record));
    if (record.process.kind != CS_RECORD_HTTP) {
        return Error{"unexpected record kind " + std::to_string(record.process.kind), "", 0};
    }
    if (record.method_len >= sizeof(record.method) || record.path_len >= sizeof(record.path) ||
        record.version_len >= sizeof(record.version) || record.user_agent_len >= sizeof(record.user_agent)) {
        return Error{"HTTP record with a field longer than its buffer", "", 0};
    }
    if (auto filled = fill_connect_event(record.process, bytes.subspan(sizeof(record)), clock, request.connection);
        !filled) {
        return filled.error();
    }
    // Every field is set (assign keeps the buffers of a reused request).
    static_assert(sizeof(HttpRequestEvent) == sizeof(ConnectEvent) + 4 * sizeof(std::string) + 16,
                  "a field was added to HttpRequestEvent: set it here too");
    request.method.assign(record.method, record.method_len);
    request.path.assign(record.path, record.path_len);
    request.version.assign(record.version, record.version_len);
    request.user_agent.assign(record.user_agent, record.user_agent_len);
    request.headers = record.headers;
    request.path_truncated = (record.http_flags & CS_HTTP_PATH_TRUNCATED) != 0;
    request.user_agent_truncated = (record.http_flags & CS_HTTP_USER_AGENT_TRUNCATED) != 0;
    request.head_incomplete = (record.http_flags & CS_HTTP_HEAD_INCOMPLETE) != 0;
    request.writes = record.writes;
    return Ok{};
}

Result<HttpRequestEvent> decode_http_record(std::span<const std::byte> bytes, const ClockConverter& clock) {
    HttpRequestEvent request;
    if (auto decoded = decode_http_record_into(bytes, clock, request); !decoded) return decoded.error();
    return request;
}

Result<DnsQueryEvent> decode_dns_record(std::span<const std::byte> bytes, const ClockConverter& clock) {
    cs_dns_record record{};
    if (bytes.size() < sizeof(record)) {
        return Error{"short DNS record: " + std::to_string(bytes.size()) + " bytes", "", 0};
    }
    std::memcpy(&record, bytes.data(), sizeof(record));
    if (record.process.kind != CS_RECORD_DNS) {
        return Error{"unexpected record kind " + std::to_string(record.process.kind), "", 0};
    }
    if (record.name_len >= sizeof(record.name)) return Error{"DNS record with a name longer than its buffer", "", 0};
    auto sender = connect_event_from(record.process, bytes.subspan(sizeof(record)), clock);
    if (!sender) return sender.error();
    DnsQueryEvent query;
    query.sender = std::move(sender).value();
    query.query_id = record.query_id;
    query.header_flags = record.header_flags;
    query.qtype = record.qtype;
    query.qclass = record.qclass;
    query.question_count = record.question_count;
    query.name = dns_name_text(std::span<const std::uint8_t>(record.name, record.name_len));
    query.name_compressed = (record.dns_flags & CS_DNS_NAME_COMPRESSED) != 0;
    query.name_malformed = (record.dns_flags & CS_DNS_NAME_MALFORMED) != 0;
    return query;
}

}  // namespace connsnoop
