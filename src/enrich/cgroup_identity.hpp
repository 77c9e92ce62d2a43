// Enrichment: what a cgroup v2 path says about the workload behind a process —
// its container, Kubernetes pod and systemd unit.
#pragma once

#include <string>
#include <string_view>

namespace connsnoop {

struct CgroupIdentity {
    std::string container_id;       // full 64-hex ID; empty outside containers
    std::string container_runtime;  // docker, containerd, cri-o, podman
    std::string pod_uid;            // Kubernetes pod UID with dashes, e.g. 7f2c...-...
    std::string qos_class;          // guaranteed, burstable or besteffort (Kubernetes pods only)
    std::string unit;               // innermost systemd unit: nginx.service, session-3.scope, docker-<id>.scope

    bool operator==(const CgroupIdentity&) const = default;
};

// Understands the path shapes of docker (cgroupfs and systemd drivers),
// containerd/CRI, cri-o, podman (root and rootless), kubelet (both drivers)
// and plain systemd services, sessions and user services.
CgroupIdentity parse_cgroup_path(std::string_view path);

}  // namespace connsnoop
