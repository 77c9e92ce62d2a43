// Enrichment: user and group names for IDs, looked up once per ID.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace connsnoop {

class UserNameCache {
public:
    // The account name for uid, or the number as text when it has none.
    const std::string& name_of(std::uint32_t uid);

private:
    std::unordered_map<std::uint32_t, std::string> names_;
};

class GroupNameCache {
public:
    // The group name for gid, or the number as text when it has none.
    const std::string& name_of(std::uint32_t gid);

private:
    std::unordered_map<std::uint32_t, std::string> names_;
};

}  // namespace connsnoop
