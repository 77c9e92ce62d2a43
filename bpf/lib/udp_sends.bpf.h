/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UDP sends (--udp) and DNS queries (--dns), beside the TCP connects.
 *
 * - cgroup/connect4/6 and cgroup/sendmsg4/6 on the cgroup2 root run in the
 *   sender's context: connect() on a UDP socket, and every send that names
 *   its destination (sendto, sendmsg with an address). When the call passes
 *   the filters (destination, --pid, --uid, --cgroup, --comm, --netns and the
 *   exclusions), the socket's udp_owners record gets the sender's identity,
 *   filled as for a TCP attempt. They always allow the call (return 1).
 *   A send on a connected socket passes no sendmsg hook, so the connect hook
 *   is what names its sender.
 * - cgroup_skb/egress (udp_egress) sees each datagram of an owned socket, in
 *   the sender's context (a local UDP send transmits it), with its real
 *   endpoints. With --udp, the first datagram from a process (PID and start
 *   time) to a destination (address and port) is reported; the pairs already
 *   reported are kept in an LRU map, so a flood gives one record per
 *   (process, destination), whatever the number of sockets or packets. A
 *   pair evicted from a full map (more than udp_reported's size of live
 *   pairs) is reported again when it next sends. With --dns, every datagram
 *   to port 53 is parsed (lib/dns_capture.bpf.h).
 * - --netns is tested on the sending task's network namespace, which is the
 *   socket's unless the task moved (setns) after creating it: the cgroup
 *   hooks see no struct sock to read it from. The record's netns is that one.
 * Limits: a socket connected before connsnoop started, and never given an
 *   address on a send since, is not seen.
 */
#ifndef CONNSNOOP_LIB_UDP_SENDS_BPF_H
#define CONNSNOOP_LIB_UDP_SENDS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/connect_calls.bpf.h"
#include "lib/dns_capture.bpf.h"
#include "lib/filters.bpf.h"
#include "lib/record.bpf.h"
#include "lib/udp_owner.bpf.h"

/* --udp, fixed before load. */
const volatile bool udp_sends = false;

/* A destination a process sent to: its first datagram there was reported. */
struct udp_destination_key {
	__u64 start_boottime_ns; /* with tgid: the process, never a reused PID */
	__u32 tgid;
	__u16 family;
	__u16 dport;
	__u8 daddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, struct udp_destination_key);
	__type(value, __u8);
} udp_reported SEC(".maps");

/* A connect() or an addressed send on a UDP socket, in the sender's context:
 * own the socket when the call passes the filters. Always allows the call. */
static __always_inline int on_udp_call(struct bpf_sock_addr *ctx, bool ipv6, bool connect_call)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct connect_scratch *buf;
	struct udp_owner *owner;
	__u8 daddr[16] = {};
	__u16 family, dport;
	__u32 netns;

	if (ctx->type != SOCK_DGRAM || ctx->protocol != IPPROTO_UDP || !ctx->sk)
		return 1;
	if (!call_destination(ctx, ipv6, &family, daddr, &dport) || !destination_wanted(family, daddr, dport))
		return 1;
	if (!udp_sends && dport != CS_DNS_PORT)
		return 1; /* --dns alone: only queries are of interest */
	owner = bpf_sk_storage_get(&udp_owners, ctx->sk, 0, 0);
	if (owner && owner->record.pid == pid_tgid >> 32 && !connect_call)
		return 1; /* the usual case of a flood: known sender, already checked */
	if (!owner && !(dns_capture && dport == CS_DNS_PORT)) {
		/* --udp alone, and this process's first send there was reported: a
		 * flooder opening a socket per query need not be owned again */
		struct udp_destination_key key = {
			.start_boottime_ns = BPF_CORE_READ(task, group_leader, start_boottime),
			.tgid = pid_tgid >> 32,
			.family = family,
			.dport = dport,
		};

		__builtin_memcpy(key.daddr, daddr, sizeof(key.daddr));
		if (bpf_map_lookup_elem(&udp_reported, &key))
			return 1;
	}
	if (!caller_wanted(pid_tgid, uid_gid))
		return 1;
	netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	if (filter_netns && !bpf_map_lookup_elem(&netns_filter, &netns))
		return 1;
	owner = bpf_sk_storage_get(&udp_owners, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	buf = connect_scratch();
	if (!owner || !buf)
		return 1;
	/* the process fields, once per socket and sender; the argv read here
	 * is dropped (it is read again when a datagram leaves) */
	bpf_get_current_comm(buf->record.comm, sizeof(buf->record.comm));
	fill_task_fields(&buf->record, buf->argv, pid_tgid, uid_gid);
	buf->record.netns = netns;
	buf->record.argv_len = 0;
	__builtin_memcpy(&owner->record, &buf->record, sizeof(owner->record));
	return 1;
}

SEC("cgroup/connect4")
int udp_connect4(struct bpf_sock_addr *ctx)
{
	return on_udp_call(ctx, false, true);
}

SEC("cgroup/connect6")
int udp_connect6(struct bpf_sock_addr *ctx)
{
	return on_udp_call(ctx, true, true);
}

SEC("cgroup/sendmsg4")
int udp_sendmsg4(struct bpf_sock_addr *ctx)
{
	return on_udp_call(ctx, false, false);
}

SEC("cgroup/sendmsg6")
int udp_sendmsg6(struct bpf_sock_addr *ctx)
{
	return on_udp_call(ctx, true, false);
}

/* The first datagram of its process to its destination: report it. */
static __always_inline void report_first_send(const struct udp_owner *owner, const struct udp_datagram *dgram)
{
	struct udp_destination_key key = {
		.start_boottime_ns = owner->record.start_boottime_ns,
		.tgid = owner->record.pid,
		.family = dgram->family,
		.dport = dgram->dport,
	};
	struct connect_scratch *buf;
	__u8 seen = 1;

	__builtin_memcpy(key.daddr, dgram->daddr, sizeof(key.daddr));
	if (bpf_map_lookup_elem(&udp_reported, &key))
		return;
	if (!destination_wanted(dgram->family, dgram->daddr, dgram->dport))
		return;
	/* BPF_NOEXIST: of two CPUs sending the same pair at once, one reports */
	if (bpf_map_update_elem(&udp_reported, &key, &seen, BPF_NOEXIST) != 0)
		return;
	buf = connect_scratch();
	if (!buf)
		return;
	fill_from_owner(&buf->record, buf->argv, owner, dgram);
	buf->record.kind = CS_RECORD_UDP_SEND;
	emit_task_record(buf, sizeof(*buf), sizeof(buf->record), &buf->record);
}

/* Loaded with --udp or --dns; attached to the cgroup2 root. Always lets the
 * packet through. */
SEC("cgroup_skb/egress")
int udp_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct udp_datagram dgram;
	struct udp_owner *owner;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_UDP)
		return 1;
	owner = bpf_sk_storage_get(&udp_owners, sk, 0, 0);
	if (!owner || !read_udp_datagram(skb, &dgram))
		return 1;
	if (udp_sends)
		report_first_send(owner, &dgram);
	if (dns_capture)
		dns_on_datagram(skb, owner, &dgram);
	return 1;
}

#endif /* CONNSNOOP_LIB_UDP_SENDS_BPF_H */
