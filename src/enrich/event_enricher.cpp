#include "enrich/event_enricher.hpp"

#include <unistd.h>

#include <array>

#include "collect/token_redaction.hpp"
#include "enrich/cgroup_identity.hpp"

namespace connsnoop {

namespace {
// Best effort: a process that exited right after connecting has no /proc entry.
std::string executable_of(std::uint32_t pid) {
    const std::string link = "/proc/" + std::to_string(pid) + "/exe";
    std::array<char, 4096> target{};
    const ssize_t length = ::readlink(link.c_str(), target.data(), target.size() - 1);
    return length > 0 ? std::string(target.data(), static_cast<std::size_t>(length)) : std::string();
}
}  // namespace

void EventEnricher::enrich(ConnectEvent& event) {
    event.user = users_.name_of(event.uid);
    event.group = groups_.name_of(event.gid);
    event.exe = executable_of(event.pid);
    if (ancestry_depth_ > 0) {
        // The kernel's chain identifies each level by PID and start time.
        const auto known = event.parents.empty() ? std::vector<ProcessRef>{{event.ppid, 0}} : event.parents;
        event.ancestry = ancestry_.resolve(known, ancestry_depth_);
    }
    for (auto& ancestor : event.ancestry) redact_imds_tokens(ancestor.argv);
    if (auto path = cgroups_.path_of(event.cgroup_id, event.pid)) {
        event.cgroup_path = std::move(*path);
        auto identity = parse_cgroup_path(event.cgroup_path);
        event.container_id = std::move(identity.container_id);
        event.container_runtime = std::move(identity.container_runtime);
        event.pod_uid = std::move(identity.pod_uid);
        event.qos_class = std::move(identity.qos_class);
        event.unit = std::move(identity.unit);
    }
}

}  // namespace connsnoop
