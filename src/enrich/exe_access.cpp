#include "enrich/exe_access.hpp"

#include <fstream>

namespace connsnoop {

namespace {
constexpr int kCapSysPtrace = 19;  // CAP_SYS_PTRACE in linux/capability.h
}  // namespace

std::uint64_t effective_capabilities() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
    }
    return 0;
}

std::optional<std::string> exe_access_warning(std::uint64_t effective_capabilities) {
    if ((effective_capabilities >> kCapSysPtrace) & 1U) return std::nullopt;
    return std::string(
        "exe will be empty for processes of other users: reading /proc/PID/exe needs CAP_SYS_PTRACE "
        "(add it to the capabilities connsnoop runs with, e.g. AmbientCapabilities=)");
}

}  // namespace connsnoop
