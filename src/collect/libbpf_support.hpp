// What every BPF object of connsnoop needs from libbpf: quiet logging unless
// -v, errors with the hint a user can act on, and a tp_btf -> raw_tp choice.
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

// True for the errors that the raw_tp twin of a tp_btf program would hit too
// (privileges), where falling back is pointless.
bool fails_for_every_hook(const Error& error);

}  // namespace connsnoop
