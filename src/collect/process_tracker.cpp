#include "collect/process_tracker.hpp"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "collect/bpf_handles.hpp"
#include "collect/connect_tracer.hpp"
#include "collect/libbpf_support.hpp"
#include "collect/record_decoder.hpp"

extern "C" {
#include "connsnoop_abi.h"
}

namespace connsnoop {

namespace {
// The tracer config with every part of the connect tracer off: the exec
// tracker's program alone.
TracerConfig exec_tracker_only(const TracerConfig& config) {
    TracerConfig only;
    only.verbose = config.verbose;
    only.btf_path = config.btf_path;
    only.trace_connects = false;
    only.ringbuf_bytes = static_cast<std::uint32_t>(::sysconf(_SC_PAGESIZE));  // the smallest: nothing is sent
    return only;
}
}  // namespace

struct ProcessTracker::Handles {
    std::shared_ptr<connsnoop_bpf> skeleton;
    LinkPtr link;
    bool shared = false;  // loaded with the connect tracer's parts, for it to attach
};

std::uint32_t ProcessTracker::programs_attached() const { return handles_->link ? 1 : 0; }

ProcessTracker::ProcessTracker(std::unique_ptr<Handles> handles, TracepointHook hook)
    : handles_(std::move(handles)), hook_(hook) {}

ProcessTracker::~ProcessTracker() = default;

Result<std::unique_ptr<ProcessTracker>> ProcessTracker::start(const TracerConfig& config) {
    auto handles = std::make_unique<Handles>();
    // With the connect tracer's parts, so that the kernel's BTF is read and
    // matched once; if the kernel refuses that object, the exec tracker on
    // its own, so that what it refuses is told apart (the connect tracer
    // then loads its own object and reports its own refusal).
    if (auto both = load_tracer_object(config, true)) {
        handles->skeleton = std::move(both).value();
        handles->shared = true;
    } else {
        auto alone = load_tracer_object(exec_tracker_only(config), true, "the exec tracker");
        if (!alone) return alone.error();
        handles->skeleton = std::move(alone).value();
    }
    const TracepointHook hook = tracepoint_hook(config.hook, config.verbose);
    auto& progs = handles->skeleton->progs;
    handles->link.reset(bpf_program__attach(hook == TracepointHook::tp_btf ? progs.exec_tp_btf : progs.exec_raw_tp));
    if (!handles->link)
        return libbpf_error(std::string("attaching to sched:sched_process_exec (") + hook_name(hook) + ")", errno);
    return std::unique_ptr<ProcessTracker>(new ProcessTracker(std::move(handles), hook));
}

std::shared_ptr<connsnoop_bpf> ProcessTracker::connect_tracer_object() const {
    return handles_->shared ? handles_->skeleton : nullptr;
}

std::optional<ExecRecord> ProcessTracker::lookup(std::uint32_t pid) const {
    cs_exec_entry entry{};
    if (bpf_map_lookup_elem(bpf_map__fd(handles_->skeleton->maps.execs), &pid, &entry) != 0) return std::nullopt;
    auto record = decode_exec_entry(&entry, sizeof(entry));
    if (!record) return std::nullopt;
    return std::move(record).value();
}

Result<ExecRecord> decode_exec_entry(const void* bytes, std::size_t size) {
    cs_exec_entry entry{};
    if (size != sizeof(entry)) return Error{"exec entry of " + std::to_string(size) + " bytes", "", 0};
    std::memcpy(&entry, bytes, sizeof(entry));
    if (entry.argv_len > sizeof(entry.argv))
        return Error{"exec entry claims " + std::to_string(entry.argv_len) + " argv bytes", "", 0};
    ExecRecord record;
    record.start_boottime_ns = entry.start_boottime_ns;
    record.ppid = entry.ppid;
    record.comm.assign(entry.comm, strnlen(entry.comm, sizeof(entry.comm)));
    record.argv = split_argv(std::string_view(entry.argv, entry.argv_len));
    record.argv_truncated = (entry.flags & CS_ARGV_TRUNCATED) != 0;
    return record;
}

}  // namespace connsnoop
