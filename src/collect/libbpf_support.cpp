#include "collect/libbpf_support.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace connsnoop {

namespace {
bool g_libbpf_verbose = false;

int print_libbpf_log(enum libbpf_print_level /*level*/, const char* format, va_list args) {
    if (!g_libbpf_verbose) return 0;
    return std::vfprintf(stderr, format, args);
}

std::string hint_for_errno(int err) {
    switch (err) {
        case EPERM:
        case EACCES:
            return "run as root, or with CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels before 5.8)";
        case ENOMEM:
        case E2BIG:
            return "the kernel refused the memory asked for: try a smaller --ringbuf-size";
        default:
            return "run with -v to see libbpf's log";
    }
}
}  // namespace

void configure_libbpf_logging(bool verbose) {
    g_libbpf_verbose = verbose;
    libbpf_set_print(print_libbpf_log);
}

Error libbpf_error(const std::string& what, int err) {
    err = std::abs(err);
    return Error{what + ": " + std::strerror(err), hint_for_errno(err), err};
}

Status check_kernel_btf(const std::string& custom_path) {
    const std::string path = custom_path.empty() ? "/sys/kernel/btf/vmlinux" : custom_path;
    if (::access(path.c_str(), R_OK) == 0) return Ok{};
    const int err = errno;
    if (custom_path.empty()) {
        return Error{"this kernel has no BTF type information (" + path + ": " + std::strerror(err) + ")",
                     "connsnoop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, or a BTF file for this "
                     "kernel given with --btf FILE (e.g. from BTFHub)",
                     err};
    }
    return Error{"--btf " + path + ": " + std::strerror(err), "give a readable BTF file for the running kernel", err};
}

const char* hook_name(TracepointHook hook) { return hook == TracepointHook::tp_btf ? "tp_btf" : "raw_tp"; }

namespace {
TracepointHook probe_once(bool verbose) {
    const int btf_id = libbpf_find_vmlinux_btf_id("inet_sock_set_state", BPF_TRACE_RAW_TP);
    if (btf_id < 0) {
        if (verbose) std::fprintf(stderr, "connsnoop: no BTF for tp_btf (%s): using raw_tp\n", std::strerror(-btf_id));
        return TracepointHook::raw_tp;
    }
    // r0 = 0; exit
    const bpf_insn program[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    bpf_prog_load_opts options{};
    options.sz = sizeof(options);
    options.expected_attach_type = BPF_TRACE_RAW_TP;
    options.attach_btf_id = static_cast<__u32>(btf_id);
    const int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, nullptr, "GPL", program, 2, &options);
    const int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        ::close(fd);
        return TracepointHook::tp_btf;
    }
    if (err == EPERM) return TracepointHook::tp_btf;  // no privilege: the real load says so, with its hint
    if (verbose) std::fprintf(stderr, "connsnoop: tp_btf refused (%s): using raw_tp\n", std::strerror(err));
    return TracepointHook::raw_tp;
}
}  // namespace

TracepointHook probe_tracepoint_hook(bool verbose) {
    static const TracepointHook hook = probe_once(verbose);
    return hook;
}

bpf_program* choose_variant(bpf_program* tp_btf, bpf_program* raw_tp, TracepointHook hook, bool wanted) {
    bpf_program__set_autoload(tp_btf, wanted && hook == TracepointHook::tp_btf);
    bpf_program__set_autoload(raw_tp, wanted && hook == TracepointHook::raw_tp);
    return hook == TracepointHook::tp_btf ? tp_btf : raw_tp;
}

}  // namespace connsnoop
