#include "collect/cgroup_path.hpp"

#include <gtest/gtest.h>

namespace connsnoop {
namespace {

TEST(FindCgroup2Mount, HybridLayout) {
    const char* mountinfo =
        "25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
        "33 25 0:28 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
        "34 33 0:29 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
        "35 33 0:30 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n";
    EXPECT_EQ(*find_cgroup2_mount(mountinfo), "/sys/fs/cgroup/unified");
}

TEST(FindCgroup2Mount, UnifiedLayoutWithoutOptionalFields) {
    EXPECT_EQ(*find_cgroup2_mount("30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"), "/sys/fs/cgroup");
}

TEST(FindCgroup2Mount, NoneMounted) {
    const auto result = find_cgroup2_mount("35 33 0:30 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw\n");
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().hint.find("mount -t cgroup2"), std::string::npos);
}

TEST(V1SocketControllers, SeenOnlyWhenNetClsOrNetPrioIsMounted) {
    const std::string hybrid =
        "34 33 0:29 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
        "36 33 0:31 / /sys/fs/cgroup/cpu rw shared:12 - cgroup cgroup rw,cpu\n";
    EXPECT_FALSE(has_v1_socket_controllers(hybrid));
    EXPECT_TRUE(has_v1_socket_controllers(
        hybrid + "37 33 0:32 / /sys/fs/cgroup/net_cls,net_prio rw shared:13 - cgroup cgroup rw,net_cls,net_prio\n"));
    EXPECT_TRUE(has_v1_socket_controllers("38 33 0:33 / /sys/fs/cgroup/net_prio rw - cgroup cgroup rw,net_prio\n"));
    // a name that only contains the controller's is not it
    EXPECT_FALSE(has_v1_socket_controllers("39 33 0:34 / /x rw - cgroup cgroup rw,name=net_cls_like\n"));
}

TEST(ResolveCgroupDir, NamesWhatItLookedFor) {
    const auto result = resolve_cgroup_dir("no/such/cgroup-connsnoop");
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("--cgroup no/such/cgroup-connsnoop"), std::string::npos);
}

}  // namespace
}  // namespace connsnoop
