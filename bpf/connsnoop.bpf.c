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
 * connect() calls that fail before a SYN leaves are seen through the cgroup
 * connect hooks and the socket's close (lib/connect_calls.bpf.h): nothing
 * here runs on every system call of the host.
 *
 * With --udp/--dns, UDP sends and DNS queries are reported beside the
 * connects (lib/udp_sends.bpf.h, lib/dns_capture.bpf.h).
 *
 * With ancestry on, every exec on the host is recorded (lib/exec_tracker.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connsnoop_abi.h"
#include "http_capture.bpf.h"
#include "lib/attempt_id.bpf.h"
#include "lib/connect_calls.bpf.h"
#include "lib/events.bpf.h"
#include "lib/exec_tracker.bpf.h"
#include "lib/filters.bpf.h"
#include "lib/linklocal.bpf.h"
#include "lib/record.bpf.h"
#include "lib/socket.bpf.h"
#include "lib/udp_sends.bpf.h"

char LICENSE[] SEC("license") = "GPL";

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
	output_record_at(&out, sizeof(out), out.timestamp_ns);
}

/* Starts following a reported attempt; the record learns its id (0 and a
 * flag when the in-flight map is full). */
static __always_inline void follow_attempt(const struct sock *sk, struct cs_connect_record *rec)
{
	struct inflight_attempt attempt = { .start_ns = rec->timestamp_ns };
	__u64 key = (__u64)sk;

	attempt.attempt_id = new_attempt_id();
	/* BPF_ANY: a stale entry for a reused socket address is replaced; a new
	 * key in a full map fails with E2BIG. */
	if (attempt.attempt_id != 0 && bpf_map_update_elem(&inflight, &key, &attempt, BPF_ANY) == 0) {
		rec->attempt_id = attempt.attempt_id;
	} else {
		rec->flags |= CS_OUTCOME_UNTRACKED;
		count_stat(CS_STAT_UNTRACKED_OUTCOMES);
	}
}

/* The port the SYN left from. inet_sport keeps it through SYN_SENT -> CLOSE,
 * while skc_num is already 0 there (the port is released before the state
 * changes), and at CLOSE -> SYN_SENT the port is not chosen yet. */
static __always_inline __u16 syn_source_port(const struct sock *sk)
{
	return bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

/* SYN_SENT (or SYN_RECV, after a simultaneous open) -> ESTABLISHED / CLOSE
 * of a followed socket. Often softirq: current is unrelated. */
static __always_inline int on_attempt_end(const struct sock *sk, int newstate)
{
	struct inflight_attempt *found, attempt;
	__u64 key = (__u64)sk;
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
		output_outcome(attempt.attempt_id, CS_OUTCOME_ESTABLISHED, 0, attempt.start_ns, syn_source_port(sk));
		return 0;
	}
	error = BPF_CORE_READ(sk, sk_err);
	if (error == 0 && closed_inside_connect(sk)) {
		/* connect() itself gave up after SYN_SENT: no SYN left */
		output_outcome(attempt.attempt_id, CS_OUTCOME_CONNECT_FAILED, connect_error_after_syn_sent(sk),
		               attempt.start_ns, 0);
		return 0;
	}
	output_outcome(attempt.attempt_id, CS_OUTCOME_CLOSED, error, attempt.start_ns, syn_source_port(sk));
	return 0;
}

/* CLOSE -> SYN_SENT of a TCP socket, in the connecting task's context: the
 * filters, then the record. typed: the socket is BTF-typed (tp_btf);
 * typed_task: so is task, the current task (else NULL: raw_tp, 5.10). Both
 * compile-time constants, see lib/kernel_read.bpf.h. */
static __always_inline int on_connect_attempt(bool typed, bool typed_task, struct task_struct *task,
                                              const struct sock *sk, __u32 netns)
{
	struct connect_scratch *buf;
	struct cs_connect_record *rec;
	__u64 pid_tgid, uid_gid;

	pid_tgid = task_pid_tgid(typed_task, task);
	uid_gid = task_uid_gid(typed_task, task);
	if (!task_wanted(pid_tgid >> 32, (__u32)uid_gid))
		return 0;

	buf = connect_scratch();
	if (!buf)
		return 0;
	rec = &buf->record;
	task_comm(typed_task, task, rec->comm);
	if ((filter_comm || exclude_comm) && !comm_wanted(rec->comm))
		return 0;
	if (!read_endpoints(typed, sk, rec))
		return 0;
	if (!destination_wanted(rec->family, rec->daddr, rec->dport))
		return 0;
	if (track_outcomes)
		connect_sent_syn(sk);

	rec->kind = CS_RECORD_CONNECT;
	rec->netns = filter_netns ? netns : socket_netns(typed, sk);
	if (typed_task)
		fill_fields_of(true, task, rec, buf->argv, pid_tgid, uid_gid);
	else
		fill_task_fields(rec, buf->argv, pid_tgid, uid_gid);
	if (track_outcomes)
		follow_attempt(sk, rec);
	if (http_capture)
		http_watch_socket(sk, rec);
	/* the record's time was read just now (fill_fields_of) */
	emit_task_record_at(buf, sizeof(*buf), sizeof(*rec), rec, rec->timestamp_ns);
	return 0;
}

/* The same for tp_btf and raw_tp, but for how the socket and the task are
 * read (typed: tp_btf); per-socket state is keyed by address or cookie
 * (lib/socket_owner.bpf.h). */
static __always_inline int on_state_change(bool typed, const struct sock *sk, int oldstate, int newstate)
{
	__u32 netns = 0;

	if (http_capture && newstate == TCP_CLOSE)
		http_forget_socket(sk);
	if (track_outcomes && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV))
		return on_attempt_end(sk, newstate);
	if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT)
		return 0;
	if (CS_READ(typed, sk->sk_protocol, sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	/* read here only when filtered on: most connections never get further */
	if (filter_netns) {
		netns = socket_netns(typed, sk);
		if (!netns_inum_wanted(netns))
			return 0;
	}
	/* two copies of the rest: the typed task's is dead code on 5.10 */
	if (typed && CS_HAVE_CURRENT_TASK_BTF())
		return on_connect_attempt(true, true, CS_UNTRUSTED(bpf_get_current_task_btf(), task_struct), sk, netns);
	return on_connect_attempt(typed, false, NULL, sk, netns);
}

/* Preferred: BTF-typed tracepoint, no tracefs needed. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_tp_btf, const struct sock *sk, int oldstate, int newstate)
{
	return on_state_change(true, CS_UNTRUSTED(sk, sock), oldstate, newstate);
}

/* Fallback where tp_btf is refused; same arguments, read through CO-RE. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_raw_tp, const struct sock *sk, int oldstate, int newstate)
{
	return on_state_change(false, sk, oldstate, newstate);
}

/* Every exec on the host, for ancestry (lib/exec_tracker.bpf.h); loaded only with it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_tp_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return record_exec((struct task_struct *)bpf_get_current_task());
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw_tp, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return record_exec((struct task_struct *)bpf_get_current_task());
}
