#include "enrich/ancestry.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "collect/process_tracker.hpp"
#include "collect/record_decoder.hpp"

namespace connsnoop {

namespace {
constexpr std::size_t kMaxCachedProcesses = 4096;
constexpr int kMaxDepth = 16;

std::string read_whole(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

std::uint64_t cache_key(std::uint32_t pid, std::uint64_t start_ticks) {
    return (start_ticks << 22) ^ pid;  // PIDs are below 2^22
}
}  // namespace

std::uint64_t boottime_ns_to_ticks(std::uint64_t nanoseconds) {
    static const auto kTicksPerSecond = static_cast<std::uint64_t>(sysconf(_SC_CLK_TCK));
    return nanoseconds / (1'000'000'000ULL / kTicksPerSecond);
}

AncestryResolver::AncestryResolver(const ProcessTracker* tracker, std::string proc_root)
    : tracker_(tracker), proc_root_(std::move(proc_root)) {}

std::optional<AncestryResolver::ProcessInfo> AncestryResolver::read_proc(std::uint32_t pid) const {
    const std::string dir = proc_root_ + "/" + std::to_string(pid);
    const std::string stat = read_whole(dir + "/stat");
    // "PID (comm) STATE PPID ... STARTTIME ...": comm may hold spaces and parentheses.
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    ProcessInfo info;
    fields >> state >> info.ppid;
    std::string skipped;
    for (int field = 5; field < 22 && fields >> skipped; ++field) {
    }
    if (!(fields >> info.start_ticks)) return std::nullopt;
    info.ancestor.pid = pid;
    info.ancestor.comm = stat.substr(open + 1, close - open - 1);
    const std::string cmdline = read_whole(dir + "/cmdline");
    // /proc already applies the kernel's rule for rewritten titles.
    info.ancestor.argv = split_argv(cmdline);
    return info;
}

std::optional<AncestryResolver::ProcessInfo> AncestryResolver::look_up(const ProcessRef& ref) {
    const bool start_known = ref.start_boottime_ns != 0;
    const std::uint64_t wanted_ticks = start_known ? boottime_ns_to_ticks(ref.start_boottime_ns) : 0;
    if (start_known) {
        if (auto found = cache_.find(cache_key(ref.pid, wanted_ticks)); found != cache_.end()) return found->second;
    }
    std::optional<ProcessInfo> info = read_proc(ref.pid);
    if (info && start_known && info->start_ticks != wanted_ticks) info.reset();  // the PID was reused
    if (!info && tracker_ != nullptr) {
        if (auto exec = tracker_->lookup(ref.pid)) {
            const auto exec_ticks = boottime_ns_to_ticks(exec->start_boottime_ns);
            if (!start_known || exec_ticks == wanted_ticks) {
                info = ProcessInfo{exec_ticks, exec->ppid, Ancestor{ref.pid, exec->comm, std::move(exec->argv), true}};
            }
        }
    }
    if (info) {
        if (cache_.size() >= kMaxCachedProcesses) cache_.clear();
        cache_[cache_key(ref.pid, info->start_ticks)] = *info;
    }
    return info;
}

std::vector<Ancestor> AncestryResolver::resolve(const std::vector<ProcessRef>& known, int depth, bool* complete) {
    std::vector<Ancestor> chain;
    if (complete != nullptr) *complete = true;
    if (known.empty()) return chain;
    ProcessRef next = known.front();
    for (int level = 0; level < std::min(depth, kMaxDepth) && next.pid != 0; ++level) {
        auto info = look_up(next);
        if (!info) {
            if (complete != nullptr) *complete = false;
            break;
        }
        chain.push_back(info->ancestor);
        const auto index = static_cast<std::size_t>(level) + 1;
        next = index < known.size() ? known[index] : ProcessRef{info->ppid, 0};
    }
    return chain;
}

}  // namespace connsnoop
