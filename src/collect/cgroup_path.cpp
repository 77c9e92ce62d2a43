#include "collect/cgroup_path.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace connsnoop {

namespace {
std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (start < line.size()) {
        const auto end = line.find(' ', start);
        fields.push_back(line.substr(start, end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return fields;
}

bool is_cgroup2_dir(const std::string& path) {
    struct statfs fs {};
    return statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}
}  // namespace

Result<std::string> find_cgroup2_mount(std::string_view mountinfo) {
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
    std::size_t start = 0;
    while (start < mountinfo.size()) {
        const auto end = mountinfo.find('\n', start);
        const auto line = mountinfo.substr(start, end - start);
        const auto fields = split_fields(line);
        for (std::size_t i = 6; i + 1 < fields.size(); ++i) {
            if (fields[i] == "-") {
                if (fields[i + 1] == "cgroup2") return std::string(fields[4]);
                break;
            }
        }
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return Error{"no cgroup v2 file system is mounted", "mount one with: mount -t cgroup2 none /sys/fs/cgroup", 0};
}

namespace {
std::string read_mountinfo() {
    std::ifstream file("/proc/self/mountinfo");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}
}  // namespace

Result<std::string> cgroup2_root() { return find_cgroup2_mount(read_mountinfo()); }

bool has_v1_socket_controllers(std::string_view mountinfo) {
    // "... - cgroup cgroup rw,net_cls,net_prio": type after the separator, then source, then super options
    std::size_t start = 0;
    while (start < mountinfo.size()) {
        auto end = mountinfo.find('\n', start);
        if (end == std::string_view::npos) end = mountinfo.size();
        const auto line = mountinfo.substr(start, end - start);
        start = end + 1;
        const auto separator = line.find(" - cgroup ");
        if (separator == std::string_view::npos) continue;
        const auto options = line.substr(line.rfind(' ') + 1);
        for (std::string_view controller : {"net_cls", "net_prio"}) {
            std::size_t at = 0;
            while ((at = options.find(controller, at)) != std::string_view::npos) {
                const auto after = at + controller.size();
                const bool starts = at == 0 || options[at - 1] == ',';
                const bool ends = after == options.size() || options[after] == ',';
                if (starts && ends) return true;
                at = after;
            }
        }
    }
    return false;
}

Result<std::string> resolve_cgroup_dir(const std::string& user_path) {
    if (!user_path.empty() && user_path.front() == '/' && is_cgroup2_dir(user_path)) return user_path;

    auto mount = find_cgroup2_mount(read_mountinfo());
    if (!mount) return mount.error().with_context("--cgroup " + user_path);

    std::string relative = user_path;
    if (relative.rfind(*mount, 0) == 0) relative.erase(0, mount->size());
    while (!relative.empty() && relative.front() == '/') relative.erase(0, 1);
    std::string candidate = *mount + (relative.empty() ? "" : "/" + relative);
    if (!is_cgroup2_dir(candidate)) {
        return Error{"--cgroup " + user_path + ": not a cgroup v2 directory (looked for " + candidate + ")",
                     "give a path below the cgroup2 mount " + *mount + ", e.g. system.slice/ssh.service", ENOENT};
    }
    return candidate;
}

}  // namespace connsnoop
