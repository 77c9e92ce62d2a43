// Collection: the process tracker's exec map, read on demand. Every exec on
// the host leaves the new program's argv, parent and start time there, so a
// parent that has exited can still be named.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/libbpf_support.hpp"
#include "util/result.hpp"

namespace connsnoop {

struct ExecRecord {
    std::uint64_t start_boottime_ns = 0;  // the process's start, as /proc/PID/stat's starttime counts it
    std::uint32_t ppid = 0;               // parent at exec time
    std::string comm;
    std::vector<std::string> argv;
    bool argv_truncated = false;
};

class ProcessTracker {
public:
    // `btf_path`: --btf, for kernels without /sys/kernel/btf/vmlinux.
    static Result<std::unique_ptr<ProcessTracker>> start(bool verbose, const std::string& btf_path = {});
    ProcessTracker(const ProcessTracker&) = delete;
    ProcessTracker& operator=(const ProcessTracker&) = delete;
    ~ProcessTracker();

    // The last exec recorded for this PID, if the LRU map still has it.
    [[nodiscard]] std::optional<ExecRecord> lookup(std::uint32_t pid) const;
    [[nodiscard]] TracepointHook hook() const { return hook_; }
    // BPF programs attached now: 1 (the exec hook) while it runs.
    [[nodiscard]] std::uint32_t programs_attached() const;

private:
    struct Handles;
    ProcessTracker(std::unique_ptr<Handles> handles, TracepointHook hook);

    std::unique_ptr<Handles> handles_;
    TracepointHook hook_;
};

// Pure: the map value as bytes -> ExecRecord (unit-tested).
Result<ExecRecord> decode_exec_entry(const void* bytes, std::size_t size);

}  // namespace connsnoop
