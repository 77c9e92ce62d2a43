// Enrichment layer: adds what the kernel record does not carry (names for
// numbers, the workload behind the cgroup, the executable) before events
// reach aggregation and output. Everything it reads from /proc or looks up by
// name is cached with a bound, keyed by what identifies it exactly (a process
// by PID and start time, a cgroup by its ID), so a process that connects again
// and again costs no system call after its first event.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "collect/connect_event.hpp"
#include "enrich/ancestry.hpp"
#include "enrich/cgroup_identity.hpp"
#include "enrich/cgroup_paths.hpp"
#include "enrich/executable_paths.hpp"
#include "enrich/user_names.hpp"

namespace connsnoop {

class EventEnricher {
public:
    // `tracker` (may be null) names ancestors that already exited;
    // `ancestry_depth` 0 turns ancestry off.
    explicit EventEnricher(const ProcessTracker* tracker = nullptr, int ancestry_depth = 0)
        : ancestry_(tracker), ancestry_depth_(ancestry_depth) {}
    void enrich(ConnectEvent& event);
    // For a record that carries only a PID and comm (the link-local
    // counters): the command line and the parent, from /proc while the
    // process runs, from the exec tracker once it exited. Call before enrich().
    void identify_process(ConnectEvent& event);

    // Bounds of the caches below: past it a cache starts over.
    static constexpr std::size_t kMaxCachedChains = 4096;
    static constexpr std::size_t kMaxCachedCgroups = 4096;
    static constexpr auto kUnknownCgroupRetry = std::chrono::seconds(1);

private:
    struct CgroupInfo {
        std::string path;
        CgroupIdentity identity;
    };
    struct ChainHash {
        std::size_t operator()(const std::vector<ProcessRef>& chain) const;
    };

    Ancestry ancestry_of(const std::vector<ProcessRef>& known);
    const CgroupInfo* cgroup_of(std::uint64_t cgroup_id, std::uint32_t pid);

    AncestryResolver ancestry_;
    int ancestry_depth_;
    UserNameCache users_;
    GroupNameCache groups_;
    CgroupPathCache cgroups_;
    ExecutablePathCache executables_;
    // Rendered (and redacted) ancestries by the chain the kernel captured, when
    // every level of it is identified by its start time; shared with the events.
    std::unordered_map<std::vector<ProcessRef>, Ancestry, ChainHash> chains_;
    // The last chain found there: a storm from one process (or from siblings)
    // asks for the same chain again and again.
    std::vector<ProcessRef> last_chain_key_;
    Ancestry last_chain_;
    std::unordered_map<std::uint64_t, CgroupInfo> cgroup_infos_;
    // The last cgroup found there (an element of the map: set again whenever
    // the map is cleared, which only happens right before a new one is stored).
    std::uint64_t last_cgroup_id_ = 0;
    const CgroupInfo* last_cgroup_ = nullptr;
    std::unordered_map<std::uint64_t, std::chrono::steady_clock::time_point> unknown_cgroups_;  // last looked for
};

}  // namespace connsnoop
