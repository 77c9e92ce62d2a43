// A lookup of a few named types in raw BTF, in one pass, without building
// libbpf's index of every type. The tp_btf probe needs one ID (the typedef
// the kernel declares for a tracepoint) and one yes or no (a kfunc); asking
// libbpf parses all of the kernel's BTF (about 150,000 types), which was a
// third of start-up's BTF work.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collect/core_btf.hpp"

namespace connsnoop {

// What a scan of raw BTF found for a name and kind.
struct BtfScan {
    bool complete = false;              // every type was read; false: unknown layout, ask libbpf
    std::optional<std::uint32_t> type;  // the first type with that name and kind
};

// A name looked for, and the kind it must have.
struct BtfName {
    std::string_view name;
    std::uint32_t kind;
};

// Walks the type section of raw BTF (as /sys/kernel/btf/vmlinux holds it,
// in this machine's byte order) once, with the look-up scan_vmlinux makes in
// its walk (BtfIndex::build); the answer for names[i] is [i]. A
// header, version or kind it does not know, or any size that runs past the
// data, ends the scan as incomplete: every answer is then empty.
std::vector<BtfScan> find_btf_types(std::span<const std::byte> raw_btf, std::span<const BtfName> names);
BtfScan find_btf_type(std::span<const std::byte> raw_btf, std::string_view name, std::uint32_t kind);

// The ID of the kernel's `btf_trace_<tracepoint>` typedef, the attach target
// of a tp_btf program, as libbpf_find_vmlinux_btf_id(tracepoint,
// BPF_TRACE_RAW_TP) answers: the ID, -ENOENT when the kernel has no such type,
// or libbpf's own answer when `path` cannot be read or scanned completely.
// Kernels from 6.16 let their BTF be mapped; older ones (and `read_only`)
// read it.
enum class BtfAccess { map_or_read, read_only };
int vmlinux_tracepoint_btf_id(const std::string& tracepoint, const std::string& path = "/sys/kernel/btf/vmlinux",
                              BtfAccess access = BtfAccess::map_or_read);

// What the tracer's load needs to know of the kernel's BTF, from one walk.
struct VmlinuxFacts {
    int tracepoint_btf_id = -ENOENT;  // as vmlinux_tracepoint_btf_id answers
    bool has_rdonly_cast = false;     // the bpf_rdonly_cast kfunc (6.2+); false when the scan cannot tell
    // The kernel's IDs of the structs the tp_btf programs cast to with
    // bpf_rdonly_cast (bpf/lib/kernel_read.bpf.h); 0 when absent or unknown.
    std::uint32_t task_struct_btf_id = 0;
    std::uint32_t sock_btf_id = 0;
    // The small BTF for `core_roots` (core_btf.hpp); nullopt when none was
    // asked for or the walk could not make one: libbpf then searches all of
    // the kernel's BTF.
    std::optional<std::vector<std::byte>> core_btf;
};
VmlinuxFacts scan_vmlinux(const std::string& tracepoint, const std::string& path = "/sys/kernel/btf/vmlinux",
                          BtfAccess access = BtfAccess::map_or_read, std::span<const CoreRoot> core_roots = {});

}  // namespace connsnoop
