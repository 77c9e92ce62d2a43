// Enrichment: who started the connecting process — its parent, grandparent,
// ... each with its command line. Live processes are read from /proc; those
// that already exited from the process tracker's exec map. Every level is
// identified by (PID, start time), so a reused PID never lends its name to
// another process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "collect/connect_event.hpp"

namespace connsnoop {

class ProcessTracker;

using Ancestor = AncestorProcess;

class AncestryResolver {
public:
    // `tracker` may be null (no exec map); `proc_root` is /proc but for tests.
    explicit AncestryResolver(const ProcessTracker* tracker, std::string proc_root = "/proc");

    // Ancestors nearest first, at most `depth`. `known` holds the levels the
    // kernel captured at connect time (nearest first); beyond them the chain
    // follows parent links. Stops at PID 1's parent, or where nothing is known;
    // `complete`, when given, is set false in that last case.
    std::vector<Ancestor> resolve(const std::vector<ProcessRef>& known, int depth, bool* complete = nullptr);

private:
    struct ProcessInfo {
        std::uint64_t start_ticks = 0;
        std::uint32_t ppid = 0;
        Ancestor ancestor;
    };
    std::optional<ProcessInfo> look_up(const ProcessRef& ref);
    std::optional<ProcessInfo> read_proc(std::uint32_t pid) const;

    const ProcessTracker* tracker_;
    std::string proc_root_;
    std::unordered_map<std::uint64_t, ProcessInfo> cache_;  // key: pid and start ticks
};

// Clock ticks (USER_HZ) since boot, as /proc/PID/stat's starttime counts.
std::uint64_t boottime_ns_to_ticks(std::uint64_t nanoseconds);

}  // namespace connsnoop
