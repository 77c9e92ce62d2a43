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

/*
 * Why typed pointers are cast before use. From 6.3 the verifier asks, for
 * every pointer loaded from a trusted or RCU pointer (a tp_btf argument, the
 * task from bpf_get_current_task_btf(), task->real_parent, ...), whether that
 * field keeps its parent's trust: up to four searches of the kernel's BTF by
 * name, each a linear scan of about 150,000 types, in every verified state.
 * On 6.18 that was a third of connsnoop's start-up CPU. A pointer cast with
 * bpf_rdonly_cast (6.2+) is untrusted: its loads are the same guarded plain
 * loads, and the verifier asks nothing. Kernels before 6.2 lack the kfunc and
 * ask nothing either. User space sets cast_typed_pointers when the kernel's
 * BTF has the kfunc; with it unset the call is dead code, which libbpf leaves
 * unresolved (it is weak) and the verifier removes unvisited.
 *
 * The kernel's type IDs come from user space too (its one walk of the
 * kernel's BTF), not from bpf_core_type_id_kernel(): libbpf relocates against
 * a small BTF cut from the kernel's (src/collect/core_btf.hpp), whose IDs are
 * not the kernel's. A constant in frozen read-only data is a constant to the
 * verifier, as the kfunc's btf_id argument must be.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
const volatile bool cast_typed_pointers = false;
const volatile __u32 task_struct_btf_id = 0;
const volatile __u32 sock_btf_id = 0;

/* CS_UNTRUSTED(ptr, tag): ptr as an untrusted `struct tag *`; tag is
 * task_struct or sock, whose IDs user space sets. */
#define CS_UNTRUSTED(ptr, tag) (cast_typed_pointers ? (struct tag *)bpf_rdonly_cast((ptr), tag##_btf_id) : (ptr))

#endif /* CONNSNOOP_LIB_KERNEL_READ_BPF_H */
