// What every BPF object of connsnoop needs from libbpf: quiet logging unless
// -v, errors with the hint a user can act on, and the one tp_btf / raw_tp
// choice that serves every object.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "util/result.hpp"

namespace connsnoop {

// Routes libbpf's log to stderr with -v, and nowhere otherwise.
void configure_libbpf_logging(bool verbose);

// "what: strerror(err)" with a hint for the errno (privileges, memory, ...).
Error libbpf_error(const std::string& what, int err);

// The kernel's BTF (or `custom_path`, for kernels without it) is readable;
// otherwise an error that says what the kernel lacks.
Status check_kernel_btf(const std::string& custom_path);

// How a tracepoint program attaches. Every tracepoint program comes in both
// variants (same code, different section); one is loaded, the other is not.
enum class TracepointHook { tp_btf, raw_tp };

// "tp_btf" or "raw_tp", as messages, metrics and summaries name it.
const char* hook_name(TracepointHook hook);

// Which variant this kernel takes, decided once per process (as libbpf-tools'
// probe_tp_btf): a two-instruction tp_btf program is loaded for
// sock:inet_sock_set_state. tp_btf when it loads; raw_tp when the kernel or
// its BTF refuses it; tp_btf again when the refusal is a missing privilege,
// which raw_tp would meet too, so the real load reports it.
TracepointHook probe_tracepoint_hook(bool verbose);

// Loads the variant of a program pair that matches `hook` when `wanted`, and
// neither otherwise; returns the one to attach.
bpf_program* choose_variant(bpf_program* tp_btf, bpf_program* raw_tp, TracepointHook hook, bool wanted = true);

}  // namespace connsnoop
