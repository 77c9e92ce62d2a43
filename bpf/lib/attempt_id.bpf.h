/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ids for followed attempts and watched HTTP streams.
 */
#ifndef CONNSNOOP_LIB_ATTEMPT_ID_BPF_H
#define CONNSNOOP_LIB_ATTEMPT_ID_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Attempt ids are a per-CPU sequence number with the CPU in the low bits:
 * unique without atomics (no shared cache line on the hot path, and loads on
 * kernels without BPF atomic fetch-add). Never 0, which means "not followed". */
#define CS_ID_CPU_BITS 12
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} attempt_sequence SEC(".maps");

static __always_inline __u64 new_attempt_id(void)
{
	__u32 zero = 0;
	__u64 *sequence = bpf_map_lookup_elem(&attempt_sequence, &zero);

	if (!sequence)
		return 0;
	*sequence += 1; /* per-CPU slot, and programs here do not migrate */
	return (*sequence << CS_ID_CPU_BITS) | (bpf_get_smp_processor_id() & ((1 << CS_ID_CPU_BITS) - 1));
}

#endif /* CONNSNOOP_LIB_ATTEMPT_ID_BPF_H */
