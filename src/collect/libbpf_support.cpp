#include "collect/libbpf_support.hpp"

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

bool fails_for_every_hook(const Error& error) { return error.errno_value == EPERM || error.errno_value == EACCES; }

}  // namespace connsnoop
