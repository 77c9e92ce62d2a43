// What every BPF object of connsnoop needs from libbpf: quiet logging unless
// -v, errors that say truthfully what failed (a missing privilege, the
// kernel's verifier, memory) with a hint the user can act on, and the one
// tp_btf / raw_tp choice that serves every object.
#pragma once

#include <bpf/libbpf.h>

#include <cstddef>
#include <span>
#include <string>

#include "collect/btf_scan.hpp"
#include "collect/trace_config.hpp"
#include "util/result.hpp"

namespace connsnoop {

// Routes libbpf's log to stderr with -v, and nowhere otherwise; either way
// the verifier log of a refused program is kept for libbpf_load_error.
void configure_libbpf_logging(bool verbose);

// "what: <error text>" with a hint for the errno (privileges, memory, ...).
// libbpf's own codes (4000 and up) get libbpf's text, not "Unknown error".
Error libbpf_error(const std::string& what, int err);

// The BPF privileges of this process (effective capabilities).
struct BpfPrivileges {
    bool cap_sys_admin = false;
    bool cap_bpf = false;
    bool cap_perfmon = false;

    // Enough to load and attach connsnoop's programs: CAP_SYS_ADMIN, or
    // CAP_BPF with CAP_PERFMON (5.8+).
    [[nodiscard]] bool sufficient() const { return cap_sys_admin || (cap_bpf && cap_perfmon); }
};
BpfPrivileges current_bpf_privileges();

// The facts behind a failed skeleton load.
struct LoadFailure {
    int err = 0;               // errno (either sign)
    std::string program;       // the program whose load failed ("" when unknown)
    std::string verifier_log;  // the kernel verifier's log for it ("" when none)
    BpfPrivileges privileges;
    std::string kernel_release;  // uname -r
};

// The one message those facts add up to (pure). The "run as root" hint only
// for EPERM while a privilege is really missing; a verifier log means the
// verifier refused the program, whatever the errno (EACCES above all), and is
// reported with the program, its last lines and the kernel release.
Error describe_load_failure(const std::string& what, const LoadFailure& failure);

// libbpf_error for a failed load (bpf_object__load / skeleton load): takes
// the verifier log libbpf reported since the last call, this process's
// privileges and uname, and describes them.
Error libbpf_load_error(const std::string& what, int err);

// The program libbpf last said it could not load ("prog 'NAME': BPF program
// load failed" or "failed to load"), "" when none since the last
// libbpf_load_error. libbpf closes every program of an object whose load
// failed, so this, not a program's descriptor, says which one it was.
std::string refused_program_name();

// True when err means a privilege is missing: EPERM without sufficient
// privileges (pure).
bool lacks_bpf_privileges(int err, const BpfPrivileges& privileges);

// The kernel's BTF (or `custom_path`, for kernels without it) is there and
// parses as BTF; otherwise an error that says what the kernel or file lacks.
Status check_kernel_btf(const std::string& custom_path);

// What the load needs of the kernel's BTF (/sys/kernel/btf/vmlinux), from
// one walk of it, once per process (btf_scan.hpp): the tp_btf target, the
// kfunc and type IDs of the casts, and the small BTF for the embedded
// object's CO-RE relocations.
const VmlinuxFacts& vmlinux_facts();

// The BPF object embedded in the executable (connsnoop.skel.h). Defined in
// connect_tracer.cpp, the one translation unit that opens it: every unit
// that includes the skeleton and reads its bytes links a copy of them (about
// 370 KB, and the release executable must stay under 4 MiB).
std::span<const std::byte> embedded_bpf_object();

// How a tracepoint program attaches. Every tracepoint program comes in both
// variants (same code, different section); one is loaded, the other is not.
enum class TracepointHook { tp_btf, raw_tp };

// "tp_btf" or "raw_tp", as messages, metrics and summaries name it.
const char* hook_name(TracepointHook hook);

// Which variant this kernel takes (--hook auto), decided once per process (as libbpf-tools'
// probe_tp_btf): a two-instruction tp_btf program is loaded for
// sock:inet_sock_set_state. tp_btf when it loads; raw_tp when the kernel or
// its BTF refuses it; tp_btf again when the refusal is a missing privilege,
// which raw_tp would meet too, so the real load reports it.
// --hook tp_btf or raw_tp skips the probe: a refusal is then the load's
// error, told as such.
TracepointHook tracepoint_hook(HookChoice choice, bool verbose);

// Whether the tp_btf programs cast their typed pointers with bpf_rdonly_cast
// before reading through them: only to spare the verifier work, on kernels
// that have the kfunc (see bpf/lib/kernel_read.bpf.h).
bool cast_typed_pointers(TracepointHook hook);

// Loads the variant of a program pair that matches `hook` when `wanted`, and
// neither otherwise; returns the one to attach.
bpf_program* choose_variant(bpf_program* tp_btf, bpf_program* raw_tp, TracepointHook hook, bool wanted = true);

// True for the errors that the raw_tp twin of a tp_btf program would hit too
// (a missing privilege), where falling back is pointless. A verifier
// rejection (EACCES, EINVAL) is not one of them.
bool fails_for_every_hook(const Error& error);

}  // namespace connsnoop
