#include "collect/process_tracker.hpp"

#include <bpf/bpf.h>

#include <cstring>
#include <string_view>

#include "collect/libbpf_support.hpp"
#include "collect/record_decoder.hpp"
#include "process_tracker.skel.h"

extern "C" {
#include "connsnoop_abi.h"
}

namespace connsnoop {

namespace {
struct SkeletonDeleter {
    void operator()(process_tracker_bpf* skeleton) const { process_tracker_bpf::destroy(skeleton); }
};
using SkeletonPtr = std::unique_ptr<process_tracker_bpf, SkeletonDeleter>;
struct LinkDeleter {
    void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};

Result<SkeletonPtr> open_and_load(TracepointHook hook, const std::string& btf_path) {
    bpf_object_open_opts options{};
    options.sz = sizeof(options);
    if (!btf_path.empty()) options.btf_custom_path = btf_path.c_str();
    SkeletonPtr skeleton(process_tracker_bpf::open(&options));
    if (!skeleton) return libbpf_error("opening the embedded process tracker", errno);
    choose_variant(skeleton->progs.exec_tp_btf, skeleton->progs.exec_raw_tp, hook);
    if (int err = process_tracker_bpf::load(skeleton.get()); err != 0)
        return libbpf_load_error(std::string("loading the process tracker (") + hook_name(hook) + ")", err);
    return skeleton;
}
}  // namespace

struct ProcessTracker::Handles {
    SkeletonPtr skeleton;
    std::unique_ptr<bpf_link, LinkDeleter> link;
};

std::uint32_t ProcessTracker::programs_attached() const { return handles_->link ? 1 : 0; }

ProcessTracker::ProcessTracker(std::unique_ptr<Handles> handles, TracepointHook hook)
    : handles_(std::move(handles)), hook_(hook) {}

ProcessTracker::~ProcessTracker() = default;

Result<std::unique_ptr<ProcessTracker>> ProcessTracker::start(bool verbose, const std::string& btf_path) {
    configure_libbpf_logging(verbose);
    if (auto btf = check_kernel_btf(btf_path); !btf) return btf.error();
    const TracepointHook hook = probe_tracepoint_hook(verbose);
    auto skeleton = open_and_load(hook, btf_path);
    if (!skeleton) return skeleton.error();
    auto handles = std::make_unique<Handles>();
    handles->skeleton = std::move(skeleton).value();
    auto& progs = handles->skeleton->progs;
    handles->link.reset(bpf_program__attach(hook == TracepointHook::tp_btf ? progs.exec_tp_btf : progs.exec_raw_tp));
    if (!handles->link)
        return libbpf_error(std::string("attaching to sched:sched_process_exec (") + hook_name(hook) + ")", errno);
    return std::unique_ptr<ProcessTracker>(new ProcessTracker(std::move(handles), hook));
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
