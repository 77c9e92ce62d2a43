#include "enrich/cgroup_paths.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace connsnoop {
namespace {

namespace fs = std::filesystem;

// A directory tree stands in for the cgroup2 mount: IDs are inode numbers either way.
class CgroupPathCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("connsnoop-cgroups-" + std::to_string(::getpid()));
        fs::create_directories(root_ / "system.slice" / "nginx.service");
    }
    void TearDown() override { fs::remove_all(root_); }
    static std::uint64_t inode_of(const fs::path& path) {
        struct stat info {};
        EXPECT_EQ(::stat(path.c_str(), &info), 0);
        return info.st_ino;
    }
    fs::path root_;
};

TEST_F(CgroupPathCacheTest, FindsPathsByInode) {
    CgroupPathCache cache(root_.string());
    EXPECT_EQ(cache.path_of(inode_of(root_)), "/");
    EXPECT_EQ(cache.path_of(inode_of(root_ / "system.slice" / "nginx.service")), "/system.slice/nginx.service");
}

TEST_F(CgroupPathCacheTest, UnknownIdsRescanAtMostOnceASecond) {
    CgroupPathCache cache(root_.string());
    EXPECT_EQ(cache.path_of(inode_of(root_)), "/");
    fs::create_directories(root_ / "late.scope");
    const auto late = inode_of(root_ / "late.scope");
    // The first lookup just scanned; a new cgroup shows up after the rescan interval.
    EXPECT_EQ(cache.path_of(late), std::nullopt);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_EQ(cache.path_of(late), "/late.scope");
}

TEST(CgroupPathCacheHost, TheRootCgroupOfThisHost) {
    CgroupPathCache cache;
    // cgroup v2's root has ID 1 on every kernel that has cgroup v2 mounted.
    EXPECT_EQ(cache.path_of(1), "/");
}

}  // namespace
}  // namespace connsnoop
