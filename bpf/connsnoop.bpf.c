// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of connsnoop: reports active TCP opens (CLOSE -> SYN_SENT on
 * sock:inet_sock_set_state) with the full argv of the connecting task, read
 * from its own memory at that moment, after in-kernel filtering.
 *
 * Why this hook: CLOSE -> SYN_SENT runs in the context of the task that
 * called connect(), for IPv4 and IPv6 alike, and is reachable without
 * kprobes, fentry or tracefs (tp_btf, with a raw_tp fallback).
 *
 * With outcome tracking (--outcome/--failed) each reported attempt is also
 * followed to its fate, correlated by socket: the same tracepoint reports
 * SYN_SENT -> ESTABLISHED / CLOSE (in softirq context, so never by current).
 * connect() calls that fail before a SYN leaves (ENETUNREACH, EPERM from a
 * policy, EADDRNOTAVAIL when the ephemeral ports ran out) show no socket
 * state that says why; only the syscall's return value does. Without
 * kprobes/fexit the one hook that sees it is the raw syscall exit
 * tracepoint, paired with syscall entry to learn the socket and destination.
 * Those two programs run on every syscall of the host, so they test the
 * syscall number first and are loaded only when outcomes are asked for.
 * (cgroup/connect4/6 runs only for inet connects but never sees the result,
 * so it could replace sys_enter at best, not sys_exit.)
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connsnoop_abi.h"
#include "http_capture.bpf.h"
#include "lib/arch.bpf.h"
#include "lib/events.bpf.h"
#include "lib/filters.bpf.h"
#include "lib/record.bpf.h"
#include "lib/socket.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* --outcome/--failed, fixed before load: follow each attempt to its fate. */
const volatile bool track_outcomes = false;

/* Attempts being followed, keyed by socket address. A fixed size (set by
 * user space): when it is full an attempt is reported as not followed and
 * counted, never guessed at. */
struct inflight_attempt {
	__u64 attempt_id;
	__u64 start_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct inflight_attempt);
} inflight SEC(".maps");

/* A connect() call in progress on an unconnected TCP socket that passed the
 * filters, per thread, from syscall entry to exit. LRU: a thread that never
 * returns cannot fill it. */
struct connect_call {
	__u64 sk;
	__u64 attempt_id; /* of the attempt this call started (0: none, or not followed) */
	__u64 start_ns;
	__u32 netns;
	__u16 family;
	__u16 dport;
	__u8 daddr[16];
	__u8 attempt_reported; /* CLOSE -> SYN_SENT happened inside this call */
	__u8 deferred; /* SYN_SENT -> CLOSE without a socket error inside this call: the return value says why */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct connect_call);
} connect_calls SEC(".maps");

/* Attempt ids are a per-CPU sequence number with the CPU in the low bits:
 * unique without atomics (no shared cache line on the hot path, and loads on
 * kernels without BPF atomic fetch-add). Never 0, which means "not followed". */
#define CS_ID_CPU_BITS 12
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} attempt_sequence SEC(".maps");

static __always_inline __u64 new_attempt_id(void)
{
	__u32 zero = 0;
	__u64 *sequence = bpf_map_lookup_elem(&attempt_sequence, &zero);

	if (!sequence)
		return 0;
	*sequence += 1; /* per-CPU slot, and programs here do not migrate */
	return (*sequence << CS_ID_CPU_BITS) | (bpf_get_smp_processor_id() & ((1 << CS_ID_CPU_BITS) - 1));
}

static __always_inline void output_outcome(__u64 attempt_id, __u32 state, __u32 error, __u64 start_ns, __u16 sport)
{
	struct cs_outcome_record out = {
		.kind = CS_RECORD_OUTCOME,
		.state = state,
		.attempt_id = attempt_id,
		.error = error,
		.sport = sport,
	};

	out.timestamp_ns = bpf_ktime_get_ns();
	out.latency_ns = out.timestamp_ns - start_ns;
	output_record(&out, sizeof(out));
}

/* Starts following a reported attempt; the record learns its id (0 and a
 * flag when the in-flight map is full). */
static __always_inline void follow_attempt(const struct sock *sk, __u64 pid_tgid, struct cs_connect_record *rec)
{
	struct inflight_attempt attempt = { .start_ns = rec->timestamp_ns };
	__u64 key = (__u64)sk;
	struct connect_call *call;

	attempt.attempt_id = new_attempt_id();
	/* BPF_ANY: a stale entry for a reused socket address is replaced; a new
	 * key in a full map fails with E2BIG. */
	if (attempt.attempt_id != 0 && bpf_map_update_elem(&inflight, &key, &attempt, BPF_ANY) == 0) {
		rec->attempt_id = attempt.attempt_id;
	} else {
		rec->flags |= CS_OUTCOME_UNTRACKED;
		count_stat(CS_STAT_UNTRACKED_OUTCOMES);
	}
	call = bpf_map_lookup_elem(&connect_calls, &pid_tgid);
	if (call && call->sk == key) {
		call->attempt_reported = 1;
		call->attempt_id = rec->attempt_id;
	}
}

/* SYN_SENT (or SYN_RECV, after a simultaneous open) -> ESTABLISHED / CLOSE
 * of a followed socket. Often softirq: current is unrelated. */
static __always_inline int on_attempt_end(const struct sock *sk, int newstate)
{
	struct inflight_attempt *found, attempt;
	__u64 key = (__u64)sk;
	__u64 pid_tgid;
	struct connect_call *call;
	__u32 error;

	if (newstate != TCP_ESTABLISHED && newstate != TCP_CLOSE)
		return 0; /* SYN_SENT -> SYN_RECV: still in flight */
	found = bpf_map_lookup_elem(&inflight, &key);
	if (!found)
		return 0; /* not an attempt we reported */
	attempt = *found;
	if (bpf_map_delete_elem(&inflight, &key) != 0)
		return 0; /* resolved concurrently: report once */

	if (newstate == TCP_ESTABLISHED) {
		output_outcome(attempt.attempt_id, CS_OUTCOME_ESTABLISHED, 0, attempt.start_ns,
		               BPF_CORE_READ(sk, __sk_common.skc_num));
		return 0;
	}
	error = BPF_CORE_READ(sk, sk_err);
	if (error == 0) {
		/* No socket error: either its owner closed it, or connect() itself gave
		 * up (no ephemeral port left) and its return value, seen at syscall
		 * exit, says why. */
		pid_tgid = bpf_get_current_pid_tgid();
		call = bpf_map_lookup_elem(&connect_calls, &pid_tgid);
		if (call && call->sk == key) {
			call->deferred = 1;
			call->attempt_id = attempt.attempt_id;
			call->start_ns = attempt.start_ns;
			return 0;
		}
	}
	output_outcome(attempt.attempt_id, CS_OUTCOME_CLOSED, error, attempt.start_ns,
	               BPF_CORE_READ(sk, __sk_common.skc_num));
	return 0;
}

static __always_inline int on_state_change(const struct sock *sk, int oldstate, int newstate)
{
	struct connect_scratch *buf;
	struct cs_connect_record *rec;
	__u64 pid_tgid, uid_gid;

	if (http_capture && newstate == TCP_CLOSE)
		http_forget_socket(sk);
	if (track_outcomes && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV))
		return on_attempt_end(sk, newstate);
	if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	pid_tgid = bpf_get_current_pid_tgid();
	uid_gid = bpf_get_current_uid_gid();
	if (!task_wanted(pid_tgid >> 32, (__u32)uid_gid))
		return 0;

	buf = connect_scratch();
	if (!buf)
		return 0;
	rec = &buf->record;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	if (filter_comm && !comm_matches(rec->comm))
		return 0;
	if (!read_endpoints(sk, rec))
		return 0;
	if (!destination_wanted(rec->family, rec->daddr, rec->dport))
		return 0;

	rec->kind = CS_RECORD_CONNECT;
	rec->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	fill_task_fields(rec, buf->argv, pid_tgid, uid_gid);
	if (track_outcomes)
		follow_attempt(sk, pid_tgid, rec);
	if (http_capture)
		http_watch_socket(sk, rec->dport);
	emit_task_record(buf, sizeof(*buf), sizeof(*rec), rec);
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

/* ---- connect() calls, for failures before any SYN (outcome tracking only) ---- */

/* The destination connect() was given, from the caller's memory. */
static __always_inline bool read_destination(const void *uaddr, struct connect_call *call)
{
	struct sockaddr_in6 sin6 = {};
	__u16 family = 0;

	if (!uaddr || bpf_probe_read_user(&family, sizeof(family), uaddr) != 0)
		return false;
	if (family == CS_AF_INET) {
		struct sockaddr_in sin = {};

		if (bpf_probe_read_user(&sin, sizeof(sin), uaddr) != 0)
			return false;
		call->family = CS_AF_INET;
		call->dport = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(call->daddr, &sin.sin_addr, 4);
		return true;
	}
	if (family != CS_AF_INET6 || bpf_probe_read_user(&sin6, sizeof(sin6), uaddr) != 0)
		return false;
	call->dport = bpf_ntohs(sin6.sin6_port);
	__builtin_memcpy(call->daddr, &sin6.sin6_addr, 16);
	if (is_v4_mapped(call->daddr)) {
		call->family = CS_AF_INET;
		__builtin_memcpy(call->daddr, &call->daddr[12], 4);
		__builtin_memset(&call->daddr[4], 0, 12);
	} else {
		call->family = CS_AF_INET6;
	}
	return true;
}

/* connect(fd, addr, len) entered: remember it when fd is an unconnected TCP
 * socket and the call passes the same filters as attempts. */
static __always_inline int on_connect_enter(struct pt_regs *regs)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct connect_call call = {};
	char comm[CS_COMM_LEN];
	struct socket *sock;
	struct sock *sk;

	if (!task_wanted(pid_tgid >> 32, (__u32)uid_gid))
		return 0;
	if (filter_comm) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (!comm_matches(comm))
			return 0;
	}
	sock = socket_of_fd((int)PT_REGS_PARM1_CORE_SYSCALL(regs));
	if (!sock)
		return 0;
	/* SS_UNCONNECTED: a fresh attempt, not a repeated connect() asking how an
	 * earlier non-blocking one went. */
	if (BPF_CORE_READ(sock, state) != SS_UNCONNECTED || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (!read_destination((const void *)PT_REGS_PARM2_CORE_SYSCALL(regs), &call))
		return 0;
	if (!destination_wanted(call.family, call.daddr, call.dport))
		return 0;
	call.sk = (__u64)sk;
	call.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	bpf_map_update_elem(&connect_calls, &pid_tgid, &call, BPF_ANY);
	return 0;
}

/* connect() returned: report a failure that no socket state explains. */
static __always_inline int on_connect_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct connect_call *call = bpf_map_lookup_elem(&connect_calls, &pid_tgid);
	struct cs_connect_record *rec;
	struct connect_scratch *buf;

	if (!call)
		return 0;
	if (call->deferred) {
		/* SYN_SENT -> CLOSE inside the call, without a socket error */
		output_outcome(call->attempt_id, CS_OUTCOME_CONNECT_FAILED, ret < 0 ? (__u32)-ret : 0, call->start_ns,
		               0);
	} else if (!call->attempt_reported && ret < 0 && ret != -CS_EINPROGRESS) {
		/* no SYN_SENT at all: the call failed before any packet */
		buf = connect_scratch();
		if (buf) {
			rec = &buf->record;
			bpf_get_current_comm(rec->comm, sizeof(rec->comm));
			fill_task_fields(rec, buf->argv, pid_tgid, bpf_get_current_uid_gid());
			rec->kind = CS_RECORD_CONNECT_FAILED;
			rec->error = (__u32)-ret;
			rec->netns = call->netns;
			rec->family = call->family;
			rec->sport = 0;
			rec->dport = call->dport;
			__builtin_memset(rec->saddr, 0, sizeof(rec->saddr));
			__builtin_memcpy(rec->daddr, call->daddr, sizeof(rec->daddr));
			emit_task_record(buf, sizeof(*buf), sizeof(*rec), rec);
		}
	}
	bpf_map_delete_elem(&connect_calls, &pid_tgid);
	return 0;
}

/* Loaded only with outcome tracking, in the variant matching the state hook.
 * They run on every syscall: the number is tested first. */
SEC("tp_btf/sys_enter")
int BPF_PROG(connect_enter_tp_btf, struct pt_regs *regs, long id)
{
	if (id != CS_NR_CONNECT)
		return 0;
	return on_connect_enter(regs);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(connect_exit_tp_btf, struct pt_regs *regs, long ret)
{
	if (syscall_nr_of(regs) != CS_NR_CONNECT) /* a direct load: regs is typed */
		return 0;
	return on_connect_exit(ret);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(connect_enter_raw_tp, struct pt_regs *regs, long id)
{
	if (id != CS_NR_CONNECT)
		return 0;
	return on_connect_enter(regs);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(connect_exit_raw_tp, struct pt_regs *regs, long ret)
{
	if (BPF_CORE_READ(regs, syscall_nr_field) != CS_NR_CONNECT)
		return 0;
	return on_connect_exit(ret);
}
