/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel filters (--pid, --uid, --cgroup, --comm, --dst, --port,
 * --netns) and exclusions (--not-dst, --not-comm).
 * Read-only configuration, fixed before load: a filter that is off is a dead
 * branch the verifier removes, so it costs nothing. The sets are maps that
 * user space sizes to what it inserts (at least 1).
 */
#ifndef CONNSNOOP_LIB_FILTERS_BPF_H
#define CONNSNOOP_LIB_FILTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"

const volatile bool filter_daddr = false;
const volatile bool filter_dport = false;
const volatile bool filter_pid = false;
const volatile bool filter_uid = false;
const volatile bool filter_cgroup = false;
const volatile bool filter_comm = false;
const volatile bool filter_netns = false;
/* --not-dst, --not-comm: exclusions, tested after the filters above. */
const volatile bool exclude_daddr = false;
const volatile bool exclude_comm = false;
/* Directories in cgroup_filter (--cgroup is repeatable). */
const volatile __u32 cgroup_filter_count = 0;

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
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cs_lpm_v4_key);
	__type(value, __u8);
} not_dst_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cs_lpm_v6_key);
	__type(value, __u8);
} not_dst_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, char[CS_COMM_LEN]);
	__type(value, __u8);
} not_comms SEC(".maps");

/* --port as a bitmap of all 65536 ports (bit port%64 of word port/64): any
 * mix of ports and ranges is one lookup with a constant bound, 8 KiB. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CS_PORT_BITMAP_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} dst_port_bits SEC(".maps");

/* --comm: task names, NUL-padded to CS_COMM_LEN. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, char[CS_COMM_LEN]);
	__type(value, __u8);
} comms SEC(".maps");

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

/* --netns: inode numbers of the network namespaces wanted (the socket's, not the task's). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} netns_filter SEC(".maps");

/* Holds the --cgroup directories; bpf_current_task_under_cgroup matches each and its descendants. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, CS_MAX_CGROUP_FILTERS);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* --comm and --not-comm on a task name. */
static __always_inline bool comm_wanted(const char comm[CS_COMM_LEN])
{
	char key[CS_COMM_LEN] = {};
	bool ended = false;

	/* bpf_get_current_comm need not pad after the NUL: the key is padded here */
#pragma unroll
	for (int i = 0; i < CS_COMM_LEN; i++) {
		ended = ended || comm[i] == '\0';
		key[i] = ended ? '\0' : comm[i];
	}
	if (filter_comm && !bpf_map_lookup_elem(&comms, key))
		return false;
	if (exclude_comm && bpf_map_lookup_elem(&not_comms, key))
		return false;
	return true;
}

static __always_inline bool port_wanted(__u16 port)
{
	__u32 word = port / 64;
	__u64 *bits = bpf_map_lookup_elem(&dst_port_bits, &word);

	return bits && (*bits >> (port % 64)) & 1;
}

static __always_inline bool cgroup_wanted(void)
{
#pragma unroll
	for (__u32 i = 0; i < CS_MAX_CGROUP_FILTERS; i++) {
		if (i >= cgroup_filter_count)
			return false;
		if (bpf_current_task_under_cgroup(&cgroup_filter, i) == 1)
			return true;
	}
	return false;
}

static __always_inline bool destination_wanted(__u16 family, const __u8 daddr[16], __u16 dport)
{
	if (filter_dport && !port_wanted(dport))
		return false;
	if (!filter_daddr && !exclude_daddr)
		return true;
	if (family == CS_AF_INET) {
		struct cs_lpm_v4_key key = { .prefixlen = 32 };

		__builtin_memcpy(key.addr, daddr, 4);
		if (filter_daddr && !bpf_map_lookup_elem(&dst_v4, &key))
			return false;
		if (exclude_daddr && bpf_map_lookup_elem(&not_dst_v4, &key))
			return false;
	} else {
		struct cs_lpm_v6_key key = { .prefixlen = 128 };

		__builtin_memcpy(key.addr, daddr, 16);
		if (filter_daddr && !bpf_map_lookup_elem(&dst_v6, &key))
			return false;
		if (exclude_daddr && bpf_map_lookup_elem(&not_dst_v6, &key))
			return false;
	}
	return true;
}

/* The PID, UID and cgroup filters, on the current task. */
static __always_inline bool task_wanted(__u32 tgid, __u32 uid)
{
	if (filter_pid && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	if (filter_uid && !bpf_map_lookup_elem(&uids, &uid))
		return false;
	if (filter_cgroup && !cgroup_wanted())
		return false;
	return true;
}

/* The task filters and --comm/--not-comm on the calling task, as the cgroup
 * hooks apply them in the caller's context (the name is read only when a
 * comm filter is set). */
static __always_inline bool caller_wanted(__u64 pid_tgid, __u64 uid_gid)
{
	char comm[CS_COMM_LEN];

	if (!task_wanted(pid_tgid >> 32, (__u32)uid_gid))
		return false;
	if (!filter_comm && !exclude_comm)
		return true;
	bpf_get_current_comm(comm, sizeof(comm));
	return comm_wanted(comm);
}

/* The --netns filter, on the inode number of a socket's namespace: a
 * process can hold sockets of several namespaces. */
static __always_inline bool netns_inum_wanted(__u32 inum)
{
	return !filter_netns || bpf_map_lookup_elem(&netns_filter, &inum) != NULL;
}

/* The same, on the socket. */
static __always_inline bool netns_wanted(const struct sock *sk)
{
	if (!filter_netns)
		return true;
	return netns_inum_wanted(BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum));
}

#endif /* CONNSNOOP_LIB_FILTERS_BPF_H */
