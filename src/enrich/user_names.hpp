// Enrichment: user and group names for IDs, read from /etc/passwd and
// /etc/group directly (util/account_file.hpp says why not NSS).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "util/account_file.hpp"

namespace connsnoop {

// Names for IDs from one account file, read again when an ID is not in it
// (an account added while connsnoop runs); an ID that still has no name is
// remembered as its number, so the file is read once per unknown ID.
class AccountNameCache {
public:
    explicit AccountNameCache(std::string path) : path_(std::move(path)) {}

    // The name for id, or the number as text when it has none.
    const std::string& name_of(std::uint32_t id);

private:
    const std::string& look_up(std::uint32_t id);

    std::string path_;
    std::unordered_map<std::uint32_t, std::string> names_;
    // The last answer: events come in runs of one user (a node's map stays
    // put until the map is cleared, which forgets this too).
    std::uint32_t last_id_ = 0;
    const std::string* last_name_ = nullptr;
};

class UserNameCache : public AccountNameCache {
public:
    explicit UserNameCache(std::string path = kPasswdPath) : AccountNameCache(std::move(path)) {}
};

class GroupNameCache : public AccountNameCache {
public:
    explicit GroupNameCache(std::string path = kGroupPath) : AccountNameCache(std::move(path)) {}
};

}  // namespace connsnoop
