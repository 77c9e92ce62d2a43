// The cloud metadata and credential endpoints --imds covers, by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/net_address.hpp"

namespace connsnoop {

struct MetadataEndpoint {
    std::string_view address;  // a bare IPv4 or IPv6 address
    std::string_view name;     // what the output calls it
};

inline constexpr std::uint16_t kMetadataPort = 80;
inline constexpr std::array<MetadataEndpoint, 6> kMetadataEndpoints{{
    {"169.254.169.254", "ec2-imds"},  // EC2 IMDS; also GCP, Azure, OpenStack, DigitalOcean
    {"fd00:ec2::254", "ec2-imds"},
    {"169.254.170.2", "ecs-task-credentials"},  // ECS task IAM role credentials
    {"169.254.170.23", "eks-pod-identity"},     // EKS Pod Identity agent
    {"fd00:ec2::23", "eks-pod-identity"},
    {"100.100.100.200", "alibaba-metadata"},  // Alibaba Cloud ECS metadata
}};

// The endpoint at this address and port, or "" when it is none of them.
// Runs for every JSON record: the addresses are parsed once, not per call.
inline std::string_view metadata_endpoint_name(const IpAddress& address, std::uint16_t port) {
    if (port != kMetadataPort) return {};
    static const auto kParsedAddresses = [] {
        std::array<IpAddress, kMetadataEndpoints.size()> addresses{};
        for (std::size_t i = 0; i < kMetadataEndpoints.size(); ++i) {
            addresses[i] = IpAddress::parse(kMetadataEndpoints[i].address).value();
        }
        return addresses;
    }();
    for (std::size_t i = 0; i < kParsedAddresses.size(); ++i) {
        if (kParsedAddresses[i] == address) return kMetadataEndpoints[i].name;
    }
    return {};
}

}  // namespace connsnoop
