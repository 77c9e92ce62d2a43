// A lookup of one named type in raw BTF, without building libbpf's index of
// every type. The tp_btf probe needs one ID (the typedef the kernel declares
// for a tracepoint); asking libbpf for it parses all of the kernel's BTF
// (about 150,000 types), which was a third of start-up's BTF work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace connsnoop {

// What a scan of raw BTF found for a name and kind.
struct BtfScan {
    bool complete = false;              // every type was read; false: unknown layout, ask libbpf
    std::optional<std::uint32_t> type;  // the first type with that name and kind
};

// Walks the type section of raw BTF (as /sys/kernel/btf/vmlinux holds it,
// in this machine's byte order). A header, version or kind it does not know,
// or any size that runs past the data, ends the scan as incomplete.
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

}  // namespace connsnoop
