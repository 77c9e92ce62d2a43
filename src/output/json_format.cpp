#include "output/json_format.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "output/escape.hpp"
#include "output/kept_renderings.hpp"
#include "output/time_format.hpp"
#include "util/metadata_endpoints.hpp"

namespace connsnoop {

namespace {

// Room for all the fixed text of any record (keys, punctuation, numbers at
// 20 digits, addresses, the time, the outcome): more than the fixed text
// of the longest record, a connect record with IPv6 addresses and outcome
// (a unit test holds it under half of this). Only strings vary; each
// makes room for itself and then this much again, so the fixed pieces
// written between two strings, or after the last one, need no check.
constexpr std::size_t kFixedRoom = 2048;
constexpr std::size_t kMaxDecimalDigits = 20;  // 2^64 - 1

constexpr std::array<std::uint64_t, kMaxDecimalDigits> kPowersOf10 = [] {
    std::array<std::uint64_t, kMaxDecimalDigits> powers{};
    std::uint64_t power = 1;
    for (auto& entry : powers) {
        entry = power;
        power *= 10;
    }
    return powers;
}();

// "00" "01" ... "99": two digits a step.
constexpr std::array<char, 200> kDigitPairs = [] {
    std::array<char, 200> pairs{};
    for (std::size_t i = 0; i < 100; ++i) {
        pairs[2 * i] = static_cast<char>('0' + i / 10);
        pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    return pairs;
}();

// Its pieces run some fifty times a line: they are forced inline (GCC's
// size heuristics at -O2 leave some as calls otherwise).
#define CONNSNOOP_INLINE [[gnu::always_inline]] inline

// Exactly `Digits` decimal digits of `value` at `out`, two a step.
template <std::size_t Digits>
CONNSNOOP_INLINE char* put_digits(char* out, std::uint64_t value) {
    char* cursor = out + Digits;
    for (std::size_t i = 0; i < Digits / 2; ++i) {
        cursor -= 2;
        std::memcpy(cursor, &kDigitPairs[2 * (value % 100)], 2);
        value /= 100;
    }
    if constexpr (Digits % 2 == 1) out[0] = static_cast<char>('0' + value);
    return out + Digits;
}

// The first length from `Digits` on that holds `value`.
template <std::size_t Digits>
CONNSNOOP_INLINE char* put_decimal_from(char* out, std::uint64_t value) {
    if constexpr (Digits == kMaxDecimalDigits) {
        return put_digits<Digits>(out, value);
    } else {
        if (value < kPowersOf10[Digits]) return put_digits<Digits>(out, value);
        return put_decimal_from<Digits + 1>(out, value);
    }
}

// The decimal digits of `value`, written at `out`; returns the end. One
// branch per length, each returning out plus a constant: the next piece's
// place does not wait on arithmetic over the value (the branches are
// predicted, as a field's length seldom changes from event to event).
[[gnu::noinline]] char* put_decimal(char* out, std::uint64_t value) {
    if (value < 10) return put_digits<1>(out, value);
    return put_decimal_from<2>(out, value);
}

// Where lines are built, kept from line to line (one per thread): it only
// grows, and is never cleared. Built in the caller's string instead, each
// line would have std::string::resize zero-fill all the room it might
// need (kilobytes: every string's worst case), to use a few hundred bytes.
class LineScratch {
public:
    char* begin() { return bytes_.get(); }
    char* end() { return bytes_.get() + size_; }
    // Keeps the first `used` bytes.
    void grow(std::size_t used, std::size_t needed) {
        const std::size_t size = std::max(2 * size_, needed);
        auto bytes = std::make_unique_for_overwrite<char[]>(size);
        std::memcpy(bytes.get(), bytes_.get(), used);
        bytes_ = std::move(bytes);
        size_ = size;
    }

private:
    static constexpr std::size_t kInitialSize = std::size_t{16} * 1024;
    static_assert(kInitialSize > kFixedRoom);
    std::size_t size_ = kInitialSize;
    std::unique_ptr<char[]> bytes_ = std::make_unique_for_overwrite<char[]>(kInitialSize);
};

thread_local LineScratch line_scratch;

// The line being written into line_scratch: where its next byte goes and
// where the room ends. A value that the writers below take and give back,
// so that it lives in registers: were it in memory, every byte stored
// through its char pointer could alias it and force a reload. Fixed pieces
// (keys, numbers, addresses) are plain stores; the room for them is kept
// by the strings' checks (see kFixedRoom).
class Line {
public:
    static Line start() { return {line_scratch.begin(), line_scratch.end()}; }
    // Appends the line to `out`.
    void finish(std::string& out) const {
        // Past the end only if kFixedRoom were too small for the fixed
        // text between two strings: a bug that must not pass unnoticed.
        if (at_ > end_) std::abort();
        out.append(line_scratch.begin(), at_);
    }

    // A literal, without its terminating NUL.
    template <std::size_t N>
    CONNSNOOP_INLINE void literal(const char (&text)[N]) {
        static_assert(N < kFixedRoom / 8);
        std::memcpy(at_, text, N - 1);
        at_ += N - 1;
    }
    // One of our own names (an endpoint, a result): plain ASCII.
    CONNSNOOP_INLINE void name(std::string_view text) {
        reserve(text.size());
        std::memcpy(at_, text.data(), text.size());
        at_ += text.size();
    }
    // Text rendered by an earlier line (already escaped).
    CONNSNOOP_INLINE void verbatim(std::string_view text) {
        reserve(text.size());
        std::memcpy(at_, text.data(), text.size());
        at_ += text.size();
    }
    // Where the next byte goes, as an offset that survives the scratch growing.
    [[nodiscard]] std::size_t offset() const { return static_cast<std::size_t>(at_ - line_scratch.begin()); }
    // What was written from `offset` on.
    [[nodiscard]] std::string_view written_since(std::size_t offset) const {
        return {line_scratch.begin() + offset, at_};
    }
    CONNSNOOP_INLINE void character(char c) { *at_++ = c; }
    CONNSNOOP_INLINE void number(std::uint64_t value) { at_ = put_decimal(at_, value); }
    CONNSNOOP_INLINE void boolean(bool value) {
        if (value) {
            literal("true");
        } else {
            literal("false");
        }
    }
    // The inside of a JSON string (no quotes).
    CONNSNOOP_INLINE void escaped(std::string_view text) {
        reserve(json_escaped_room(text.size()));
        at_ = write_json_string_contents(at_, text);
    }
    CONNSNOOP_INLINE void string(std::string_view text) {
        reserve(json_escaped_room(text.size()) + 2);  // also for "": a list of many is no fixed text
        if (text.empty()) {                           // four of a typical record's strings
            literal(R"("")");
            return;
        }
        *at_++ = '"';
        at_ = write_json_string_contents(at_, text);
        *at_++ = '"';
    }
    CONNSNOOP_INLINE void string_or_null(bool present, std::string_view text) {
        if (present) {
            string(text);
        } else {
            literal("null");
        }
    }
    // inet_ntop formats IPv4 through sprintf; an address is four small numbers.
    CONNSNOOP_INLINE void address(const IpAddress& address) {
        *at_++ = '"';
        if (address.family == AddressFamily::ipv4) {
            for (std::size_t i = 0; i < 4; ++i) {
                at_ = put_decimal(at_, address.bytes[i]);
                *at_++ = '.';
            }
            --at_;  // the dot after the last number
        } else {
            inet_ntop(AF_INET6, address.bytes.data(), at_, INET6_ADDRSTRLEN);
            at_ += std::strlen(at_);
        }
        *at_++ = '"';
    }
    CONNSNOOP_INLINE void time(std::chrono::system_clock::time_point time) {
        if (write_iso8601_utc(at_, time)) {
            at_ += kIso8601Length;
        } else {
            slow_time(time);
        }
    }

private:
    Line(char* at, char* end) : at_(at), end_(end) {}

    // Room for `bytes`, and then kFixedRoom for the fixed pieces after them.
    CONNSNOOP_INLINE void reserve(std::size_t bytes) {
        if (static_cast<std::size_t>(end_ - at_) < bytes + kFixedRoom) *this = grown(at_, bytes + kFixedRoom);
    }
    [[gnu::noinline, gnu::cold]] static Line grown(char* at, std::size_t bytes) {
        const auto used = static_cast<std::size_t>(at - line_scratch.begin());
        line_scratch.grow(used, used + bytes);
        return {line_scratch.begin() + used, line_scratch.end()};
    }
    [[gnu::noinline, gnu::cold]] void slow_time(std::chrono::system_clock::time_point time) {
        std::string text;  // a year outside 1970-9999
        append_iso8601_utc(text, time);
        name(text);
    }

    char* at_;
    char* end_;
};

// join_arguments, escaped: a space goes before an argument once the line so
// far is not empty (an empty first argument adds none).
Line append_joined(Line line, const std::vector<std::string>& argv) {
    bool line_empty = true;
    for (const auto& argument : argv) {
        if (!line_empty) line.character(' ');
        line.escaped(argument);
        line_empty = line_empty && argument.empty();
    }
    return line;
}

Line append_command_line(Line line, const ConnectEvent& event) {
    line.character('"');
    if (event.argv.empty()) {
        line.character('[');
        line.escaped(event.comm);
        line.character(']');
    } else {
        line = append_joined(line, event.argv);
    }
    line.character('"');
    return line;
}

Line render_ancestry(Line line, const std::vector<AncestorProcess>& ancestry, AncestorDetail detail) {
    line.character('[');
    bool first = true;
    for (const auto& ancestor : ancestry) {
        if (first) {
            line.literal(R"({"pid":)");
        } else {
            line.literal(R"(,{"pid":)");
        }
        first = false;
        line.number(ancestor.pid);
        line.literal(R"(,"comm":)");
        line.string(ancestor.comm);
        if (detail == AncestorDetail::pid_and_comm) {
            line.character('}');
            continue;
        }
        line.literal(R"(,"cmdline":")");
        line = append_joined(line, ancestor.argv);
        line.literal(R"(","exited":)");
        line.boolean(ancestor.exited);
        line.character('}');
    }
    line.character(']');
    return line;
}

// The rendered "ancestry" arrays of the last few chains. Every event of a
// process holds the same immutable chain (see Ancestry), so its array, most
// of a typical line's escaping, is the same from event to event: it is
// copied instead. Keyed by the chain's identity, whose shared_ptr each entry
// holds, so that the address cannot name another chain while it is here.
struct AncestryFields {
    std::shared_ptr<const Ancestry::Levels> chain;  // held: its address names no other chain meanwhile
    AncestorDetail detail = AncestorDetail::full;

    [[nodiscard]] bool matches(const Ancestry& ancestry, AncestorDetail wanted) const {
        return chain == ancestry.shared() && detail == wanted;
    }
    void assign(const Ancestry& ancestry, AncestorDetail wanted) {
        chain = ancestry.shared();
        detail = wanted;
    }
    static std::uint64_t fingerprint(const Ancestry& ancestry, AncestorDetail wanted) {
        return fingerprint_mix(reinterpret_cast<std::uintptr_t>(ancestry.shared().get()),
                               static_cast<std::uint64_t>(wanted));
    }
};

thread_local KeptRenderings<AncestryFields> rendered_ancestries;

Line append_ancestry(Line line, const Ancestry& ancestry, AncestorDetail detail) {
    if (ancestry.empty()) {
        line.literal("[]");
        return line;
    }
    if (const std::string* rendered = rendered_ancestries.find(ancestry, detail)) {
        line.verbatim(*rendered);
        return line;
    }
    const std::size_t start = line.offset();
    line = render_ancestry(line, ancestry, detail);
    rendered_ancestries.missed(line.written_since(start), ancestry, detail);
    return line;
}

// The fields of a record that stay the same from event to event of a process,
// rendered once: two runs of them, each kept with the fields it was rendered
// from (compared, then copied, for less than escaping them again costs).
// Who the process is: "uid" to "argv_truncated".
struct ProcessFields {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    bool argv_truncated = false;
    std::string user;
    std::string group;
    std::string comm;
    std::vector<std::string> argv;

    // A miss costs every entry's compare: sizes first, then the arguments from
    // the last, where two runs of one program differ most often.
    [[nodiscard]] bool matches(const ConnectEvent& event) const {
        if (uid != event.uid || gid != event.gid || argv_truncated != event.argv_truncated ||
            argv.size() != event.argv.size() || comm.size() != event.comm.size()) {
            return false;
        }
        for (std::size_t i = argv.size(); i-- > 0;) {
            if (argv[i] != event.argv[i]) return false;
        }
        return comm == event.comm && user == event.user && group == event.group;
    }
    void assign(const ConnectEvent& event) {
        uid = event.uid;
        gid = event.gid;
        argv_truncated = event.argv_truncated;
        user = event.user;
        group = event.group;
        comm = event.comm;
        argv = event.argv;
    }
    static std::uint64_t fingerprint(const ConnectEvent& event) {
        std::uint64_t hash = fingerprint_mix(event.uid, event.gid);
        hash = fingerprint_mix(hash, event.argv.size());
        if (!event.argv.empty()) hash = fingerprint_mix(hash, fingerprint_tail(event.argv.back()));
        return fingerprint_mix(hash, fingerprint_tail(event.comm));
    }
    static Line render(Line line, const ConnectEvent& event) {
        line.literal(R"(,"uid":)");
        line.number(event.uid);
        line.literal(R"(,"user":)");
        line.string(event.user);
        line.literal(R"(,"gid":)");
        line.number(event.gid);
        line.literal(R"(,"group":)");
        line.string(event.group);
        line.literal(R"(,"comm":)");
        line.string(event.comm);
        line.literal(R"(,"cmdline":)");
        line = append_command_line(line, event);
        line.literal(R"(,"argv":[)");
        for (std::size_t i = 0; i < event.argv.size(); ++i) {
            if (i != 0) line.character(',');
            line.string(event.argv[i]);
        }
        line.literal(R"(],"argv_truncated":)");
        line.boolean(event.argv_truncated);
        return line;
    }
};

// Where it runs: "exe" to "unit".
struct PlacementFields {
    std::string exe;
    std::string cgroup_path;
    std::string container_id;
    std::string container_runtime;
    std::string pod_uid;
    std::string qos_class;
    std::string unit;

    [[nodiscard]] bool matches(const ConnectEvent& event) const {
        if (exe.size() != event.exe.size() || cgroup_path.size() != event.cgroup_path.size() ||
            unit.size() != event.unit.size()) {
            return false;
        }
        return cgroup_path == event.cgroup_path && exe == event.exe && unit == event.unit &&
               container_id == event.container_id && container_runtime == event.container_runtime &&
               pod_uid == event.pod_uid && qos_class == event.qos_class;
    }
    void assign(const ConnectEvent& event) {
        exe = event.exe;
        cgroup_path = event.cgroup_path;
        container_id = event.container_id;
        container_runtime = event.container_runtime;
        pod_uid = event.pod_uid;
        qos_class = event.qos_class;
        unit = event.unit;
    }
    static std::uint64_t fingerprint(const ConnectEvent& event) {
        return fingerprint_mix(fingerprint_tail(event.cgroup_path), fingerprint_tail(event.exe));
    }
    static Line render(Line line, const ConnectEvent& event) {
        line.literal(R"(,"exe":)");
        line.string(event.exe);
        line.literal(R"(,"cgroup":)");
        line.string(event.cgroup_path);
        line.literal(R"(,"container_id":)");
        line.string(event.container_id);
        line.literal(R"(,"container_runtime":)");
        line.string(event.container_runtime);
        line.literal(R"(,"pod_uid":)");
        line.string(event.pod_uid);
        line.literal(R"(,"qos_class":)");
        line.string(event.qos_class);
        line.literal(R"(,"unit":)");
        line.string(event.unit);
        return line;
    }
};

thread_local KeptRenderings<ProcessFields> rendered_processes;
thread_local KeptRenderings<PlacementFields> rendered_placements;

template <typename Fields>
Line append_cached(Line line, const ConnectEvent& event, KeptRenderings<Fields>& cache) {
    if (const std::string* rendered = cache.find(event)) {
        line.verbatim(*rendered);
        return line;
    }
    const std::size_t start = line.offset();
    line = Fields::render(line, event);
    cache.missed(line.written_since(start), event);
    return line;
}

// Every field of a connect record up to "ancestry", without the closing brace.
// opening: the record's start up to its time, e.g. {"type":"connect","time":"
Line append_process_and_connection(Line line, const ConnectEvent& event, std::string_view opening,
                                   AncestorDetail ancestors) {
    line.name(opening);
    line.time(event.wall_time);
    line.literal(R"(","pid":)");
    line.number(event.pid);
    line.literal(R"(,"tid":)");
    line.number(event.tid);
    line.literal(R"(,"ppid":)");
    line.number(event.ppid);
    line = append_cached<ProcessFields>(line, event, rendered_processes);
    if (event.destination.family == AddressFamily::ipv4) {
        line.literal(R"(,"family":"ipv4","saddr":)");
    } else {
        line.literal(R"(,"family":"ipv6","saddr":)");
    }
    line.address(event.source);
    // 0 is "not chosen yet" (the connect record comes before the kernel picks
    // the port; a call that failed before any SYN never had one): null.
    line.literal(R"(,"sport":)");
    if (event.source_port != 0) {
        line.number(event.source_port);
    } else {
        line.literal("null");
    }
    line.literal(R"(,"daddr":)");
    line.address(event.destination);
    line.literal(R"(,"dport":)");
    line.number(event.destination_port);
    if (event.protocol == Protocol::udp) {
        line.literal(R"(,"proto":"udp")");
    } else {
        line.literal(R"(,"proto":"tcp")");
    }
    line.literal(R"(,"endpoint":)");
    const auto endpoint = metadata_endpoint_name(event.destination, event.destination_port);
    if (endpoint.empty()) {
        line.literal("null");
    } else {  // one of our own names: plain ASCII, nothing to escape
        line.character('"');
        line.name(endpoint);
        line.character('"');
    }
    line.literal(R"(,"cgroup_id":)");
    line.number(event.cgroup_id);
    line.literal(R"(,"netns":)");
    line.number(event.netns);
    line.literal(R"(,"ns_pid":)");
    line.number(event.ns_pid);
    line.literal(R"(,"pidns":)");
    line.number(event.pidns);
    line = append_cached<PlacementFields>(line, event, rendered_placements);
    line.literal(R"(,"ancestry":)");
    return append_ancestry(line, event.ancestry, ancestors);
}

// attempt_id links a "pending" record to the one with the same attempt's fate.
Line append_outcome(Line line, const ConnectOutcome& outcome, std::uint64_t attempt_id) {
    line.literal(R"(,"attempt_id":)");
    if (attempt_id != 0) {
        line.number(attempt_id);
    } else {
        line.literal("null");
    }
    line.literal(R"(,"result":)");
    line.string(result_name(outcome.result));
    line.literal(R"(,"errno":)");
    if (outcome.error != 0) {
        line.string(errno_name(outcome.error));
    } else {
        line.literal("null");
    }
    line.literal(R"(,"latency_us":)");
    if (outcome.latency_ns) {
        line.number(*outcome.latency_ns / 1000);
    } else {
        line.literal("null");
    }
    return line;
}

}  // namespace

void append_connect_json(std::string& out, const ConnectEvent& event, AncestorDetail ancestors) {
    Line line = append_process_and_connection(Line::start(), event, R"({"type":"connect","time":")", ancestors);
    if (event.outcome) line = append_outcome(line, *event.outcome, event.attempt_id);
    line.character('}');
    line.finish(out);
}

void append_http_json(std::string& out, const HttpRequestEvent& request, AncestorDetail ancestors) {
    // The connection's outcome is not a request's: not part of this record.
    Line line =
        append_process_and_connection(Line::start(), request.connection, R"({"type":"http","time":")", ancestors);
    line.literal(R"(,"http":{"method":)");
    line.string(request.method);
    line.literal(R"(,"path":)");
    line.string(request.path);
    line.literal(R"(,"version":)");
    line.string(request.version);
    line.literal(R"(,"headers_present":[)");
    bool first = true;
    for (const auto& name : header_names(request.headers)) {
        if (!first) line.character(',');
        first = false;
        line.string(name);
    }
    line.literal(R"(],"user_agent":)");
    line.string_or_null((request.headers & kHttpHeaderUserAgent) != 0, request.user_agent);
    line.literal(R"(,"path_truncated":)");
    line.boolean(request.path_truncated);
    line.literal(R"(,"user_agent_truncated":)");
    line.boolean(request.user_agent_truncated);
    line.literal(R"(,"head_incomplete":)");
    line.boolean(request.head_incomplete);
    line.literal(R"(,"writes":)");
    line.number(request.writes);
    const auto imds = classify_imds(request);
    line.literal(R"(},"imds":{"version":)");
    line.string_or_null(imds != ImdsVersion::none, imds_version_name(imds));
    line.literal("}}");
    line.finish(out);
}

void append_dns_json(std::string& out, const DnsQueryEvent& query, AncestorDetail ancestors) {
    Line line = append_process_and_connection(Line::start(), query.sender, R"({"type":"dns","time":")", ancestors);
    line.literal(R"(,"dns":{"id":)");
    line.number(query.query_id);
    line.literal(R"(,"qname":)");
    line.string(query.name);
    line.literal(R"(,"qtype":)");
    line.string(dns_type_name(query.qtype));
    line.literal(R"(,"qtype_code":)");
    line.number(query.qtype);
    line.literal(R"(,"qclass":)");
    line.string(dns_class_name(query.qclass));
    line.literal(R"(,"questions":)");
    line.number(query.question_count);
    line.literal(R"(,"recursion_desired":)");
    line.boolean((query.header_flags & 0x0100) != 0);
    line.literal(R"(,"name_compressed":)");
    line.boolean(query.name_compressed);
    line.literal(R"(,"name_malformed":)");
    line.boolean(query.name_malformed);
    line.literal("}}");
    line.finish(out);
}

std::string dns_json_line(const DnsQueryEvent& query, AncestorDetail ancestors) {
    std::string line;
    append_dns_json(line, query, ancestors);
    return line;
}

nlohmann::ordered_json dns_to_json(const DnsQueryEvent& query) {
    return nlohmann::ordered_json::parse(dns_json_line(query));
}

std::string connect_json_line(const ConnectEvent& event, AncestorDetail ancestors) {
    std::string line;
    append_connect_json(line, event, ancestors);
    return line;
}

std::string http_json_line(const HttpRequestEvent& request, AncestorDetail ancestors) {
    std::string line;
    append_http_json(line, request, ancestors);
    return line;
}

// Parsed from the line, so the document and the line cannot disagree.
nlohmann::ordered_json connect_to_json(const ConnectEvent& event, AncestorDetail ancestors) {
    return nlohmann::ordered_json::parse(connect_json_line(event, ancestors));
}

nlohmann::ordered_json http_to_json(const HttpRequestEvent& request, AncestorDetail ancestors) {
    return nlohmann::ordered_json::parse(http_json_line(request, ancestors));
}

nlohmann::ordered_json lost_to_json(const LossReport& report) {
    return {
        {"type", "lost"},
        {"time", format_iso8601_utc(report.time)},
        {"count", report.newly_lost},
        {"total", report.total_lost},
    };
}

nlohmann::ordered_json lost_output_to_json(std::chrono::system_clock::time_point time, std::uint64_t newly_lost,
                                           std::uint64_t total_lost, int error) {
    return {
        {"type", "lost_output"}, {"time", format_iso8601_utc(time)}, {"count", newly_lost},
        {"total", total_lost},   {"error", std::strerror(error)},
    };
}

nlohmann::ordered_json summary_to_json(const RunSummary& summary) {
    nlohmann::ordered_json record = {
        {"type", "summary"},    {"time", format_iso8601_utc(summary.time)}, {"events", summary.events},
        {"lost", summary.lost}, {"malformed", summary.malformed},           {"duration_s", summary.duration_seconds},
        {"hook", summary.hook}, {"lost_output", summary.lost_output},
    };
    if (summary.outcomes) {
        nlohmann::ordered_json results = nlohmann::ordered_json::object();
        for (std::size_t i = 0; i < kConnectResultCount; ++i) {
            results[std::string(result_name(static_cast<ConnectResult>(i)))] = summary.outcomes->by_result[i];
        }
        record["results"] = std::move(results);
        record["not_followed"] = summary.outcomes->not_followed;
    }
    return record;
}

std::string to_json_line(const nlohmann::ordered_json& record) {
    // replace: a last line of defence; strings are expected to be valid UTF-8.
    return escape_json_invisibles(record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace connsnoop
