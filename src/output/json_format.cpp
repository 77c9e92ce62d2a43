#include "output/json_format.hpp"

#include <cstring>

#include "output/escape.hpp"
#include "output/time_format.hpp"
#include "util/metadata_endpoints.hpp"

namespace connsnoop {

namespace {

// Appends fields in order without nlohmann's initializer-list copies and
// per-insert key lookups: one event is one line on a hot path.
class FieldList {
public:
    explicit FieldList(std::size_t expected) : record_(nlohmann::ordered_json::object()) { fields().reserve(expected); }
    template <typename Value>
    FieldList& add(const char* key, Value&& value) {
        fields().emplace_back(key, std::forward<Value>(value));
        return *this;
    }
    nlohmann::ordered_json take() { return std::move(record_); }

private:
    nlohmann::ordered_json::object_t& fields() { return record_.get_ref<nlohmann::ordered_json::object_t&>(); }
    nlohmann::ordered_json record_;
};

nlohmann::ordered_json ancestry_to_json(const std::vector<AncestorProcess>& ancestry) {
    auto levels = nlohmann::ordered_json::array();
    for (const auto& ancestor : ancestry) {
        levels.push_back(FieldList(4)
                             .add("pid", ancestor.pid)
                             .add("comm", make_valid_utf8(ancestor.comm))
                             .add("cmdline", make_valid_utf8(join_arguments(ancestor.argv)))
                             .add("exited", ancestor.exited)
                             .take());
    }
    return levels;
}
}  // namespace

nlohmann::ordered_json connect_to_json(const ConnectEvent& event) {
    nlohmann::ordered_json argv = nlohmann::ordered_json::array();
    argv.get_ref<nlohmann::ordered_json::array_t&>().reserve(event.argv.size());
    for (const auto& argument : event.argv) argv.push_back(make_valid_utf8(argument));
    const bool ipv4 = event.destination.family == AddressFamily::ipv4;
    const auto endpoint = metadata_endpoint_name(event.destination, event.destination_port);
    FieldList record(37);
    record.add("type", "connect")
        .add("time", format_iso8601_utc(event.wall_time))
        .add("pid", event.pid)
        .add("tid", event.tid)
        .add("ppid", event.ppid)
        .add("uid", event.uid)
        .add("user", make_valid_utf8(event.user))
        .add("gid", event.gid)
        .add("group", make_valid_utf8(event.group))
        .add("comm", make_valid_utf8(event.comm))
        .add("cmdline", make_valid_utf8(command_line(event)))
        .add("argv", std::move(argv))
        .add("argv_truncated", event.argv_truncated)
        .add("family", ipv4 ? "ipv4" : "ipv6")
        .add("saddr", event.source.to_string())
        // 0 is "not chosen yet" (the connect record comes before the kernel picks
        // the port; a call that failed before any SYN never had one): null.
        .add("sport",
             event.source_port != 0 ? nlohmann::ordered_json(event.source_port) : nlohmann::ordered_json(nullptr))
        .add("daddr", event.destination.to_string())
        .add("dport", event.destination_port)
        .add("endpoint", endpoint.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(endpoint))
        .add("cgroup_id", event.cgroup_id)
        .add("netns", event.netns)
        .add("ns_pid", event.ns_pid)
        .add("pidns", event.pidns)
        .add("exe", make_valid_utf8(event.exe))
        .add("cgroup", make_valid_utf8(event.cgroup_path))
        .add("container_id", make_valid_utf8(event.container_id))
        .add("container_runtime", make_valid_utf8(event.container_runtime))
        .add("pod_uid", make_valid_utf8(event.pod_uid))
        .add("qos_class", make_valid_utf8(event.qos_class))
        .add("unit", make_valid_utf8(event.unit))
        .add("ancestry", ancestry_to_json(event.ancestry));
    if (event.outcome) {
        const auto& outcome = *event.outcome;
        record.add("attempt_id", event.attempt_id != 0 ? nlohmann::ordered_json(event.attempt_id) : nullptr)
            .add("result", result_name(outcome.result))
            .add("errno", outcome.error != 0 ? nlohmann::ordered_json(errno_name(outcome.error)) : nullptr)
            .add("latency_us", outcome.latency_ns ? nlohmann::ordered_json(*outcome.latency_ns / 1000)
                                                  : nlohmann::ordered_json(nullptr));
    }
    return record.take();
}

nlohmann::ordered_json http_to_json(const HttpRequestEvent& request) {
    auto record = connect_to_json(request.connection);
    record["type"] = "http";
    record.erase("result");  // the connection's outcome is not a request's
    record.erase("errno");
    record.erase("latency_us");
    const auto imds = classify_imds(request);
    record["http"] = {
        {"method", make_valid_utf8(request.method)},
        {"path", make_valid_utf8(request.path)},
        {"version", make_valid_utf8(request.version)},
        {"headers_present", header_names(request.headers)},
        {"user_agent", (request.headers & kHttpHeaderUserAgent) != 0
                           ? nlohmann::ordered_json(make_valid_utf8(request.user_agent))
                           : nlohmann::ordered_json(nullptr)},
        {"path_truncated", request.path_truncated},
        {"user_agent_truncated", request.user_agent_truncated},
        {"head_incomplete", request.head_incomplete},
        {"writes", request.writes},
    };
    record["imds"] = {
        {"version",
         imds == ImdsVersion::none ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(imds_version_name(imds))},
    };
    return record;
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
    // replace: a last line of defence; every string was made valid UTF-8 above.
    return escape_json_invisibles(record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace connsnoop
