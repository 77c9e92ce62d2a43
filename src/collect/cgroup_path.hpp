// Locating cgroup v2 directories: the mount point differs between hosts
// (/sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones).
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace connsnoop {

// Mount point of the first cgroup2 file system in /proc/self/mountinfo text.
Result<std::string> find_cgroup2_mount(std::string_view mountinfo);

// The cgroup2 mount of this host (from /proc/self/mountinfo): where the
// cgroup hooks attach to see every process.
Result<std::string> cgroup2_root();

// True when mountinfo text shows a cgroup v1 hierarchy with net_cls or
// net_prio: before 5.15, once one is used, the kernel stops tying sockets to
// their cgroup v2 (cgroup_sk_alloc_disable), and cgroup BPF hooks no longer
// see them (5.15 keeps both).
bool has_v1_socket_controllers(std::string_view mountinfo);

// Turns --cgroup's argument into an existing cgroup v2 directory: an absolute
// path on a cgroup2 file system, or a path relative to the cgroup2 mount.
Result<std::string> resolve_cgroup_dir(const std::string& user_path);

}  // namespace connsnoop
