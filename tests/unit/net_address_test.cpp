#include "util/net_address.hpp"

#include <gtest/gtest.h>

namespace connsnoop {
namespace {

TEST(IpAddress, ParsesAndPrintsBothFamilies) {
    EXPECT_EQ(IpAddress::parse("169.254.169.254")->to_string(), "169.254.169.254");
    EXPECT_EQ(IpAddress::parse("FD00:EC2:0::254")->to_string(), "fd00:ec2::254");
    EXPECT_EQ(IpAddress::parse("fd00:ec2::254")->family, AddressFamily::ipv6);
    EXPECT_FALSE(IpAddress::parse("1.2.3.256"));
    EXPECT_FALSE(IpAddress::parse(""));
}

TEST(Cidr, ContainsRespectsPrefixAndFamily) {
    const auto block = *parse_cidr("169.254.0.0/16");
    EXPECT_TRUE(block.contains(*IpAddress::parse("169.254.169.254")));
    EXPECT_FALSE(block.contains(*IpAddress::parse("169.253.1.1")));
    EXPECT_FALSE(block.contains(*IpAddress::parse("fd00:ec2::254")));
    const auto v6 = *parse_cidr("fd00:ec2::/32");
    EXPECT_TRUE(v6.contains(*IpAddress::parse("fd00:ec2::254")));
    EXPECT_FALSE(v6.contains(*IpAddress::parse("fd00:ec3::254")));
}

TEST(Endpoint, BracketsIpv6) {
    EXPECT_EQ(format_endpoint(*IpAddress::parse("169.254.169.254"), 80), "169.254.169.254:80");
    EXPECT_EQ(format_endpoint(*IpAddress::parse("fd00:ec2::254"), 80), "[fd00:ec2::254]:80");
}

}  // namespace
}  // namespace connsnoop
