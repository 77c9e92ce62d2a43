/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The link-local budget (connsnoop linklocal): packets and bytes to and from
 * the link-local services (metadata, DNS, time), per owning process, TCP and
 * UDP, IPv4 and IPv6, counted in the kernel and read once per interval.
 *
 * - cgroup/connect4/6 and cgroup/sendmsg4/6 on the cgroup2 root run in the
 *   caller's context when a socket is connected to a service address (TCP,
 *   connected UDP) or sends a datagram to one (unconnected UDP). They record
 *   the caller in the socket's local storage (linklocal_owners).
 * - cgroup_skb/egress and ingress on the same root see every packet of every
 *   socket, also in softirq (ACKs, retransmits, replies): a packet whose far
 *   end is a service address is credited to the owner stored with its
 *   socket. Other packets cost a trie lookup and nothing more.
 * - A socket with no owner recorded (connected before connsnoop started) is
 *   counted under tgid 0, "unknown": cgroup_skb programs cannot tell process
 *   context from softirq, so no owner is guessed from current.
 *
 * Counters are per-CPU, keyed by owner, service, protocol and direction, and
 * only ever grow; user space reads them each interval and subtracts.
 */
#ifndef CONNSNOOP_LIB_LINKLOCAL_BPF_H
#define CONNSNOOP_LIB_LINKLOCAL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/connect_calls.bpf.h"
#include "lib/filters.bpf.h"

#define CS_ETH_P_IP 0x0800
#define CS_ETH_P_IPV6 0x86DD

/* The service addresses: defaults and --dst, sized by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cs_lpm_v4_key);
	__type(value, struct cs_linklocal_service);
} linklocal_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cs_lpm_v6_key);
	__type(value, struct cs_linklocal_service);
} linklocal_v6 SEC(".maps");

/* Who owns a socket that talks to a service; set in the owner's context. */
struct linklocal_owner {
	__u32 tgid;
	__u32 uid;
	__u32 gid;
	__u32 wanted; /* passed --pid/--uid/--comm/--netns when recorded */
	__u64 cgroup_id;
	char comm[CS_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct linklocal_owner);
} linklocal_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, struct cs_linklocal_key);
	__type(value, struct cs_linklocal_count);
} linklocal_counts SEC(".maps");

/* Packets that found linklocal_counts full: counted, never silently lost. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_linklocal_count);
} linklocal_uncounted SEC(".maps");

static __always_inline bool linklocal_service_v4(__u32 addr, __u16 *service)
{
	struct cs_lpm_v4_key key = { .prefixlen = 32 };
	struct cs_linklocal_service *found;

	__builtin_memcpy(key.addr, &addr, 4);
	found = bpf_map_lookup_elem(&linklocal_v4, &key);
	if (!found)
		return false;
	*service = (__u16)found->index;
	return true;
}

static __always_inline bool linklocal_service_v6(const __u8 addr[16], __u16 *service)
{
	struct cs_lpm_v6_key key = { .prefixlen = 128 };
	struct cs_linklocal_service *found;

	__builtin_memcpy(key.addr, addr, 16);
	found = bpf_map_lookup_elem(&linklocal_v6, &key);
	if (!found)
		return false;
	*service = (__u16)found->index;
	return true;
}

/* The owner filters that can be checked where the owner is recorded. */
static __always_inline bool linklocal_owner_wanted(__u32 tgid, __u32 uid, const char comm[CS_COMM_LEN])
{
	if (!task_wanted(tgid, uid))
		return false;
	if ((filter_comm || exclude_comm) && !comm_wanted(comm))
		return false;
	if (filter_netns) {
		/* the caller's namespace: the socket's, short of setns() after socket() */
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		__u32 inum = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);

		if (!bpf_map_lookup_elem(&netns_filter, &inum))
			return false;
	}
	return true;
}

/* connect() or sendto() towards a service: the caller owns the socket from now on. */
static __always_inline int linklocal_claim(struct bpf_sock_addr *ctx, bool ipv6)
{
	struct linklocal_owner *owner;
	__u8 daddr[16] = {};
	__u16 family, dport, service;
	__u64 pid_tgid;
	__u64 uid_gid;

	if (!ctx->sk || (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP))
		return 1;
	if (!call_destination(ctx, ipv6, &family, daddr, &dport))
		return 1;
	if (family == CS_AF_INET ? !linklocal_service_v4(*(__u32 *)daddr, &service)
	                         : !linklocal_service_v6(daddr, &service))
		return 1;
	owner = bpf_sk_storage_get(&linklocal_owners, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!owner)
		return 1;
	pid_tgid = bpf_get_current_pid_tgid();
	if (owner->tgid == pid_tgid >> 32)
		return 1; /* the next datagram of the same sender: nothing to do */
	uid_gid = bpf_get_current_uid_gid();
	owner->tgid = pid_tgid >> 32;
	owner->uid = (__u32)uid_gid;
	owner->gid = uid_gid >> 32;
	owner->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(owner->comm, sizeof(owner->comm));
	owner->wanted = linklocal_owner_wanted(owner->tgid, owner->uid, owner->comm);
	return 1;
}

SEC("cgroup/connect4")
int linklocal_connect4(struct bpf_sock_addr *ctx)
{
	return linklocal_claim(ctx, false);
}

SEC("cgroup/connect6")
int linklocal_connect6(struct bpf_sock_addr *ctx)
{
	return linklocal_claim(ctx, true);
}

SEC("cgroup/sendmsg4")
int linklocal_sendmsg4(struct bpf_sock_addr *ctx)
{
	return linklocal_claim(ctx, false);
}

SEC("cgroup/sendmsg6")
int linklocal_sendmsg6(struct bpf_sock_addr *ctx)
{
	return linklocal_claim(ctx, true);
}

/* True when the packet's far end is a service; sets which one. */
static __always_inline bool linklocal_packet_service(struct __sk_buff *skb, bool egress, __u16 *service)
{
	if (skb->protocol == bpf_htons(CS_ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) != 0)
			return false;
		return linklocal_service_v4(egress ? ip.daddr : ip.saddr, service);
	}
	if (skb->protocol == bpf_htons(CS_ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) != 0)
			return false;
		return linklocal_service_v6(egress ? ip6.daddr.in6_u.u6_addr8 : ip6.saddr.in6_u.u6_addr8, service);
	}
	return false;
}

static __always_inline int linklocal_count(struct __sk_buff *skb, bool egress)
{
	struct cs_linklocal_key key = {};
	struct cs_linklocal_count *count;
	struct linklocal_owner *owner;
	struct bpf_sock *sk = skb->sk;
	__u32 segments;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || (sk->protocol != IPPROTO_TCP && sk->protocol != IPPROTO_UDP))
		return 1;
	if (!linklocal_packet_service(skb, egress, &key.service))
		return 1;
	key.protocol = sk->protocol;
	key.direction = egress ? CS_LINKLOCAL_SENT : CS_LINKLOCAL_RECEIVED;
	owner = bpf_sk_storage_get(&linklocal_owners, sk, 0, 0);
	if (owner) {
		if (!owner->wanted)
			return 1;
		key.tgid = owner->tgid;
		key.uid = owner->uid;
		key.gid = owner->gid;
		key.cgroup_id = owner->cgroup_id;
		__builtin_memcpy(key.comm, owner->comm, sizeof(key.comm));
	} else if (filter_pid || filter_uid || filter_comm || exclude_comm || filter_netns) {
		return 1; /* an unknown owner cannot be said to pass the filters */
	}

	segments = skb->gso_segs;
	if (segments == 0)
		segments = 1;
	count = bpf_map_lookup_elem(&linklocal_counts, &key);
	if (!count) {
		struct cs_linklocal_count zero = {};

		bpf_map_update_elem(&linklocal_counts, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&linklocal_counts, &key);
	}
	if (!count) {
		__u32 index = 0;

		count = bpf_map_lookup_elem(&linklocal_uncounted, &index);
		if (!count)
			return 1;
	}
	/* atomic: a reply in softirq may interrupt a send on this CPU */
	__sync_fetch_and_add(&count->packets, segments);
	__sync_fetch_and_add(&count->bytes, skb->len);
	return 1;
}

SEC("cgroup_skb/egress")
int linklocal_egress(struct __sk_buff *skb)
{
	return linklocal_count(skb, true);
}

SEC("cgroup_skb/ingress")
int linklocal_ingress(struct __sk_buff *skb)
{
	return linklocal_count(skb, false);
}

#endif /* CONNSNOOP_LIB_LINKLOCAL_BPF_H */
