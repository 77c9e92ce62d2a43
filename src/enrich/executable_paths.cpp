#include "enrich/executable_paths.hpp"

#include <unistd.h>

#include <array>
#include <string_view>

namespace connsnoop {

namespace {

std::uint64_t mix(std::uint64_t seed, std::uint64_t value) {
    return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

std::uint64_t program_fingerprint(const ConnectEvent& event) {
    const std::hash<std::string_view> hash;
    std::uint64_t fingerprint = hash(event.comm);
    for (const auto& argument : event.argv) fingerprint = mix(fingerprint, hash(argument));
    return mix(fingerprint, event.argv.size());
}

}  // namespace

std::size_t ExecutablePathCache::KeyHash::operator()(const Key& key) const {
    return mix(mix(key.pid, key.start_boottime_ns), key.program_fingerprint);
}

ExecutablePathCache::ExecutablePathCache(std::string proc_root) : proc_root_(std::move(proc_root)) {}

// Best effort: a process that exited right after connecting has no /proc entry.
std::string ExecutablePathCache::read_link(std::uint32_t pid) const {
    const std::string link = proc_root_ + "/" + std::to_string(pid) + "/exe";
    std::array<char, 4096> target{};
    const ssize_t length = ::readlink(link.c_str(), target.data(), target.size() - 1);
    return length > 0 ? std::string(target.data(), static_cast<std::size_t>(length)) : std::string();
}

const std::string& ExecutablePathCache::path_of(const ConnectEvent& event) {
    if (event.start_boottime_ns == 0) {
        uncached_ = read_link(event.pid);
        return uncached_;
    }
    const Key key{event.pid, event.start_boottime_ns, program_fingerprint(event)};
    if (auto found = paths_.find(key); found != paths_.end()) return found->second;
    if (paths_.size() >= kMaxEntries) paths_.clear();  // bounded under process churn
    // A process already gone reads as empty, and stays so: it cannot come back.
    return paths_.emplace(key, read_link(event.pid)).first->second;
}

}  // namespace connsnoop
