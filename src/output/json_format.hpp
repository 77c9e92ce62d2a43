// Pure formatting of JSON Lines records; the schema is documented in README.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "output/event_writer.hpp"
#include "output/output_options.hpp"

namespace connsnoop {

// One record per event, written straight into `out` (appended, no newline) in
// one pass: every string made valid UTF-8 and escaped as it is copied, no
// document built. These run once per event; `out` is meant to be reused.
void append_connect_json(std::string& out, const ConnectEvent& event, AncestorDetail ancestors = AncestorDetail::full);
// "type":"http": the process and connection fields of a connect record
// (without its outcome), then "http" (method, path, version, headers_present,
// user_agent, ...) and "imds" (version). No header value but the User-Agent is
// ever in it.
void append_http_json(std::string& out, const HttpRequestEvent& request,
                      AncestorDetail ancestors = AncestorDetail::full);

// "type":"dns": the process and datagram fields of a connect record ("proto":
// "udp"), then "dns" (id, qname escaped as in zone files, qtype, qclass, ...).
void append_dns_json(std::string& out, const DnsQueryEvent& query, AncestorDetail ancestors = AncestorDetail::full);
std::string dns_json_line(const DnsQueryEvent& query, AncestorDetail ancestors = AncestorDetail::full);
nlohmann::ordered_json dns_to_json(const DnsQueryEvent& query);

std::string connect_json_line(const ConnectEvent& event, AncestorDetail ancestors = AncestorDetail::full);
std::string http_json_line(const HttpRequestEvent& request, AncestorDetail ancestors = AncestorDetail::full);

// The same records as documents, for callers that look fields up (tests).
nlohmann::ordered_json connect_to_json(const ConnectEvent& event, AncestorDetail ancestors = AncestorDetail::full);
nlohmann::ordered_json http_to_json(const HttpRequestEvent& request, AncestorDetail ancestors = AncestorDetail::full);

// Rare records (at most one a second, and one at the end), built as documents.
nlohmann::ordered_json lost_to_json(const LossReport& report);
// Lines --output could not take (disk full), said once writing works again.
nlohmann::ordered_json lost_output_to_json(std::chrono::system_clock::time_point time, std::uint64_t newly_lost,
                                           std::uint64_t total_lost, int error);
nlohmann::ordered_json summary_to_json(const RunSummary& summary);

// One line of JSON for a document; never throws on odd bytes (every string in
// it must be valid UTF-8 or is replaced).
std::string to_json_line(const nlohmann::ordered_json& record);

}  // namespace connsnoop
