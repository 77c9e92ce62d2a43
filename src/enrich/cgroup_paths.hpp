// Enrichment: cgroup v2 IDs (captured in the kernel) back to their paths.
// A cgroup's ID is the inode number of its directory, so a walk of the
// cgroup2 mount finds it; the walk is cached and repeated at most once a
// second, so a storm of unknown IDs cannot turn into a storm of walks.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace connsnoop {

class CgroupPathCache {
public:
    // `mount`: the cgroup2 mount point; empty to find it in /proc/self/mountinfo.
    explicit CgroupPathCache(std::string mount = {});

    // The path below the mount ("/system.slice/nginx.service", "/" for the
    // root), or nullopt when no such cgroup exists (any more). `pid`, when
    // given, lets a cgroup created since the last walk be found at once
    // through /proc/PID/cgroup.
    std::optional<std::string> path_of(std::uint64_t cgroup_id, std::uint32_t pid = 0);

private:
    void rescan();
    std::optional<std::string> from_proc(std::uint64_t cgroup_id, std::uint32_t pid) const;

    std::string mount_;
    std::unordered_map<std::uint64_t, std::string> paths_;
    std::chrono::steady_clock::time_point last_scan_{};
    bool scanned_ = false;
};

}  // namespace connsnoop
