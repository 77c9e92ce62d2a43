/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exec tracker: remembers, for every exec on the host, the new program's
 * argv, parent and start time, in an LRU map keyed by PID. User space reads
 * it on demand to name a connecting process's ancestors, also the ones that
 * exited before the event was printed, which /proc can no longer show.
 *
 * A parent's argv cannot be read at connect time: bpf_probe_read_user reads
 * the *current* task's memory, and tracepoint programs cannot sleep to read
 * another's. At exec the new program is current, so its argv is readable.
 *
 * Part of connsnoop.bpf.c rather than an object of its own: a second object
 * means a second read of the kernel's BTF and a second CO-RE pass over it,
 * about a fifth of connsnoop's start-up CPU.
 */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/task.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, __u32);
	__type(value, struct cs_exec_entry);
} execs SEC(".maps");

/* Entries are built here: 1 KiB is too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_exec_entry);
} exec_scratch SEC(".maps");

static __always_inline int record_exec(struct task_struct *task)
{
	struct cs_exec_entry *entry;
	__u32 zero = 0, tgid, area_len;

	entry = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!entry)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	entry->start_boottime_ns = BPF_CORE_READ(task, start_boottime);
	entry->ppid = BPF_CORE_READ(task, real_parent, tgid);
	entry->flags = 0;
	bpf_get_current_comm(entry->comm, sizeof(entry->comm));
	/* At exec the new program is current and its argv is fresh: never rewritten yet. */
	entry->argv_len = read_current_argv(entry->argv, CS_EXEC_ARGV_CAPACITY, CS_EXEC_ARGV_CAPACITY, false,
	                                    &entry->flags, &area_len);
	bpf_map_update_elem(&execs, &tgid, entry, BPF_ANY);
	return 0;
}
