// Enrichment layer: adds what the kernel record does not carry (names for
// numbers, the workload behind the cgroup, the executable) before events
// reach aggregation and output.
#pragma once

#include "collect/connect_event.hpp"
#include "enrich/cgroup_paths.hpp"
#include "enrich/user_names.hpp"

namespace connsnoop {

class EventEnricher {
public:
    void enrich(ConnectEvent& event);

private:
    UserNameCache users_;
    GroupNameCache groups_;
    CgroupPathCache cgroups_;
};

}  // namespace connsnoop
