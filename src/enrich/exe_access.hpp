// `exe` comes from /proc/PID/exe, which the kernel lets a process read for
// another user's process only with CAP_SYS_PTRACE: without it, say so once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace connsnoop {

// CapEff of this process, from /proc/self/status (0 when unreadable).
std::uint64_t effective_capabilities();

// The warning to print when `exe` will be empty for other users' processes.
std::optional<std::string> exe_access_warning(std::uint64_t effective_capabilities);

}  // namespace connsnoop
