/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel filters (--pid, --uid, --cgroup, --comm, --dst, --port).
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
const volatile char comm_filter[CS_COMM_LEN] = {};

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

/* --netns: inode numbers of the network namespaces wanted (the socket's, not the task's). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} netns_filter SEC(".maps");

/* Holds the --cgroup directory; bpf_current_task_under_cgroup matches it and its descendants. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

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

static __always_inline bool destination_wanted(__u16 family, const __u8 daddr[16], __u16 dport)
{
	if (filter_dport) {
		__u16 port = dport;

		if (!bpf_map_lookup_elem(&dst_ports, &port))
			return false;
	}
	if (filter_daddr) {
		if (family == CS_AF_INET) {
			struct cs_lpm_v4_key key = { .prefixlen = 32 };

			__builtin_memcpy(key.addr, daddr, 4);
			if (!bpf_map_lookup_elem(&dst_v4, &key))
				return false;
		} else {
			struct cs_lpm_v6_key key = { .prefixlen = 128 };

			__builtin_memcpy(key.addr, daddr, 16);
			if (!bpf_map_lookup_elem(&dst_v6, &key))
				return false;
		}
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
	if (filter_cgroup && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return false;
	return true;
}

/* The --netns filter, on the socket: a process can hold sockets of several namespaces. */
static __always_inline bool netns_wanted(const struct sock *sk)
{
	__u32 inum;

	if (!filter_netns)
		return true;
	inum = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return bpf_map_lookup_elem(&netns_filter, &inum) != NULL;
}

#endif /* CONNSNOOP_LIB_FILTERS_BPF_H */
