// Enrichment layer: adds what the kernel record does not carry (names for
// numbers, the workload behind the cgroup, the executable) before events
// reach aggregation and output.
#pragma once

#include "collect/connect_event.hpp"
#include "enrich/ancestry.hpp"
#include "enrich/cgroup_paths.hpp"
#include "enrich/user_names.hpp"

namespace connsnoop {

class EventEnricher {
public:
    // `tracker` (may be null) names ancestors that already exited;
    // `ancestry_depth` 0 turns ancestry off.
    explicit EventEnricher(const ProcessTracker* tracker = nullptr, int ancestry_depth = 0)
        : ancestry_(tracker), ancestry_depth_(ancestry_depth) {}
    void enrich(ConnectEvent& event);

private:
    AncestryResolver ancestry_;
    int ancestry_depth_;
    UserNameCache users_;
    GroupNameCache groups_;
    CgroupPathCache cgroups_;
};

}  // namespace connsnoop
