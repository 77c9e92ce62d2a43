/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records that name a process (connect, connect-failed, HTTP): the task
 * fields filled in one place, and the size check and output written once.
 *
 * Records are built in a per-CPU scratch, then copied to the ring buffer with
 * their real size: reserve needs a constant size, output does not, so a short
 * command line costs a short record. Every scratch puts the argv right after
 * the record, so the two leave together.
 */
#ifndef CONNSNOOP_LIB_RECORD_BPF_H
#define CONNSNOOP_LIB_RECORD_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/events.bpf.h"
#include "lib/kernel_read.bpf.h"
#include "lib/task.bpf.h"

/* --argv-max, fixed before load. */
const volatile __u32 argv_max = CS_ARGV_CAPACITY;

struct connect_scratch {
	struct cs_connect_record record;
	char argv[CS_ARGV_CAPACITY];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct connect_scratch);
} scratch SEC(".maps");

static __always_inline struct connect_scratch *connect_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* What bpf_get_current_pid_tgid, bpf_get_current_uid_gid,
 * bpf_get_current_cgroup_id and bpf_get_current_comm give, for a task:
 * through the helpers, or with plain loads from a typed current task. */
static __always_inline __u64 task_pid_tgid(bool typed, struct task_struct *task)
{
	if (!typed)
		return bpf_get_current_pid_tgid();
	return (__u64)task->tgid << 32 | (__u32)task->pid;
}

/* The helper maps the subjective credentials' ids through the initial user
 * namespace, whose map is the identity (fixed at boot, never writable), so
 * the raw values are the same numbers, (uid_t)-1 included. Plain loads: the
 * helper (a call, then the map walk) was about 80 ns of a reported connect,
 * for one more CO-RE root type, cred. */
static __always_inline __u64 task_uid_gid(bool typed, struct task_struct *task)
{
	const struct cred *cred;

	if (!typed)
		return bpf_get_current_uid_gid();
	cred = task->cred;
	return (__u64)cred->gid.val << 32 | cred->uid.val;
}

/* What bpf_get_current_cgroup_id gives: the id of the task's cgroup on the
 * default hierarchy, task_dfl_cgroup(current)->kn->id, read under RCU (as
 * this program runs). Plain loads: a helper call is about 25 ns of a
 * reported connect, for three more CO-RE root types (css_set, cgroup,
 * kernfs_node) that the small BTF holds at no measurable start-up cost
 * (without it, --btf, each is one more search of the kernel's BTF). */
static __always_inline __u64 task_cgroup_id(bool typed, struct task_struct *task)
{
	if (!typed)
		return bpf_get_current_cgroup_id();
	return task->cgroups->dfl_cgrp->kn->id;
}

/* A word of task->comm (8 bytes, as loaded on a little-endian CPU) up to its
 * first NUL, the bytes after it zeroed; *ended: a NUL was seen, here or in an
 * earlier word (then the whole word is padding). The lowest byte flagged by
 * (w - 0x01..) & ~w & 0x80.. is the first NUL (a borrow only runs upwards
 * from a NUL), and flag ^ (flag - 1), shifted down a byte, masks the bytes
 * below it. */
static __always_inline __u64 comm_word_to_nul(__u64 word, bool *ended)
{
	__u64 nuls = (word - 0x0101010101010101ULL) & ~word & 0x8080808080808080ULL;

	if (*ended)
		return 0;
	if (nuls == 0)
		return word;
	*ended = true;
	return word & ((nuls ^ (nuls - 1)) >> 8);
}

_Static_assert(CS_COMM_LEN == 16, "task_comm reads comm as two words");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "comm_word_to_nul counts bytes from the low end");

static __always_inline void task_comm(bool typed, struct task_struct *task, char comm[CS_COMM_LEN])
{
	const __u64 *words;
	bool ended = false;

	if (!typed) {
		bpf_get_current_comm(comm, CS_COMM_LEN);
		return;
	}
	words = (const __u64 *)task->comm;
	/* As the helper copies it (up to the NUL, zero-padded, NUL-terminated),
	 * in two loads: byte by byte it was sixteen guarded loads and sixteen
	 * branches, about 80 ns of a reported connect. The last byte is always
	 * the terminator. */
	((__u64 *)comm)[0] = comm_word_to_nul(words[0], &ended);
	((__u64 *)comm)[1] = comm_word_to_nul(words[1] & 0x00ffffffffffffffULL, &ended);
}

/* Task identity, time and argv of the current task (task) into the record;
 * argv_out has room for CS_ARGV_CAPACITY bytes. typed: see
 * lib/kernel_read.bpf.h. */
static __always_inline void fill_fields_of(bool typed, struct task_struct *task, struct cs_connect_record *rec,
                                           char *argv_out, __u64 pid_tgid, __u64 uid_gid)
{
	rec->flags = 0;
	rec->error = 0;
	rec->attempt_id = 0;
	rec->timestamp_ns = bpf_ktime_get_ns();
	rec->cgroup_id = task_cgroup_id(typed, task);
	rec->pid = pid_tgid >> 32;
	rec->tid = (__u32)pid_tgid;
	rec->uid = (__u32)uid_gid;
	rec->gid = uid_gid >> 32;
	rec->start_boottime_ns = CS_READ(typed, task->group_leader->start_boottime, task, group_leader, start_boottime);
	read_pid_namespace(typed, task, rec);
	read_ancestors(typed, task, rec);
	/* read_ancestors read the parent's tgid (0 ends its chain: the same 0) */
	rec->ppid = rec->ancestors[0].pid;
	rec->argv_len = read_task_argv(typed, task, argv_out, CS_ARGV_CAPACITY, argv_max, true, &rec->flags,
	                               &rec->argv_area_len);
}

/* The same, for programs that cannot hold a typed task (raw_tp, cgroup hooks). */
static __always_inline void fill_task_fields(struct cs_connect_record *rec, char *argv_out, __u64 pid_tgid,
                                             __u64 uid_gid)
{
	fill_fields_of(false, (struct task_struct *)bpf_get_current_task(), rec, argv_out, pid_tgid, uid_gid);
}

/* Writes a scratch of scratch_size bytes whose record (header_size bytes,
 * process fields in rec) is followed by rec->argv_len bytes of argv. now:
 * bpf_ktime_get_ns() read a moment ago, for the wake-up decision. */
static __always_inline void emit_task_record_at(void *buf, __u64 scratch_size, __u64 header_size,
                                                const struct cs_connect_record *rec, __u64 now)
{
	__u64 size = header_size + rec->argv_len;

	if (size > scratch_size)
		return; /* cannot happen; tells the verifier the bound */
	output_record_at(buf, size, now);
}

static __always_inline void emit_task_record(void *buf, __u64 scratch_size, __u64 header_size,
                                             const struct cs_connect_record *rec)
{
	emit_task_record_at(buf, scratch_size, header_size, rec, bpf_ktime_get_ns());
}

#endif /* CONNSNOOP_LIB_RECORD_BPF_H */
