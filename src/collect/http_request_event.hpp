// One HTTP request head sent on a watched connection (--http, --imds-v1),
// as the kernel parsed it: structured fields only, never header values other
// than the User-Agent (the IMDSv2 token never leaves the kernel).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collect/connect_event.hpp"

namespace connsnoop {

// Headers whose presence the kernel reports (bits of HttpRequestEvent::headers).
enum HttpHeader : std::uint32_t {
    kHttpHeaderHost = 1U << 0,
    kHttpHeaderUserAgent = 1U << 1,
    kHttpHeaderImdsToken = 1U << 2,     // X-aws-ec2-metadata-token
    kHttpHeaderImdsTokenTtl = 1U << 3,  // X-aws-ec2-metadata-token-ttl-seconds
};

// What an IMDS request is, for finding the callers that still use IMDSv1.
enum class ImdsVersion {
    none,      // not a metadata-service request
    v1,        // a GET (or HEAD) without a session token
    v2,        // a GET (or HEAD) carrying X-aws-ec2-metadata-token
    v2_token,  // PUT /latest/api/token: asking for a session token
};
inline constexpr std::size_t kImdsVersionCount = 4;

struct HttpRequestEvent {
    // The sending process and the connection's endpoints (enriched like any
    // connect event); captured when the head was sent.
    ConnectEvent connection;
    std::string method;
    std::string path;
    std::string version;
    std::string user_agent;     // the value; empty when the header is absent
    std::uint32_t headers = 0;  // HttpHeader bits
    bool path_truncated = false;
    bool user_agent_truncated = false;
    bool head_incomplete = false;  // the end of the head did not arrive within the scan limits
    std::uint32_t writes = 0;      // sends the head arrived in
};

// The headers present, by their canonical names, in a fixed order.
std::vector<std::string> header_names(std::uint32_t headers);

// imdsv2-token / imdsv2 / imdsv1 by the request's shape; none for a request
// that is not part of the metadata API (its path is not under /latest/).
ImdsVersion classify_imds(const HttpRequestEvent& request);
// "imdsv1", "imdsv2", "imdsv2-token"; "" for none.
std::string_view imds_version_name(ImdsVersion version);

}  // namespace connsnoop
