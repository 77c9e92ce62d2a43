// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of connsnoop: reports active TCP opens (CLOSE -> SYN_SENT on
 * sock:inet_sock_set_state) with the full argv of the connecting task, read
 * from its own memory at that moment, after in-kernel filtering.
 *
 * Why this hook: CLOSE -> SYN_SENT runs in the context of the task that
 * called connect(), for IPv4 and IPv6 alike, and is reachable without
 * kprobes, fentry or tracefs (tp_btf, with a raw_tp fallback).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connsnoop_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* Read-only configuration, fixed before load: a filter that is off is a
 * dead branch the verifier removes, so it costs nothing. */
const volatile bool filter_daddr = false;
const volatile bool filter_dport = false;
const volatile bool filter_pid = false;
const volatile bool filter_uid = false;
const volatile bool filter_cgroup = false;
const volatile bool filter_comm = false;
const volatile char comm_filter[CS_COMM_LEN] = {};
const volatile __u32 argv_max = CS_ARGV_CAPACITY;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CS_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Filter sets; user space sizes them to what it inserts (at least 1). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cs_lpm_v4_key);
	__type(value, __u8);
} dst_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cs_lpm_v6_key);
	__type(value, __u8);
} dst_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u16);
	__type(value, __u8);
} dst_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} uids SEC(".maps");

/* Holds the --cgroup directory; bpf_current_task_under_cgroup matches it and its descendants. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* Records are built here, then copied to the ring buffer with their real
 * size: reserve needs a constant size, output does not, so a short command
 * line costs a short record. */
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

static __always_inline void count_stat(__u32 which)
{
	__u64 *counter = bpf_map_lookup_elem(&stats, &which);

	if (counter)
		*counter += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline bool comm_matches(const char comm[CS_COMM_LEN])
{
#pragma unroll
	for (int i = 0; i < CS_COMM_LEN; i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (comm[i] == '\0')
			return true;
	}
	return true;
}

static __always_inline bool is_v4_mapped(const __u8 addr[16])
{
	return ((const __u64 *)addr)[0] == 0 && ((const __u32 *)addr)[2] == bpf_htonl(0x0000ffff);
}

/* Fills family and addresses; false for families other than IPv4/IPv6. */
static __always_inline bool read_endpoints(const struct sock *sk, struct cs_connect_record *rec)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	rec->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	rec->sport = BPF_CORE_READ(sk, __sk_common.skc_num);

	if (family == CS_AF_INET) {
		rec->family = CS_AF_INET;
		BPF_CORE_READ_INTO((__u32 *)rec->daddr, sk, __sk_common.skc_daddr);
		BPF_CORE_READ_INTO((__u32 *)rec->saddr, sk, __sk_common.skc_rcv_saddr);
		return true;
	}
	if (family != CS_AF_INET6)
		return false;

	BPF_CORE_READ_INTO(&rec->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	BPF_CORE_READ_INTO(&rec->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	if (is_v4_mapped(rec->daddr)) {
		/* a dual-stack socket (Java, Python with AF_INET6) reaching an IPv4 host */
		rec->family = CS_AF_INET;
		__builtin_memcpy(rec->daddr, &rec->daddr[12], 4);
		__builtin_memcpy(rec->saddr, &rec->saddr[12], 4);
		__builtin_memset(&rec->daddr[4], 0, 12);
		__builtin_memset(&rec->saddr[4], 0, 12);
	} else {
		rec->family = CS_AF_INET6;
	}
	return true;
}

static __always_inline bool destination_wanted(const struct cs_connect_record *rec)
{
	if (filter_dport) {
		__u16 port = rec->dport;

		if (!bpf_map_lookup_elem(&dst_ports, &port))
			return false;
	}
	if (filter_daddr) {
		if (rec->family == CS_AF_INET) {
			struct cs_lpm_v4_key key = { .prefixlen = 32 };

			__builtin_memcpy(key.addr, rec->daddr, 4);
			if (!bpf_map_lookup_elem(&dst_v4, &key))
				return false;
		} else {
			struct cs_lpm_v6_key key = { .prefixlen = 128 };

			__builtin_memcpy(key.addr, rec->daddr, 16);
			if (!bpf_map_lookup_elem(&dst_v6, &key))
				return false;
		}
	}
	return true;
}

static __always_inline void read_argv(struct connect_scratch *buf)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct cs_connect_record *rec = &buf->record;
	unsigned long start, end;
	char last_byte = 0;
	__u64 len;

	rec->argv_len = 0;
	rec->argv_area_len = 0;
	if (!mm) {
		rec->flags |= CS_ARGV_UNREADABLE;
		return;
	}
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	if (end <= start) {
		rec->flags |= CS_ARGV_UNREADABLE;
		return;
	}
	len = end - start;
	if (bpf_probe_read_user(&last_byte, 1, (const void *)(end - 1)) == 0 && last_byte != '\0')
		rec->flags |= CS_ARGV_REWRITTEN;
	rec->argv_area_len = len > 0xffffffff ? 0xffffffff : (__u32)len;
	if (len > argv_max) {
		len = argv_max;
		rec->flags |= CS_ARGV_TRUNCATED;
	}
	if (len > CS_ARGV_CAPACITY)
		len = CS_ARGV_CAPACITY;
	if (bpf_probe_read_user(buf->argv, len, (const void *)start) != 0) {
		rec->flags |= CS_ARGV_UNREADABLE;
		return;
	}
	rec->argv_len = len;
}

static __always_inline int on_state_change(const struct sock *sk, int oldstate, int newstate)
{
	struct connect_scratch *buf;
	struct cs_connect_record *rec;
	__u64 pid_tgid, uid_gid, size;
	__u32 zero = 0, tgid, uid;
	struct task_struct *task;

	if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	pid_tgid = bpf_get_current_pid_tgid();
	tgid = pid_tgid >> 32;
	if (filter_pid && !bpf_map_lookup_elem(&pids, &tgid))
		return 0;
	uid_gid = bpf_get_current_uid_gid();
	uid = (__u32)uid_gid;
	if (filter_uid && !bpf_map_lookup_elem(&uids, &uid))
		return 0;
	if (filter_cgroup && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return 0;

	buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf)
		return 0;
	rec = &buf->record;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	if (filter_comm && !comm_matches(rec->comm))
		return 0;
	if (!read_endpoints(sk, rec))
		return 0;
	if (!destination_wanted(rec))
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	rec->kind = CS_RECORD_CONNECT;
	rec->flags = 0;
	rec->timestamp_ns = bpf_ktime_get_ns();
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->pid = tgid;
	rec->tid = (__u32)pid_tgid;
	rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
	rec->uid = uid;
	rec->gid = uid_gid >> 32;
	rec->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	read_argv(buf);

	size = sizeof(*rec) + rec->argv_len;
	if (size > sizeof(*buf))
		return 0; /* cannot happen; tells the verifier the bound */
	if (bpf_ringbuf_output(&events, buf, size, 0) != 0)
		count_stat(CS_STAT_LOST_EVENTS);
	return 0;
}

/* Preferred: BTF-typed tracepoint, no tracefs needed. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_tp_btf, const struct sock *sk, int oldstate, int newstate)
{
	return on_state_change(sk, oldstate, newstate);
}

/* Fallback where tp_btf is refused; same arguments, read through CO-RE. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_raw_tp, const struct sock *sk, int oldstate, int newstate)
{
	return on_state_change(sk, oldstate, newstate);
}
