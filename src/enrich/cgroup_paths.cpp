#include "enrich/cgroup_paths.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "collect/cgroup_path.hpp"

namespace connsnoop {

namespace {
constexpr auto kMinRescanInterval = std::chrono::seconds(1);
constexpr std::size_t kMaxCachedPaths = 65536;
}  // namespace

CgroupPathCache::CgroupPathCache(std::string mount) : mount_(std::move(mount)) {
    if (mount_.empty()) {
        std::ifstream file("/proc/self/mountinfo");
        std::stringstream text;
        text << file.rdbuf();
        if (auto found = find_cgroup2_mount(text.str())) mount_ = *found;
    }
}

namespace {
// Records `dir` and everything below it. A cgroup that vanishes during the
// walk is skipped, not an error: cgroups come and go all the time.
void walk(const std::filesystem::path& dir, const std::string& relative,
          std::unordered_map<std::uint64_t, std::string>& paths) {
    struct stat info {};
    if (::stat(dir.c_str(), &info) != 0) return;
    paths[info.st_ino] = relative.empty() ? "/" : relative;
    std::error_code error;
    for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
        std::error_code type_error;
        if (it->is_directory(type_error) && !type_error) {
            walk(it->path(), relative + "/" + it->path().filename().string(), paths);
        }
    }
}
}  // namespace

void CgroupPathCache::rescan() {
    last_scan_ = std::chrono::steady_clock::now();
    scanned_ = true;
    if (mount_.empty()) return;
    paths_.clear();
    walk(mount_, "", paths_);
}

std::optional<std::string> CgroupPathCache::from_proc(std::uint64_t cgroup_id, std::uint32_t pid) const {
    std::ifstream file("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(file, line);) {
        if (!line.starts_with("0::")) continue;  // the cgroup v2 line
        std::string path = line.substr(3);
        struct stat info {};
        // The process may have moved since the event: only an inode match counts.
        if (::stat((mount_ + path).c_str(), &info) == 0 && info.st_ino == cgroup_id) return path;
    }
    return std::nullopt;
}

std::optional<std::string> CgroupPathCache::path_of(std::uint64_t cgroup_id, std::uint32_t pid) {
    if (auto found = paths_.find(cgroup_id); found != paths_.end()) return found->second;
    if (pid != 0 && !mount_.empty()) {
        if (auto path = from_proc(cgroup_id, pid)) {
            if (paths_.size() >= kMaxCachedPaths) paths_.clear();  // bounded under cgroup churn
            paths_[cgroup_id] = *path;
            return path;
        }
    }
    if (!scanned_ || std::chrono::steady_clock::now() - last_scan_ >= kMinRescanInterval) {
        rescan();
        if (auto found = paths_.find(cgroup_id); found != paths_.end()) return found->second;
    }
    return std::nullopt;
}

}  // namespace connsnoop
