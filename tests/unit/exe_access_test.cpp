#include "enrich/exe_access.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace connsnoop {
namespace {

TEST(ExeAccess, WarnsWithoutCapSysPtraceOnly) {
    constexpr std::uint64_t kBpfAndPerfmon = (1ULL << 39) | (1ULL << 38);
    const auto warning = exe_access_warning(kBpfAndPerfmon);
    ASSERT_TRUE(warning);
    EXPECT_NE(warning->find("CAP_SYS_PTRACE"), std::string::npos);
    EXPECT_FALSE(exe_access_warning(kBpfAndPerfmon | (1ULL << 19)));
    EXPECT_FALSE(exe_access_warning(~0ULL));
}

TEST(ExeAccess, ReadsWhatCapgetReports) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    ASSERT_EQ(syscall(SYS_capget, &header, data), 0);
    const std::uint64_t expected = data[0].effective | (static_cast<std::uint64_t>(data[1].effective) << 32);
    EXPECT_EQ(effective_capabilities(), expected);
}

}  // namespace
}  // namespace connsnoop
