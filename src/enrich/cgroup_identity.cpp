#include "enrich/cgroup_identity.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace connsnoop {

namespace {

constexpr std::size_t kContainerIdLength = 64;

std::vector<std::string_view> path_components(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        if (end > start) parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

bool is_hex_id(std::string_view text) {
    return text.size() == kContainerIdLength && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

bool remove_suffix(std::string_view& text, std::string_view suffix) {
    if (!text.ends_with(suffix)) return false;
    text.remove_suffix(suffix.size());
    return true;
}

struct RuntimePrefix {
    std::string_view prefix;
    std::string_view runtime;
};

// systemd-driver scope names: <prefix><id>.scope. Conmon scopes (the
// monitor process, not the container) are deliberately not listed.
constexpr std::array<RuntimePrefix, 4> kScopePrefixes = {{
    {"docker-", "docker"},
    {"cri-containerd-", "containerd"},
    {"crio-", "cri-o"},
    {"libpod-", "podman"},
}};

// A container ID in one path component, and the runtime its shape names.
bool match_container(std::string_view component, std::string_view parent, CgroupIdentity& identity) {
    std::string_view name = component;
    if (remove_suffix(name, ".scope")) {
        for (const auto& [prefix, runtime] : kScopePrefixes) {
            if (name.starts_with(prefix) && is_hex_id(name.substr(prefix.size()))) {
                identity.container_id = name.substr(prefix.size());
                identity.container_runtime = runtime;
                return true;
            }
        }
        return false;
    }
    if (!is_hex_id(name)) return false;
    // cgroupfs driver: /docker/<id>, /libpod_parent/libpod-<id> handled above,
    // kubelet cgroupfs: /kubepods/<qos>/pod<uid>/<id> (runtime not in the path).
    identity.container_id = name;
    if (parent == "docker") identity.container_runtime = "docker";
    return true;
}

// "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid_with_underscores>.slice" (systemd).
bool match_pod(std::string_view component, CgroupIdentity& identity) {
    std::string_view name = component;
    const bool systemd_driver = remove_suffix(name, ".slice");
    const auto at = name.rfind("pod");
    if (at == std::string_view::npos) return false;
    if (systemd_driver ? !name.starts_with("kubepods") : at != 0) return false;
    std::string uid(name.substr(at + 3));
    std::replace(uid.begin(), uid.end(), '_', '-');
    if (uid.size() != 36) return false;
    identity.pod_uid = std::move(uid);
    return true;
}

void match_qos(std::string_view component, CgroupIdentity& identity) {
    std::string_view name = component;
    remove_suffix(name, ".slice");
    if (name == "kubepods") {
        if (identity.qos_class.empty()) identity.qos_class = "guaranteed";
    } else if (name == "burstable" || name == "kubepods-burstable") {
        identity.qos_class = "burstable";
    } else if (name == "besteffort" || name == "kubepods-besteffort") {
        identity.qos_class = "besteffort";
    }
}

}  // namespace

CgroupIdentity parse_cgroup_path(std::string_view path) {
    CgroupIdentity identity;
    const auto parts = path_components(path);
    std::string_view parent;
    for (const auto component : parts) {
        match_qos(component, identity);
        if (identity.pod_uid.empty()) match_pod(component, identity);
        if (identity.container_id.empty()) match_container(component, parent, identity);
        if (component.ends_with(".service") || component.ends_with(".scope")) identity.unit = component;
        parent = component;
    }
    if (identity.pod_uid.empty()) identity.qos_class.clear();  // "kubepods" alone names no pod
    if (!identity.pod_uid.empty() && identity.container_runtime.empty() && !identity.container_id.empty()) {
        identity.container_runtime = "cri";  // kubelet's cgroupfs driver does not say which runtime
    }
    return identity;
}

}  // namespace connsnoop
