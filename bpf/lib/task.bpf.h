/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the current task: its argv (shared by both BPF objects), its PID
 * as its own namespace numbers it, and its ancestors.
 */
#ifndef CONNSNOOP_LIB_TASK_BPF_H
#define CONNSNOOP_LIB_TASK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"

/* The current task's argv area, read from its own memory into out, which
 * has room for capacity bytes (a constant, so the verifier sees the bound);
 * at most limit bytes are read. Sets CS_ARGV_* in *flags and the whole
 * area's length in *area_len; returns the bytes read. detect_rewritten: look
 * at the area's last byte for a title set by the process (never at exec). */
static __always_inline __u32 read_current_argv(char *out, __u32 capacity, __u32 limit, bool detect_rewritten,
                                               __u32 *flags, __u32 *area_len)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start, end;
	char last_byte = 0;
	__u64 len;

	*area_len = 0;
	if (!mm) {
		*flags |= CS_ARGV_UNREADABLE;
		return 0;
	}
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	if (end <= start) {
		*flags |= CS_ARGV_UNREADABLE;
		return 0;
	}
	len = end - start;
	if (detect_rewritten && bpf_probe_read_user(&last_byte, 1, (const void *)(end - 1)) == 0 && last_byte != '\0')
		*flags |= CS_ARGV_REWRITTEN;
	*area_len = len > 0xffffffff ? 0xffffffff : (__u32)len;
	if (len > limit) {
		len = limit;
		*flags |= CS_ARGV_TRUNCATED;
	}
	if (len > capacity)
		len = capacity;
	if (bpf_probe_read_user(out, len, (const void *)start) != 0) {
		*flags |= CS_ARGV_UNREADABLE;
		return 0;
	}
	return len;
}

/* The thread group's PID as its own PID namespace numbers it, and that
 * namespace: pid->numbers[pid->level] (the innermost level). */
static __always_inline void read_pid_namespace(struct task_struct *task, struct cs_connect_record *rec)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};
	__u64 offset;

	rec->ns_pid = rec->pid;
	rec->pidns = 0;
	if (level > 32)
		return;
	offset = bpf_core_field_offset(struct pid, numbers) + level * bpf_core_type_size(struct upid);
	if (bpf_probe_read_kernel(&upid, sizeof(upid), (void *)pid + offset) != 0)
		return;
	rec->ns_pid = upid.nr;
	rec->pidns = BPF_CORE_READ(upid.ns, ns.inum);
}

/* Who started the process, while they still run: PID and start time per
 * level, so user space can name each and never confuse a reused PID. */
static __always_inline void read_ancestors(struct task_struct *task, struct cs_connect_record *rec)
{
	struct task_struct *parent = task;

#pragma unroll
	for (int i = 0; i < CS_KERNEL_ANCESTRY; i++) {
		struct task_struct *next = BPF_CORE_READ(parent, real_parent);
		__u32 pid = next ? BPF_CORE_READ(next, tgid) : 0;

		/* pid 0 (the idle task) ends the chain; so does a task that is its own parent */
		if (!next || next == parent || pid == 0) {
			rec->ancestors[i].pid = 0;
			rec->ancestors[i].start_boottime_ns = 0;
			continue;
		}
		rec->ancestors[i].pid = pid;
		rec->ancestors[i].start_boottime_ns = BPF_CORE_READ(next, group_leader, start_boottime);
		parent = next;
	}
}

#endif /* CONNSNOOP_LIB_TASK_BPF_H */
