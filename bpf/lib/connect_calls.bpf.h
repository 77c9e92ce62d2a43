/* SPDX-License-Identifier: GPL-2.0 */
/*
 * connect() calls that fail before any SYN leaves (--outcome), without a
 * hook on every system call of the host; and the sockets whose packets
 * --http reads.
 *
 * - cgroup/connect4 and connect6, attached to the cgroup2 root, run in the
 *   caller's context at the start of every inet connect(), before routing
 *   and port selection. A TCP connect that passes the filters is entered in
 *   pending_connects under the socket's cookie, with its destination and
 *   time (--outcome), and, when its port is an HTTP port, marked
 *   SOCKET_HTTP_WATCHED in socket_owners (--http). These programs always
 *   allow the call (return 1): they watch, never decide.
 * - CLOSE -> SYN_SENT (the attempt record) removes the entry.
 * - A socket destroyed with its entry still there made a connect() that sent
 *   nothing: tcp:tcp_destroy_sock, in the closing task's context, reports it
 *   as a failed call (CS_RECORD_CONNECT_FAILED) and removes the entry, so
 *   none outlives its socket. The map is a hash keyed by cookie, not
 *   socket-local storage, because those two are tracing programs (see
 *   lib/socket_owner.bpf.h); when it is full, a call's failure before a SYN
 *   would be missed, and the call is counted (CS_STAT_UNWATCHED_CALLS).
 * - SYN_SENT -> CLOSE without a socket error while the socket is still
 *   SS_UNCONNECTED happens only inside connect() (the call gave up after
 *   SYN_SENT: no ephemeral port left, or no buffer for the SYN); it is that
 *   attempt's outcome (CS_OUTCOME_CONNECT_FAILED).
 *
 * The errno: only the call's return value says it, and no hook short of
 * the syscall exit (which every syscall pays for) sees that. So it is read
 * from what the kernel leaves on the socket, and left 0 (unknown) when that
 * says nothing:
 * - ENETUNREACH: the route lookup failed. tcp_v4_connect writes the flow it
 *   routes into inet->cork.fl before the lookup; tcp_v6_connect sets
 *   sk_v6_daddr before the lookup and clears inet_dport when it fails. (An
 *   unreachable/prohibit/blackhole route, EHOSTUNREACH/EACCES/EINVAL from
 *   the call, reads the same.)
 * - EADDRNOTAVAIL: SYN_SENT -> CLOSE inside the call with no local port
 *   chosen: inet_hash_connect found none.
 * Limits: a socket that is never closed, or connect()ed again after a
 * failure, reports the failure late or not at all.
 */
#ifndef CONNSNOOP_LIB_CONNECT_CALLS_BPF_H
#define CONNSNOOP_LIB_CONNECT_CALLS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connsnoop_abi.h"
#include "lib/events.bpf.h"
#include "lib/filters.bpf.h"
#include "lib/record.bpf.h"
#include "lib/socket.bpf.h"
#include "lib/socket_owner.bpf.h"

/* Not in vmlinux.h (macros); the same values on every Linux architecture we build for. */
#define CS_ENETUNREACH 101
#define CS_EADDRNOTAVAIL 99

/* --outcome, fixed before load: follow each attempt to its fate. */
const volatile bool track_outcomes = false;
/* --http, fixed before load: parse request heads sent on watched connections. */
const volatile bool http_capture = false;

/* A connect() that passed the filters and has not (yet) made its socket send
 * a SYN. */
struct pending_connect {
	__u64 connect_ns; /* when connect() was called (CLOCK_MONOTONIC) */
	__u16 family;     /* of the destination connect() was given (v4-mapped as CS_AF_INET) */
	__u16 dport;      /* host order */
	__u32 reserved;
	__u8 daddr[16];
};

/* Keyed by socket cookie; sized by user space (one entry without --outcome). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct pending_connect);
} pending_connects SEC(".maps");

/* Destination ports whose connections --http watches (80 and --http-port). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u16);
	__type(value, __u8);
} http_ports SEC(".maps");

/* The destination of a connect() as the cgroup hook sees it; false for other
 * families. ipv6: the connect6 hook (each may read only its own fields). */
static __always_inline bool call_destination(const struct bpf_sock_addr *ctx, bool ipv6, __u16 *family, __u8 daddr[16],
                                             __u16 *dport)
{
	__u32 port = ctx->user_port; /* network order in the low 16 bits */

	*dport = bpf_ntohs((__u16)port);
	if (!ipv6) {
		__u32 ip4 = ctx->user_ip4;

		*family = CS_AF_INET;
		__builtin_memcpy(daddr, &ip4, 4);
		return ctx->user_family == CS_AF_INET;
	}
	if (ctx->user_family != CS_AF_INET6)
		return false;
	((__u32 *)daddr)[0] = ctx->user_ip6[0];
	((__u32 *)daddr)[1] = ctx->user_ip6[1];
	((__u32 *)daddr)[2] = ctx->user_ip6[2];
	((__u32 *)daddr)[3] = ctx->user_ip6[3];
	if (is_v4_mapped(daddr)) {
		*family = CS_AF_INET;
		__builtin_memcpy(daddr, &daddr[12], 4);
		__builtin_memset(&daddr[4], 0, 12);
	} else {
		*family = CS_AF_INET6;
	}
	return true;
}

/* --http: the socket's packets will be read (its record in socket_owners). */
static __always_inline void watch_http_socket(struct bpf_sock *sk, __u32 tgid, __u16 family, const __u8 daddr[16],
                                              __u16 dport)
{
	struct socket_owner *owner;

	if (!bpf_map_lookup_elem(&http_ports, &dport))
		return;
	owner = bpf_sk_storage_get(&socket_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!owner)
		return;
	owner->flags |= SOCKET_HTTP_WATCHED;
	owner->tgid = tgid;
	owner->connect_ns = bpf_ktime_get_ns();
	owner->family = family;
	owner->dport = dport;
	__builtin_memcpy(owner->daddr, daddr, sizeof(owner->daddr));
}

/* A TCP connect() starting in the caller's context: take the socket on when
 * the call passes the same filters as attempts. Always allows the call. */
static __always_inline int on_connect_call(struct bpf_sock_addr *ctx, bool ipv6)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct pending_connect call = {};
	struct bpf_sock *sk = ctx->sk;
	__u64 cookie;
	__u8 daddr[16] = {};
	__u16 family, dport;

	if (ctx->type != SOCK_STREAM || ctx->protocol != IPPROTO_TCP || !sk)
		return 1;
	if (!call_destination(ctx, ipv6, &family, daddr, &dport) || !destination_wanted(family, daddr, dport))
		return 1;
	if (!caller_wanted(pid_tgid, uid_gid))
		return 1;
	/* made here if nothing asked before: the tracing programs read it */
	cookie = bpf_get_socket_cookie(ctx);
	if (http_capture)
		watch_http_socket(sk, pid_tgid >> 32, family, daddr, dport);
	if (!track_outcomes)
		return 1;
	call.connect_ns = bpf_ktime_get_ns();
	call.family = family;
	call.dport = dport;
	__builtin_memcpy(call.daddr, daddr, sizeof(call.daddr));
	/* BPF_ANY: a second connect() on the same socket replaces the first */
	if (bpf_map_update_elem(&pending_connects, &cookie, &call, BPF_ANY) != 0)
		count_stat(CS_STAT_UNWATCHED_CALLS);
	return 1;
}

SEC("cgroup/connect4")
int connect4_watch(struct bpf_sock_addr *ctx)
{
	return on_connect_call(ctx, false);
}

SEC("cgroup/connect6")
int connect6_watch(struct bpf_sock_addr *ctx)
{
	return on_connect_call(ctx, true);
}

/* CLOSE -> SYN_SENT of a reported attempt: its connect() got a SYN out. */
static __always_inline void connect_sent_syn(const struct sock *sk)
{
	__u64 cookie = socket_cookie(sk);

	if (cookie != 0)
		bpf_map_delete_elem(&pending_connects, &cookie);
}

/* Did the call get as far as a failed route lookup? (see the top of the file) */
static __always_inline bool route_lookup_failed(const struct sock *sk, const struct pending_connect *call)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;
	__u8 daddr[16] = {};
	__u32 cork_daddr;

	if (call->family == CS_AF_INET) {
		/* IPv4, or a v4-mapped destination on an IPv6 socket: both route
		 * through tcp_v4_connect */
		cork_daddr = BPF_CORE_READ(inet, cork.fl.u.ip4.daddr);
		return cork_daddr == *(const __u32 *)call->daddr;
	}
	BPF_CORE_READ_INTO(&daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	return ((const __u64 *)daddr)[0] == ((const __u64 *)call->daddr)[0] &&
	       ((const __u64 *)daddr)[1] == ((const __u64 *)call->daddr)[1] &&
	       BPF_CORE_READ(sk, __sk_common.skc_dport) == 0;
}

/* A socket is destroyed (tcp:tcp_destroy_sock): if its connect() never sent
 * a SYN, report the call as failed, in the closing task's context. */
static __always_inline void on_socket_destroyed(const struct sock *sk)
{
	struct pending_connect call, *found;
	struct cs_connect_record *rec;
	struct connect_scratch *buf;
	__u64 cookie = socket_cookie(sk);

	if (cookie == 0)
		return; /* no connect hook took this socket on */
	found = bpf_map_lookup_elem(&pending_connects, &cookie);
	if (!found)
		return;
	call = *found;
	if (bpf_map_delete_elem(&pending_connects, &cookie) != 0)
		return; /* reported concurrently: once */
	/* the connect hook sees no struct sock to check --netns on: it is checked here */
	if (!netns_wanted(sk))
		return;
	buf = connect_scratch();
	if (!buf)
		return;
	rec = &buf->record;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	fill_task_fields(rec, buf->argv, bpf_get_current_pid_tgid(), bpf_get_current_uid_gid());
	rec->kind = CS_RECORD_CONNECT_FAILED;
	rec->timestamp_ns = call.connect_ns; /* when the call was made, not the close */
	rec->error = route_lookup_failed(sk, &call) ? CS_ENETUNREACH : 0;
	rec->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	rec->family = call.family;
	rec->sport = 0;
	rec->dport = call.dport;
	__builtin_memset(rec->saddr, 0, sizeof(rec->saddr));
	__builtin_memcpy(rec->daddr, call.daddr, sizeof(rec->daddr));
	emit_task_record(buf, sizeof(*buf), sizeof(*rec), rec);
}

/* Preferred: BTF-typed tracepoint, no tracefs needed. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(connect_failure_tp_btf, struct sock *sk)
{
	on_socket_destroyed(sk);
	return 0;
}

/* Fallback where tp_btf is refused; same argument, read through CO-RE. */
SEC("raw_tp/tcp_destroy_sock")
int BPF_PROG(connect_failure_raw_tp, struct sock *sk)
{
	on_socket_destroyed(sk);
	return 0;
}

/* SYN_SENT -> CLOSE without a socket error: inside connect() (the socket is
 * still SS_UNCONNECTED there), or its owner closing or disconnecting it. */
static __always_inline bool closed_inside_connect(const struct sock *sk)
{
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);

	return sock && BPF_CORE_READ(sock, state) == SS_UNCONNECTED;
}

/* The errno of a connect() that gave up after SYN_SENT; 0 when unknown. */
static __always_inline __u32 connect_error_after_syn_sent(const struct sock *sk)
{
	/* no local port was chosen: inet_hash_connect failed */
	return BPF_CORE_READ(sk, __sk_common.skc_num) == 0 ? CS_EADDRNOTAVAIL : 0;
}

#endif /* CONNSNOOP_LIB_CONNECT_CALLS_BPF_H */
