/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who owns a socket, kept with the socket itself (socket-local storage,
 * BPF_MAP_TYPE_SK_STORAGE): written in the owner's context at connect()
 * through the cgroup connect hooks, read later by cgroup programs wherever
 * the socket shows up (packets in softirq), and freed by the kernel with the
 * socket. Nothing runs per system call.
 *
 * Only cgroup programs use it: tracing programs (tp_btf, raw_tp) may call
 * bpf_sk_storage_get only from 5.11 on, so what they need per socket is kept
 * in hash maps keyed by the socket's cookie (socket_cookie() in
 * lib/socket.bpf.h), which the connect hooks make sure exists.
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
	/* --http: connect() to an HTTP port passed the filters; the socket's
	 * packets are looked up in http_streams (cgroup_skb/egress) */
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
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct socket_owner);
} socket_owners SEC(".maps");

#endif /* CONNSNOOP_LIB_SOCKET_OWNER_BPF_H */
