// Collection: the process tracker's exec map, read on demand. Every exec on
// the host leaves the new program's argv, parent and start time there, so a
// parent that has exited can still be named. Its program is part of the
// connect tracer's BPF object (bpf/lib/exec_tracker.bpf.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/libbpf_support.hpp"
#include "collect/trace_config.hpp"
#include "util/result.hpp"

struct connsnoop_bpf;  // the skeleton (connsnoop.skel.h)

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
    // Loads the BPF object with the parts `config` asks for (the connect
    // tracer's config, whose -v and --btf it follows too) and attaches the
    // exec hook only: the connect tracer attaches the rest later
    // (connect_tracer_object), and the parents of its first events are known.
    static Result<std::unique_ptr<ProcessTracker>> start(const TracerConfig& config);
    ProcessTracker(const ProcessTracker&) = delete;
    ProcessTracker& operator=(const ProcessTracker&) = delete;
    ~ProcessTracker();

    // The last exec recorded for this PID, if the LRU map still has it.
    [[nodiscard]] std::optional<ExecRecord> lookup(std::uint32_t pid) const;
    [[nodiscard]] TracepointHook hook() const { return hook_; }
    // BPF programs attached now: 1 (the exec hook) while it runs.
    [[nodiscard]] std::uint32_t programs_attached() const;
    // The object loaded for the connect tracer's config, for
    // ConnectTracer::start; null when the kernel refused it and the exec
    // tracker runs alone.
    [[nodiscard]] std::shared_ptr<connsnoop_bpf> connect_tracer_object() const;

private:
    struct Handles;
    ProcessTracker(std::unique_ptr<Handles> handles, TracepointHook hook);

    std::unique_ptr<Handles> handles_;
    TracepointHook hook_;
};

// Pure: the map value as bytes -> ExecRecord (unit-tested).
Result<ExecRecord> decode_exec_entry(const void* bytes, std::size_t size);

}  // namespace connsnoop
