// Pure formatting of JSON Lines records; the schema is documented in README.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "collect/connect_event.hpp"
#include "output/event_writer.hpp"

namespace connsnoop {

nlohmann::ordered_json connect_to_json(const ConnectEvent& event);
// "type":"http": the process and connection fields of connect_to_json, then
// "http" (method, path, version, headers_present, user_agent, ...) and
// "imds" (version). No header value but the User-Agent is ever in it.
nlohmann::ordered_json http_to_json(const HttpRequestEvent& request);
nlohmann::ordered_json lost_to_json(const LossReport& report);
// Lines --output could not take (disk full), said once writing works again.
nlohmann::ordered_json lost_output_to_json(std::chrono::system_clock::time_point time, std::uint64_t newly_lost,
                                           std::uint64_t total_lost, int error);
nlohmann::ordered_json summary_to_json(const RunSummary& summary);

// One line of JSON; never throws on odd bytes (inputs are made valid UTF-8).
std::string to_json_line(const nlohmann::ordered_json& record);

}  // namespace connsnoop
