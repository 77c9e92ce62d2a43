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
#include "lib/kernel_read.bpf.h"

_Static_assert((CS_ARGV_CAPACITY & (CS_ARGV_CAPACITY - 1)) == 0, "read_task_argv masks with capacity - 1");
_Static_assert((CS_EXEC_ARGV_CAPACITY & (CS_EXEC_ARGV_CAPACITY - 1)) == 0, "read_task_argv masks with capacity - 1");

/* A task's argv area (task is the current task: its memory is the one read),
 * read into out, which has room for capacity bytes (a constant power of two,
 * so the verifier sees the bound); at most limit bytes are read. Sets CS_ARGV_* in
 * *flags and the whole area's length in *area_len; returns the bytes read.
 * detect_rewritten: look at the area's last byte for a title set by the
 * process (never at exec). typed: see lib/kernel_read.bpf.h. */
static __always_inline __u32 read_task_argv(bool typed, struct task_struct *task, char *out, __u32 capacity,
                                            __u32 limit, bool detect_rewritten, __u32 *flags, __u32 *area_len)
{
	struct mm_struct *mm = CS_READ(typed, task->mm, task, mm);
	unsigned long start, end;
	char last_byte = 0;
	__u64 len;

	*area_len = 0;
	if (!mm) {
		*flags |= CS_ARGV_UNREADABLE;
		return 0;
	}
	start = CS_READ(typed, mm->arg_start, mm, arg_start);
	end = CS_READ(typed, mm->arg_end, mm, arg_end);
	if (end <= start) {
		*flags |= CS_ARGV_UNREADABLE;
		return 0;
	}
	len = end - start;
	*area_len = len > 0xffffffff ? 0xffffffff : (__u32)len;
	if (len > limit) {
		len = limit;
		*flags |= CS_ARGV_TRUNCATED;
	}
	if (len > capacity)
		len = capacity;
	if (bpf_probe_read_user(out, len, (const void *)start) != 0) {
		*flags |= CS_ARGV_UNREADABLE;
		len = 0;
	}
	if (!detect_rewritten)
		return len;
	/* The area's last byte: already in out when the whole area was read
	 * (the common case), else one more read of user memory. */
	if (len != 0 && len == end - start)
		last_byte = out[(len - 1) & (capacity - 1)]; /* the mask: a bound the verifier sees */
	else if (bpf_probe_read_user(&last_byte, 1, (const void *)(end - 1)) != 0)
		last_byte = '\0';
	if (last_byte != '\0')
		*flags |= CS_ARGV_REWRITTEN;
	return len;
}

/* The current task's argv area, for programs without a typed task. */
static __always_inline __u32 read_current_argv(char *out, __u32 capacity, __u32 limit, bool detect_rewritten,
                                               __u32 *flags, __u32 *area_len)
{
	return read_task_argv(false, (struct task_struct *)bpf_get_current_task(), out, capacity, limit,
	                      detect_rewritten, flags, area_len);
}

/* The thread group's PID as its own PID namespace numbers it, and that
 * namespace: pid->numbers[pid->level] (the innermost level). */
static __always_inline void read_pid_namespace(bool typed, struct task_struct *task, struct cs_connect_record *rec)
{
	struct pid *pid = CS_READ(typed, task->group_leader->thread_pid, task, group_leader, thread_pid);
	unsigned int level = CS_READ(typed, pid->level, pid, level);
	struct upid upid = {};
	__u64 offset;

	rec->ns_pid = rec->pid;
	rec->pidns = 0;
	if (typed && level == 0) {
		/* the initial namespace, the common case: a constant index */
		rec->ns_pid = pid->numbers[0].nr;
		rec->pidns = pid->numbers[0].ns->ns.inum;
		return;
	}
	if (level > 32)
		return;
	/* a variable index: the verifier allows no plain load there */
	if (typed)
		pid = BPF_CORE_READ(task, group_leader, thread_pid);
	offset = bpf_core_field_offset(struct pid, numbers) + level * bpf_core_type_size(struct upid);
	if (bpf_probe_read_kernel(&upid, sizeof(upid), (void *)pid + offset) != 0)
		return;
	rec->ns_pid = upid.nr;
	rec->pidns = BPF_CORE_READ(upid.ns, ns.inum);
}

/* Who started the process, while they still run: PID and start time per
 * level, so user space can name each and never confuse a reused PID. */
static __always_inline void read_ancestors(bool typed, struct task_struct *task, struct cs_connect_record *rec)
{
	struct task_struct *parent = task;

#pragma unroll
	for (int i = 0; i < CS_KERNEL_ANCESTRY; i++) {
		struct task_struct *next = CS_READ(typed, parent->real_parent, parent, real_parent);
		__u32 pid = next ? CS_READ(typed, next->tgid, next, tgid) : 0;

		/* pid 0 (the idle task) ends the chain; so does a task that is its own parent */
		if (!next || next == parent || pid == 0) {
			rec->ancestors[i].pid = 0;
			rec->ancestors[i].start_boottime_ns = 0;
			continue;
		}
		rec->ancestors[i].pid = pid;
		rec->ancestors[i].start_boottime_ns =
			CS_READ(typed, next->group_leader->start_boottime, next, group_leader, start_boottime);
		parent = next;
	}
}

#endif /* CONNSNOOP_LIB_TASK_BPF_H */
