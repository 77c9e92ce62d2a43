#include "enrich/user_names.hpp"

#include <pwd.h>

#include <vector>

namespace connsnoop {

const std::string& UserNameCache::name_of(std::uint32_t uid) {
    if (auto found = names_.find(uid); found != names_.end()) return found->second;
    passwd entry{};
    passwd* result = nullptr;
    std::vector<char> buffer(4096);
    std::string name = std::to_string(uid);
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result) == 0 && result != nullptr) name = entry.pw_name;
    return names_.emplace(uid, std::move(name)).first->second;
}

}  // namespace connsnoop
