#include "enrich/event_enricher.hpp"

#include <algorithm>

#include "collect/token_redaction.hpp"

namespace connsnoop {

std::size_t EventEnricher::ChainHash::operator()(const std::vector<ProcessRef>& chain) const {
    std::size_t seed = chain.size();
    for (const auto& ref : chain) {
        for (const std::uint64_t value : {std::uint64_t{ref.pid}, ref.start_boottime_ns}) {
            seed ^= std::hash<std::uint64_t>{}(value) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
        }
    }
    return seed;
}

Ancestry EventEnricher::ancestry_of(const std::vector<ProcessRef>& known) {
    if (!last_chain_.empty() && known == last_chain_key_) return last_chain_;
    const bool identified = std::all_of(
        known.begin(), known.end(), [](const ProcessRef& ref) { return ref.pid == 0 || ref.start_boottime_ns != 0; });
    if (identified) {
        if (auto found = chains_.find(known); found != chains_.end()) {
            last_chain_key_ = known;
            last_chain_ = found->second;
            return last_chain_;
        }
    }
    bool complete = true;
    auto chain = ancestry_.resolve(known, ancestry_depth_, &complete);
    for (auto& ancestor : chain) redact_imds_tokens(ancestor.argv);
    // A chain cut short by a parent that could not be named is not kept: the
    // exec map may still learn of it.
    if (!identified || !complete) return Ancestry(std::move(chain));
    if (chains_.size() >= kMaxCachedChains) chains_.clear();
    Ancestry shared(std::move(chain));
    chains_.emplace(known, shared);
    // Only a non-empty chain is remembered as the last: empty is "none yet".
    last_chain_key_ = known;
    last_chain_ = shared;
    return shared;
}

const EventEnricher::CgroupInfo* EventEnricher::cgroup_of(std::uint64_t cgroup_id, std::uint32_t pid) {
    if (last_cgroup_ != nullptr && cgroup_id == last_cgroup_id_) return last_cgroup_;
    if (auto found = cgroup_infos_.find(cgroup_id); found != cgroup_infos_.end()) {
        last_cgroup_id_ = cgroup_id;
        last_cgroup_ = &found->second;
        return last_cgroup_;
    }
    // A cgroup not found (removed already, or new and its process gone) is
    // looked for again at most once a second, not for every event of it.
    const auto now = std::chrono::steady_clock::now();
    if (auto unknown = unknown_cgroups_.find(cgroup_id);
        unknown != unknown_cgroups_.end() && now - unknown->second < kUnknownCgroupRetry) {
        return nullptr;
    }
    auto path = cgroups_.path_of(cgroup_id, pid);
    if (!path) {
        if (unknown_cgroups_.size() >= kMaxCachedCgroups) unknown_cgroups_.clear();
        unknown_cgroups_[cgroup_id] = now;
        return nullptr;
    }
    unknown_cgroups_.erase(cgroup_id);
    if (cgroup_infos_.size() >= kMaxCachedCgroups) cgroup_infos_.clear();
    CgroupInfo info{*path, parse_cgroup_path(*path)};
    last_cgroup_id_ = cgroup_id;
    last_cgroup_ = &cgroup_infos_.emplace(cgroup_id, std::move(info)).first->second;
    return last_cgroup_;
}

void EventEnricher::enrich(ConnectEvent& event) {
    event.user = users_.name_of(event.uid);
    event.group = groups_.name_of(event.gid);
    event.exe = executables_.path_of(event);
    if (ancestry_depth_ > 0) {
        // The kernel's chain identifies each level by PID and start time.
        event.ancestry = event.parents.empty() ? ancestry_of({{event.ppid, 0}}) : ancestry_of(event.parents);
    }
    if (const CgroupInfo* cgroup = cgroup_of(event.cgroup_id, event.pid)) {
        event.cgroup_path = cgroup->path;
        event.container_id = cgroup->identity.container_id;
        event.container_runtime = cgroup->identity.container_runtime;
        event.pod_uid = cgroup->identity.pod_uid;
        event.qos_class = cgroup->identity.qos_class;
        event.unit = cgroup->identity.unit;
    }
}

void EventEnricher::identify_process(ConnectEvent& event) {
    const auto chain = ancestry_.resolve({ProcessRef{event.pid, 0}}, 2);
    // Another comm under the PID: a reused PID, not the owner.
    if (chain.empty() || chain.front().comm.substr(0, 15) != event.comm.substr(0, 15)) return;
    if (event.argv.empty()) event.argv = chain.front().argv;
    event.argv_unreadable = event.argv.empty();
    if (chain.size() > 1) {
        event.ppid = chain[1].pid;
        event.parents = {ProcessRef{chain[1].pid, 0}};
    }
}

}  // namespace connsnoop
