#include "output/json_format.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "output/escape.hpp"
#include "output/time_format.hpp"
#include "util/metadata_endpoints.hpp"

namespace connsnoop {

namespace {

// Writes a line through a raw pointer into the caller's string: room is made
// before each piece, so a key is one fixed-size copy and a number a few
// stores, not a call to std::string::append. The string ends at the line's
// end when the builder goes away.
class LineBuilder {
public:
    explicit LineBuilder(std::string& out) : out_(out) {
        const std::size_t used = out_.size();
        out_.resize(used + kInitialRoom);
        cursor_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }
    LineBuilder(const LineBuilder&) = delete;
    LineBuilder& operator=(const LineBuilder&) = delete;
    ~LineBuilder() { out_.resize(static_cast<std::size_t>(cursor_ - out_.data())); }

    // A literal, without its terminating NUL.
    template <std::size_t N>
    void literal(const char (&text)[N]) {
        room(N);
        std::memcpy(cursor_, text, N - 1);
        cursor_ += N - 1;
    }
    void raw(std::string_view text) {
        room(text.size());
        std::memcpy(cursor_, text.data(), text.size());
        cursor_ += text.size();
    }
    void character(char c) {
        room(1);
        *cursor_++ = c;
    }
    void number(std::uint64_t value) {
        room(20);
        cursor_ = std::to_chars(cursor_, cursor_ + 20, value).ptr;
    }
    void boolean(bool value) {
        if (value) {
            literal("true");
        } else {
            literal("false");
        }
    }
    // The inside of a JSON string (no quotes).
    void escaped(std::string_view text) {
        room(json_escaped_room(text.size()));
        cursor_ = write_json_string_contents(cursor_, text);
    }
    void string(std::string_view text) {
        room(json_escaped_room(text.size()) + 2);
        *cursor_++ = '"';
        cursor_ = write_json_string_contents(cursor_, text);
        *cursor_++ = '"';
    }
    void string_or_null(bool present, std::string_view text) {
        if (present) {
            string(text);
        } else {
            literal("null");
        }
    }
    // inet_ntop formats IPv4 through sprintf; an address is four small numbers.
    void address(const IpAddress& address) {
        room(INET6_ADDRSTRLEN + 2);
        *cursor_++ = '"';
        if (address.family == AddressFamily::ipv4) {
            for (std::size_t i = 0; i < 4; ++i) {
                if (i != 0) *cursor_++ = '.';
                cursor_ = std::to_chars(cursor_, cursor_ + 3, address.bytes[i]).ptr;
            }
        } else {
            inet_ntop(AF_INET6, address.bytes.data(), cursor_, INET6_ADDRSTRLEN);
            cursor_ += std::strlen(cursor_);
        }
        *cursor_++ = '"';
    }
    void time(std::chrono::system_clock::time_point time) {
        room(kIso8601Length);
        if (write_iso8601_utc(cursor_, time)) {
            cursor_ += kIso8601Length;
            return;
        }
        std::string text;  // a year outside 1970-9999: the slow way
        append_iso8601_utc(text, time);
        raw(text);
    }

private:
    static constexpr std::size_t kInitialRoom = 1024;

    void room(std::size_t bytes) {
        if (static_cast<std::size_t>(end_ - cursor_) < bytes) grow(bytes);
    }
    // By what this piece may need: out_ may hold a whole batch of lines
    // before this one, and resize zero-fills all it adds (doubling the size
    // cleared tens of kilobytes per line); the string's capacity still
    // grows geometrically.
    void grow(std::size_t bytes) {
        const auto used = static_cast<std::size_t>(cursor_ - out_.data());
        out_.resize(used + bytes + kInitialRoom);
        cursor_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }

    std::string& out_;
    char* cursor_ = nullptr;
    char* end_ = nullptr;
};

// join_arguments, escaped: a space goes before an argument once the line so
// far is not empty (an empty first argument adds none).
void append_joined(LineBuilder& line, const std::vector<std::string>& argv) {
    bool line_empty = true;
    for (const auto& argument : argv) {
        if (!line_empty) line.character(' ');
        line.escaped(argument);
        line_empty = line_empty && argument.empty();
    }
}

void append_command_line(LineBuilder& line, const ConnectEvent& event) {
    line.character('"');
    if (event.argv.empty()) {
        line.character('[');
        line.escaped(event.comm);
        line.character(']');
    } else {
        append_joined(line, event.argv);
    }
    line.character('"');
}

void append_ancestry(LineBuilder& line, const std::vector<AncestorProcess>& ancestry, AncestorDetail detail) {
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
        append_joined(line, ancestor.argv);
        line.literal(R"(","exited":)");
        line.boolean(ancestor.exited);
        line.character('}');
    }
    line.character(']');
}

// Every field of a connect record up to "ancestry", without the closing brace.
// opening: the record's start up to its time, e.g. {"type":"connect","time":"
void append_process_and_connection(LineBuilder& line, const ConnectEvent& event, std::string_view opening,
                                   AncestorDetail ancestors) {
    line.raw(opening);
    line.time(event.wall_time);
    line.literal(R"(","pid":)");
    line.number(event.pid);
    line.literal(R"(,"tid":)");
    line.number(event.tid);
    line.literal(R"(,"ppid":)");
    line.number(event.ppid);
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
    append_command_line(line, event);
    line.literal(R"(,"argv":[)");
    for (std::size_t i = 0; i < event.argv.size(); ++i) {
        if (i != 0) line.character(',');
        line.string(event.argv[i]);
    }
    line.literal(R"(],"argv_truncated":)");
    line.boolean(event.argv_truncated);
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
        line.raw(endpoint);
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
    line.literal(R"(,"ancestry":)");
    append_ancestry(line, event.ancestry, ancestors);
}

// attempt_id links a "pending" record to the one with the same attempt's fate.
void append_outcome(LineBuilder& line, const ConnectOutcome& outcome, std::uint64_t attempt_id) {
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
}

}  // namespace

void append_connect_json(std::string& out, const ConnectEvent& event, AncestorDetail ancestors) {
    LineBuilder line(out);
    append_process_and_connection(line, event, R"({"type":"connect","time":")", ancestors);
    if (event.outcome) append_outcome(line, *event.outcome, event.attempt_id);
    line.character('}');
}

void append_http_json(std::string& out, const HttpRequestEvent& request, AncestorDetail ancestors) {
    LineBuilder line(out);
    // The connection's outcome is not a request's: not part of this record.
    append_process_and_connection(line, request.connection, R"({"type":"http","time":")", ancestors);
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
}

void append_dns_json(std::string& out, const DnsQueryEvent& query, AncestorDetail ancestors) {
    LineBuilder line(out);
    append_process_and_connection(line, query.sender, R"({"type":"dns","time":")", ancestors);
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
