#include "enrich/user_names.hpp"

#include <grp.h>
#include <pwd.h>

#include <vector>

namespace connsnoop {

namespace {
constexpr std::size_t kMaxNames = 4096;

// getpwuid_r and getgrgid_r share a shape; the buffer grows for large groups.
template <typename Entry, typename Lookup, typename NameOf>
std::string lookup_name(std::uint32_t id, Lookup lookup, NameOf name_of) {
    Entry entry{};
    Entry* result = nullptr;
    for (std::size_t size = 4096; size <= (1U << 20); size *= 4) {
        std::vector<char> buffer(size);
        const int err = lookup(id, &entry, buffer.data(), buffer.size(), &result);
        if (err == ERANGE) continue;
        if (err == 0 && result != nullptr) return name_of(entry);
        break;
    }
    return std::to_string(id);
}
}  // namespace

const std::string& UserNameCache::name_of(std::uint32_t uid) {
    if (auto found = names_.find(uid); found != names_.end()) return found->second;
    auto name = lookup_name<passwd>(uid, getpwuid_r, [](const passwd& entry) { return std::string(entry.pw_name); });
    if (names_.size() >= kMaxNames) names_.clear();  // bounded, e.g. under many user namespaces
    return names_.emplace(uid, std::move(name)).first->second;
}

const std::string& GroupNameCache::name_of(std::uint32_t gid) {
    if (auto found = names_.find(gid); found != names_.end()) return found->second;
    auto name = lookup_name<group>(gid, getgrgid_r, [](const group& entry) { return std::string(entry.gr_name); });
    if (names_.size() >= kMaxNames) names_.clear();
    return names_.emplace(gid, std::move(name)).first->second;
}

}  // namespace connsnoop
