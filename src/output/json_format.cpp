#include "output/json_format.hpp"

#include <arpa/inet.h>

#include <charconv>

#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

// Keys are written with their punctuation (`,"pid":`), so that a field costs
// one append for the key and one for the value.
void append_uint(std::string& out, std::uint64_t value) {
    char digits[20];
    const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    out.append(digits, static_cast<std::size_t>(end - digits));
}

void append_string(std::string& out, std::string_view text) {
    out += '"';
    append_json_string_contents(out, text);
    out += '"';
}

void append_bool(std::string& out, bool value) { out += value ? "true" : "false"; }

// inet_ntop formats IPv4 through sprintf; an address is four small numbers.
void append_address(std::string& out, const IpAddress& address) {
    out += '"';
    if (address.family == AddressFamily::ipv4) {
        for (std::size_t i = 0; i < 4; ++i) {
            if (i != 0) out += '.';
            append_uint(out, address.bytes[i]);
        }
    } else {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(AF_INET6, address.bytes.data(), text, sizeof(text));
        out += text;
    }
    out += '"';
}

// join_arguments, escaped: a space goes before an argument once the line so
// far is not empty (an empty first argument adds none).
void append_joined(std::string& out, const std::vector<std::string>& argv) {
    bool line_empty = true;
    for (const auto& argument : argv) {
        if (!line_empty) out += ' ';
        append_json_string_contents(out, argument);
        line_empty = line_empty && argument.empty();
    }
}

void append_command_line(std::string& out, const ConnectEvent& event) {
    out += '"';
    if (event.argv.empty()) {
        out += '[';
        append_json_string_contents(out, event.comm);
        out += ']';
    } else {
        append_joined(out, event.argv);
    }
    out += '"';
}

void append_ancestry(std::string& out, const std::vector<AncestorProcess>& ancestry) {
    out += '[';
    bool first = true;
    for (const auto& ancestor : ancestry) {
        out += first ? R"({"pid":)" : R"(,{"pid":)";
        first = false;
        append_uint(out, ancestor.pid);
        out += R"(,"comm":)";
        append_string(out, ancestor.comm);
        out += R"(,"cmdline":")";
        append_joined(out, ancestor.argv);
        out += R"(","exited":)";
        append_bool(out, ancestor.exited);
        out += '}';
    }
    out += ']';
}

// Every field of a connect record up to "ancestry", without the closing brace.
void append_process_and_connection(std::string& out, const ConnectEvent& event, std::string_view type) {
    out += R"({"type":")";
    out += type;
    out += R"(","time":")";
    append_iso8601_utc(out, event.wall_time);
    out += R"(","pid":)";
    append_uint(out, event.pid);
    out += R"(,"tid":)";
    append_uint(out, event.tid);
    out += R"(,"ppid":)";
    append_uint(out, event.ppid);
    out += R"(,"uid":)";
    append_uint(out, event.uid);
    out += R"(,"user":)";
    append_string(out, event.user);
    out += R"(,"gid":)";
    append_uint(out, event.gid);
    out += R"(,"group":)";
    append_string(out, event.group);
    out += R"(,"comm":)";
    append_string(out, event.comm);
    out += R"(,"cmdline":)";
    append_command_line(out, event);
    out += R"(,"argv":[)";
    for (std::size_t i = 0; i < event.argv.size(); ++i) {
        if (i != 0) out += ',';
        append_string(out, event.argv[i]);
    }
    out += R"(],"argv_truncated":)";
    append_bool(out, event.argv_truncated);
    out += event.destination.family == AddressFamily::ipv4 ? R"(,"family":"ipv4","saddr":)"
                                                           : R"(,"family":"ipv6","saddr":)";
    append_address(out, event.source);
    out += R"(,"sport":)";
    append_uint(out, event.source_port);
    out += R"(,"daddr":)";
    append_address(out, event.destination);
    out += R"(,"dport":)";
    append_uint(out, event.destination_port);
    out += R"(,"cgroup_id":)";
    append_uint(out, event.cgroup_id);
    out += R"(,"netns":)";
    append_uint(out, event.netns);
    out += R"(,"ns_pid":)";
    append_uint(out, event.ns_pid);
    out += R"(,"pidns":)";
    append_uint(out, event.pidns);
    out += R"(,"exe":)";
    append_string(out, event.exe);
    out += R"(,"cgroup":)";
    append_string(out, event.cgroup_path);
    out += R"(,"container_id":)";
    append_string(out, event.container_id);
    out += R"(,"container_runtime":)";
    append_string(out, event.container_runtime);
    out += R"(,"pod_uid":)";
    append_string(out, event.pod_uid);
    out += R"(,"qos_class":)";
    append_string(out, event.qos_class);
    out += R"(,"unit":)";
    append_string(out, event.unit);
    out += R"(,"ancestry":)";
    append_ancestry(out, event.ancestry);
}

void append_outcome(std::string& out, const ConnectOutcome& outcome) {
    out += R"(,"result":)";
    append_string(out, result_name(outcome.result));
    out += R"(,"errno":)";
    if (outcome.error != 0) {
        append_string(out, errno_name(outcome.error));
    } else {
        out += "null";
    }
    out += R"(,"latency_us":)";
    if (outcome.latency_ns) {
        append_uint(out, *outcome.latency_ns / 1000);
    } else {
        out += "null";
    }
}

void append_string_or_null(std::string& out, bool present, std::string_view text) {
    if (present) {
        append_string(out, text);
    } else {
        out += "null";
    }
}

}  // namespace

void append_connect_json(std::string& out, const ConnectEvent& event) {
    append_process_and_connection(out, event, "connect");
    if (event.outcome) append_outcome(out, *event.outcome);
    out += '}';
}

void append_http_json(std::string& out, const HttpRequestEvent& request) {
    // The connection's outcome is not a request's: not part of this record.
    append_process_and_connection(out, request.connection, "http");
    out += R"(,"http":{"method":)";
    append_string(out, request.method);
    out += R"(,"path":)";
    append_string(out, request.path);
    out += R"(,"version":)";
    append_string(out, request.version);
    out += R"(,"headers_present":[)";
    bool first = true;
    for (const auto& name : header_names(request.headers)) {
        if (!first) out += ',';
        first = false;
        append_string(out, name);
    }
    out += R"(],"user_agent":)";
    append_string_or_null(out, (request.headers & kHttpHeaderUserAgent) != 0, request.user_agent);
    out += R"(,"path_truncated":)";
    append_bool(out, request.path_truncated);
    out += R"(,"user_agent_truncated":)";
    append_bool(out, request.user_agent_truncated);
    out += R"(,"head_incomplete":)";
    append_bool(out, request.head_incomplete);
    out += R"(,"writes":)";
    append_uint(out, request.writes);
    const auto imds = classify_imds(request);
    out += R"(},"imds":{"version":)";
    append_string_or_null(out, imds != ImdsVersion::none, imds_version_name(imds));
    out += "}}";
}

std::string connect_json_line(const ConnectEvent& event) {
    std::string line;
    append_connect_json(line, event);
    return line;
}

std::string http_json_line(const HttpRequestEvent& request) {
    std::string line;
    append_http_json(line, request);
    return line;
}

// Parsed from the line, so the document and the line cannot disagree.
nlohmann::ordered_json connect_to_json(const ConnectEvent& event) {
    return nlohmann::ordered_json::parse(connect_json_line(event));
}

nlohmann::ordered_json http_to_json(const HttpRequestEvent& request) {
    return nlohmann::ordered_json::parse(http_json_line(request));
}

nlohmann::ordered_json lost_to_json(const LossReport& report) {
    return {
        {"type", "lost"},
        {"time", format_iso8601_utc(report.time)},
        {"count", report.newly_lost},
        {"total", report.total_lost},
    };
}

nlohmann::ordered_json summary_to_json(const RunSummary& summary) {
    nlohmann::ordered_json record = {
        {"type", "summary"},    {"time", format_iso8601_utc(summary.time)}, {"events", summary.events},
        {"lost", summary.lost}, {"malformed", summary.malformed},           {"duration_s", summary.duration_seconds},
        {"hook", summary.hook},
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
