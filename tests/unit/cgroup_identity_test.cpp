#include "enrich/cgroup_identity.hpp"

#include <gtest/gtest.h>

namespace connsnoop {
namespace {

const std::string kId = "3f4e2b8c9d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829304";
const std::string kPod = "7f2c4b1e-9a3d-4c5e-8f6a-0b1c2d3e4f50";
const std::string kPodUnderscores = "7f2c4b1e_9a3d_4c5e_8f6a_0b1c2d3e4f50";

struct PathCase {
    std::string path;
    CgroupIdentity expected;
};

class CgroupPathShapes : public ::testing::TestWithParam<PathCase> {};

TEST_P(CgroupPathShapes, ExtractsContainerPodAndUnit) {
    EXPECT_EQ(parse_cgroup_path(GetParam().path), GetParam().expected) << GetParam().path;
}

INSTANTIATE_TEST_SUITE_P(
    RealWorld, CgroupPathShapes,
    ::testing::Values(
        // docker, cgroupfs driver
        PathCase{"/docker/" + kId, {kId, "docker", "", "", ""}},
        // docker, systemd driver
        PathCase{"/system.slice/docker-" + kId + ".scope", {kId, "docker", "", "", "docker-" + kId + ".scope"}},
        // Kubernetes + containerd, systemd driver, burstable pod
        PathCase{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodUnderscores +
                     ".slice/cri-containerd-" + kId + ".scope",
                 {kId, "containerd", kPod, "burstable", "cri-containerd-" + kId + ".scope"}},
        // Kubernetes + cri-o, systemd driver, best-effort pod
        PathCase{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodUnderscores +
                     ".slice/crio-" + kId + ".scope",
                 {kId, "cri-o", kPod, "besteffort", "crio-" + kId + ".scope"}},
        // Kubernetes, guaranteed pod (no QoS level), systemd driver
        PathCase{"/kubepods.slice/kubepods-pod" + kPodUnderscores + ".slice/cri-containerd-" + kId + ".scope",
                 {kId, "containerd", kPod, "guaranteed", "cri-containerd-" + kId + ".scope"}},
        // Kubernetes, cgroupfs driver
        PathCase{"/kubepods/burstable/pod" + kPod + "/" + kId, {kId, "cri", kPod, "burstable", ""}},
        PathCase{"/kubepods/pod" + kPod + "/" + kId, {kId, "cri", kPod, "guaranteed", ""}},
        // podman, root and rootless
        PathCase{"/machine.slice/libpod-" + kId + ".scope", {kId, "podman", "", "", "libpod-" + kId + ".scope"}},
        PathCase{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope",
                 {kId, "podman", "", "", "libpod-" + kId + ".scope"}},
        // conmon is the monitor, not the container
        PathCase{"/machine.slice/libpod-conmon-" + kId + ".scope", {"", "", "", "", "libpod-conmon-" + kId + ".scope"}},
        // systemd services, sessions and user services
        PathCase{"/system.slice/nginx.service", {"", "", "", "", "nginx.service"}},
        PathCase{"/user.slice/user-1000.slice/session-3.scope", {"", "", "", "", "session-3.scope"}},
        PathCase{"/user.slice/user-1000.slice/user@1000.service/app.slice/backup.service",
                 {"", "", "", "", "backup.service"}},
        // nothing to say
        PathCase{"/", {}}, PathCase{"", {}}, PathCase{"/process_api/aa81ebb6655228d30382c62385b01c9d", {}},
        // near misses: 63 hex digits, upper case, kubepods without a pod
        PathCase{"/docker/" + kId.substr(1), {}}, PathCase{"/docker/" + std::string(64, 'A'), {}},
        PathCase{"/kubepods.slice/kubepods-burstable.slice", {}}),
    [](const ::testing::TestParamInfo<PathCase>& param) { return "shape" + std::to_string(param.index); });

}  // namespace
}  // namespace connsnoop
