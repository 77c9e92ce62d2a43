/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who sends on a UDP socket (--udp, --dns), kept with the socket itself
 * (socket-local storage), and the endpoints of an outgoing datagram.
 *
 * The owner is written in the sender's context by the cgroup connect and
 * sendmsg hooks, after the filters passed; cgroup_skb/egress, which sees the
 * datagram but may not call the current-task helpers, names the sender from
 * it. Only sockets that passed the filters get one.
 */
#ifndef CONNSNOOP_LIB_UDP_OWNER_BPF_H
#define CONNSNOOP_LIB_UDP_OWNER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/record.bpf.h"
#include "lib/task.bpf.h"

struct udp_owner {
	/* the sending process as the hook saw it (argv not included: read again
	 * when the datagram leaves in the same process) */
	struct cs_connect_record record;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct udp_owner);
} udp_owners SEC(".maps");

/* The endpoints of an outgoing UDP datagram and where its payload starts. */
struct udp_datagram {
	__u16 family; /* CS_AF_INET or CS_AF_INET6 */
	__u16 sport;  /* host order */
	__u16 dport;
	__u16 reserved;
	__u32 payload_at; /* offset of the UDP payload in the packet */
	__u32 payload_len;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* False for a packet that is not UDP over IPv4 or IPv6. The packet starts at
 * its IP header; a locally sent datagram carries no IPv6 extension header. */
static __always_inline bool read_udp_datagram(struct __sk_buff *skb, struct udp_datagram *out)
{
	struct udphdr udp;
	__u32 ip_len;
	__u8 byte = 0;

	if (bpf_skb_load_bytes(skb, 0, &byte, 1) != 0)
		return false;
	if ((byte >> 4) == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) != 0 || ip.protocol != IPPROTO_UDP)
			return false;
		ip_len = (ip.ihl & 0xf) * 4;
		out->family = CS_AF_INET;
		__builtin_memset(out->saddr, 0, sizeof(out->saddr));
		__builtin_memset(out->daddr, 0, sizeof(out->daddr));
		__builtin_memcpy(out->saddr, &ip.saddr, 4);
		__builtin_memcpy(out->daddr, &ip.daddr, 4);
	} else if ((byte >> 4) == 6) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) != 0 || ip6.nexthdr != IPPROTO_UDP)
			return false;
		ip_len = sizeof(ip6);
		out->family = CS_AF_INET6;
		__builtin_memcpy(out->saddr, &ip6.saddr, 16);
		__builtin_memcpy(out->daddr, &ip6.daddr, 16);
	} else {
		return false;
	}
	if (bpf_skb_load_bytes(skb, ip_len, &udp, sizeof(udp)) != 0)
		return false;
	out->sport = bpf_ntohs(udp.source);
	out->dport = bpf_ntohs(udp.dest);
	out->payload_at = ip_len + sizeof(udp);
	out->payload_len = skb->len > out->payload_at ? skb->len - out->payload_at : 0;
	return true;
}

/* The record of a datagram of this owner: the owner's process fields, the
 * datagram's endpoints, and the argv read again when the datagram leaves in
 * a thread of the owner (the usual case: the send transmits it); else none. */
static __always_inline void fill_from_owner(struct cs_connect_record *rec, char *argv_out,
                                            const struct udp_owner *owner, const struct udp_datagram *dgram)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	__builtin_memcpy(rec, &owner->record, sizeof(*rec));
	rec->timestamp_ns = bpf_ktime_get_ns();
	rec->family = dgram->family;
	rec->sport = dgram->sport;
	rec->dport = dgram->dport;
	__builtin_memcpy(rec->saddr, dgram->saddr, sizeof(rec->saddr));
	__builtin_memcpy(rec->daddr, dgram->daddr, sizeof(rec->daddr));
	if (BPF_CORE_READ(task, tgid) == owner->record.pid) {
		rec->tid = BPF_CORE_READ(task, pid);
		rec->flags &= ~(CS_ARGV_TRUNCATED | CS_ARGV_UNREADABLE | CS_ARGV_REWRITTEN);
		rec->argv_len =
			read_current_argv(argv_out, CS_ARGV_CAPACITY, argv_max, true, &rec->flags, &rec->argv_area_len);
	} else {
		rec->argv_len = 0;
		rec->flags |= CS_ARGV_UNREADABLE;
	}
}

#endif /* CONNSNOOP_LIB_UDP_OWNER_BPF_H */
