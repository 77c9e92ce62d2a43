#include "collect/http_request_event.hpp"

namespace connsnoop {

std::vector<std::string> header_names(std::uint32_t headers) {
    static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
        {kHttpHeaderHost, "Host"},
        {kHttpHeaderUserAgent, "User-Agent"},
        {kHttpHeaderImdsToken, "X-aws-ec2-metadata-token"},
        {kHttpHeaderImdsTokenTtl, "X-aws-ec2-metadata-token-ttl-seconds"},
    };
    std::vector<std::string> names;
    for (const auto& [bit, name] : kNames) {
        if ((headers & bit) != 0) names.emplace_back(name);
    }
    return names;
}

ImdsVersion classify_imds(const HttpRequestEvent& request) {
    // Every IMDS API path is below /latest/ (EC2 also serves dated versions,
    // e.g. /2021-07-15/, which a caller may pin).
    const std::string_view path = request.path;
    const bool api_path = path.starts_with("/latest/") ||
                          (path.size() > 11 && path[0] == '/' && path[5] == '-' && path[8] == '-' && path[11] == '/');
    if (!api_path) return ImdsVersion::none;
    if (request.method == "PUT") return path.ends_with("/api/token") ? ImdsVersion::v2_token : ImdsVersion::none;
    if (request.method != "GET" && request.method != "HEAD") return ImdsVersion::none;
    return (request.headers & kHttpHeaderImdsToken) != 0 ? ImdsVersion::v2 : ImdsVersion::v1;
}

std::string_view imds_version_name(ImdsVersion version) {
    switch (version) {
        case ImdsVersion::v1:
            return "imdsv1";
        case ImdsVersion::v2:
            return "imdsv2";
        case ImdsVersion::v2_token:
            return "imdsv2-token";
        case ImdsVersion::none:
            break;
    }
    return "";
}

}  // namespace connsnoop
