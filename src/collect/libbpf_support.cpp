#include "collect/libbpf_support.hpp"

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

bool fails_for_every_hook(const Error& error) { return error.errno_value == EPERM || error.errno_value == EACCES; }

}  // namespace connsnoop
