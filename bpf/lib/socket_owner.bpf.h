/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who owns a socket, kept with the socket itself (socket-local storage,
 * BPF_MAP_TYPE_SK_STORAGE): written in the owner's context (at connect()
 * through the cgroup connect hooks, or at CLOSE -> SYN_SENT), read later
 * wherever the socket shows up (packets in softirq, state changes, close),
 * and freed by the kernel with the socket. Nothing runs per system call.
 *
 * Only sockets connsnoop watches get a record (created on purpose, never by
 * a lookup), so a socket without one costs a failed lookup and nothing more.
 * Kernel-only: user space never reads this map.
 */
#ifndef CONNSNOOP_LIB_SOCKET_OWNER_BPF_H
#define CONNSNOOP_LIB_SOCKET_OWNER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"

enum socket_owner_flags {
	/* connect() passed the filters and has not (yet) made the socket send a
	 * SYN: if the socket is closed in this state, the call failed before any
	 * packet left */
	SOCKET_CONNECT_PENDING = 1 << 0,
	/* --http: request heads on this socket are parsed (cgroup_skb/egress) */
	SOCKET_HTTP_WATCHED = 1 << 1,
};

struct socket_owner {
	__u32 flags;      /* enum socket_owner_flags */
	__u32 tgid;       /* of the task that connected */
	__u64 connect_ns; /* when connect() was called (CLOCK_MONOTONIC) */
	__u16 family;     /* of the destination connect() was given (v4-mapped as CS_AF_INET) */
	__u16 dport;      /* host order */
	__u32 reserved;
	__u8 daddr[16];
	/* --http: the key of the socket's head in http_streams, and the TCP
	 * sequence number of the next payload byte not seen yet (so that a
	 * retransmitted segment is not parsed twice) */
	__u64 stream_id;
	__u32 next_seq;
	__u32 seq_known;
	/* --http: the connecting task, as reported at CLOSE -> SYN_SENT: names
	 * the sender of a head that leaves in softirq context (a segment Nagle
	 * held until an ACK came), where current is some unrelated task */
	struct cs_connect_record owner;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct socket_owner);
} socket_owners SEC(".maps");

#endif /* CONNSNOOP_LIB_SOCKET_OWNER_BPF_H */
