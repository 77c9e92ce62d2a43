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

Result<SkeletonPtr> open_and_load(bool use_tp_btf, const std::string& btf_path) {
    bpf_object_open_opts options{};
    options.sz = sizeof(options);
    if (!btf_path.empty()) options.btf_custom_path = btf_path.c_str();
    SkeletonPtr skeleton(process_tracker_bpf::open(&options));
    if (!skeleton) return libbpf_error("opening the embedded process tracker", errno);
    bpf_program__set_autoload(use_tp_btf ? skeleton->progs.exec_raw_tp : skeleton->progs.exec_tp_btf, false);
    if (int err = process_tracker_bpf::load(skeleton.get())) {
        return libbpf_load_error(
            std::string("loading the process tracker (") + (use_tp_btf ? "tp_btf" : "raw_tp") + ")", err);
    }
    return skeleton;
}
}  // namespace

struct ProcessTracker::Handles {
    SkeletonPtr skeleton;
    std::unique_ptr<bpf_link, LinkDeleter> link;
};

ProcessTracker::ProcessTracker(std::unique_ptr<Handles> handles, std::string hook)
    : handles_(std::move(handles)), hook_(std::move(hook)) {}

ProcessTracker::~ProcessTracker() = default;

Result<std::unique_ptr<ProcessTracker>> ProcessTracker::start(bool verbose, const std::string& btf_path) {
    configure_libbpf_logging(verbose);
    if (auto btf = check_kernel_btf(btf_path); !btf) return btf.error();
    std::string hook = "tp_btf";
    auto skeleton = open_and_load(true, btf_path);
    if (!skeleton && !fails_for_every_hook(skeleton.error())) {
        hook = "raw_tp";
        skeleton = open_and_load(false, btf_path);
    }
    if (!skeleton) return skeleton.error();
    auto handles = std::make_unique<Handles>();
    handles->skeleton = std::move(skeleton).value();
    bpf_program* program =
        hook == "tp_btf" ? handles->skeleton->progs.exec_tp_btf : handles->skeleton->progs.exec_raw_tp;
    handles->link.reset(bpf_program__attach(program));
    if (!handles->link) return libbpf_error("attaching to sched:sched_process_exec (" + hook + ")", errno);
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
