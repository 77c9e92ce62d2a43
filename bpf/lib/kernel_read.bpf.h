/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading kernel memory, two ways.
 *
 * A pointer whose type the verifier knows (a tp_btf argument, the task from
 * bpf_get_current_task_btf() on 5.11+, and every pointer loaded through one)
 * is read with plain loads, CO-RE relocated; the JIT guards them against
 * faults. Any other pointer needs a bpf_probe_read_kernel call per step
 * (BPF_CORE_READ): tens of nanoseconds each, and a reported connect made
 * about thirty of them. raw_tp programs and the cgroup hooks have only the
 * second way.
 *
 * CS_READ(typed, plain, src, fields...) is `plain` (the expression spelled
 * with ->) when typed, else BPF_CORE_READ(src, fields...). typed must be a
 * compile-time constant: the branch not taken is compiled away, so a raw_tp
 * program never holds a plain load of an untyped pointer.
 */
#ifndef CONNSNOOP_LIB_KERNEL_READ_BPF_H
#define CONNSNOOP_LIB_KERNEL_READ_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define CS_READ(typed, plain, ...) ((typed) ? (plain) : BPF_CORE_READ(__VA_ARGS__))

/* Whether this kernel has bpf_get_current_task_btf (5.11+): decided by
 * libbpf at load time from the kernel's BTF, so on 5.10 the call is dead
 * code the verifier never walks. */
#define CS_HAVE_CURRENT_TASK_BTF() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)

#endif /* CONNSNOOP_LIB_KERNEL_READ_BPF_H */
