#include "enrich/user_names.hpp"

namespace connsnoop {

namespace {
// Bounded, e.g. under many user namespaces whose IDs have no name here.
constexpr std::size_t kMaxNames = 4096;
}  // namespace

const std::string& AccountNameCache::name_of(std::uint32_t id) {
    if (last_name_ != nullptr && id == last_id_) return *last_name_;
    last_id_ = id;
    last_name_ = &look_up(id);
    return *last_name_;
}

const std::string& AccountNameCache::look_up(std::uint32_t id) {
    if (auto found = names_.find(id); found != names_.end()) return found->second;
    if (const auto text = read_account_file(path_)) {
        for (auto& [known_id, name] : parse_account_names(*text)) names_.insert_or_assign(known_id, std::move(name));
        if (auto found = names_.find(id); found != names_.end()) return found->second;
    }
    if (names_.size() >= kMaxNames) names_.clear();
    return names_.emplace(id, std::to_string(id)).first->second;
}

}  // namespace connsnoop
