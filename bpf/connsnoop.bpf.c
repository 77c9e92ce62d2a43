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
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connsnoop_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* Read-only configuration, fixed before load: a filter that is off is a
 * dead branch the verifier removes, so it costs nothing. */
const volatile bool filter_daddr = false;
const volatile bool filter_dport = false;
const volatile bool filter_pid = false;
const volatile bool filter_uid = false;
const volatile bool filter_cgroup = false;
const volatile bool filter_comm = false;
const volatile bool filter_netns = false;
const volatile char comm_filter[CS_COMM_LEN] = {};
const volatile __u32 argv_max = CS_ARGV_CAPACITY;
const volatile bool track_outcomes = false;
/* Wake the reader at once when this much is waiting (a quarter of the ring). */
const volatile __u64 wakeup_fill_bytes = 1 << 20;
/* --http: parse request heads sent on watched connections (http_capture.bpf.h) */
const volatile bool http_capture = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CS_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Filter sets; user space sizes them to what it inserts (at least 1). */
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

/* Records are built here, then copied to the ring buffer with their real
 * size: reserve needs a constant size, output does not, so a short command
 * line costs a short record. */
struct connect_scratch {
	struct cs_connect_record record;
	char argv[CS_ARGV_CAPACITY];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct connect_scratch);
} scratch SEC(".maps");

static __always_inline void count_stat(__u32 which)
{
	__u64 *counter = bpf_map_lookup_elem(&stats, &which);

	if (counter)
		*counter += 1; /* per-CPU slot: no atomics needed */
}

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

static __always_inline bool is_v4_mapped(const __u8 addr[16])
{
	return ((const __u64 *)addr)[0] == 0 && ((const __u32 *)addr)[2] == bpf_htonl(0x0000ffff);
}

/* Fills family and addresses; false for families other than IPv4/IPv6. */
static __always_inline bool read_endpoints(const struct sock *sk, struct cs_connect_record *rec)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	rec->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	rec->sport = BPF_CORE_READ(sk, __sk_common.skc_num);

	if (family == CS_AF_INET) {
		rec->family = CS_AF_INET;
		BPF_CORE_READ_INTO((__u32 *)rec->daddr, sk, __sk_common.skc_daddr);
		BPF_CORE_READ_INTO((__u32 *)rec->saddr, sk, __sk_common.skc_rcv_saddr);
		return true;
	}
	if (family != CS_AF_INET6)
		return false;

	BPF_CORE_READ_INTO(&rec->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	BPF_CORE_READ_INTO(&rec->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	if (is_v4_mapped(rec->daddr)) {
		/* a dual-stack socket (Java, Python with AF_INET6) reaching an IPv4 host */
		rec->family = CS_AF_INET;
		__builtin_memcpy(rec->daddr, &rec->daddr[12], 4);
		__builtin_memcpy(rec->saddr, &rec->saddr[12], 4);
		__builtin_memset(&rec->daddr[4], 0, 12);
		__builtin_memset(&rec->saddr[4], 0, 12);
	} else {
		rec->family = CS_AF_INET6;
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

/* argv_out has room for CS_ARGV_CAPACITY bytes (it follows the record in its scratch). */
static __always_inline void read_argv(struct cs_connect_record *rec, char *argv_out)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start, end;
	char last_byte = 0;
	__u64 len;

	rec->argv_len = 0;
	rec->argv_area_len = 0;
	if (!mm) {
		rec->flags |= CS_ARGV_UNREADABLE;
		return;
	}
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	if (end <= start) {
		rec->flags |= CS_ARGV_UNREADABLE;
		return;
	}
	len = end - start;
	if (bpf_probe_read_user(&last_byte, 1, (const void *)(end - 1)) == 0 && last_byte != '\0')
		rec->flags |= CS_ARGV_REWRITTEN;
	rec->argv_area_len = len > 0xffffffff ? 0xffffffff : (__u32)len;
	if (len > argv_max) {
		len = argv_max;
		rec->flags |= CS_ARGV_TRUNCATED;
	}
	if (len > CS_ARGV_CAPACITY)
		len = CS_ARGV_CAPACITY;
	if (bpf_probe_read_user(argv_out, len, (const void *)start) != 0) {
		rec->flags |= CS_ARGV_UNREADABLE;
		return;
	}
	rec->argv_len = len;
}

/* The thread group's PID as its own PID namespace numbers it, and that
 * namespace: pid->numbers[pid->level] (the innermost level). */
static __always_inline void read_pid_namespace(struct task_struct *task, struct cs_connect_record *rec)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};
	__u64 offset;

	rec->ns_pid = rec->pid;
	rec->pidns = 0;
	if (level > 32)
		return;
	offset = bpf_core_field_offset(struct pid, numbers) + level * bpf_core_type_size(struct upid);
	if (bpf_probe_read_kernel(&upid, sizeof(upid), (void *)pid + offset) != 0)
		return;
	rec->ns_pid = upid.nr;
	rec->pidns = BPF_CORE_READ(upid.ns, ns.inum);
}

/* Who started the process, while they still run: PID and start time per
 * level, so user space can name each and never confuse a reused PID. */
static __always_inline void read_ancestors(struct task_struct *task, struct cs_connect_record *rec)
{
	struct task_struct *parent = task;

#pragma unroll
	for (int i = 0; i < CS_KERNEL_ANCESTRY; i++) {
		struct task_struct *next = BPF_CORE_READ(parent, real_parent);
		__u32 pid = next ? BPF_CORE_READ(next, tgid) : 0;

		/* pid 0 (the idle task) ends the chain; so does a task that is its own parent */
		if (!next || next == parent || pid == 0) {
			rec->ancestors[i].pid = 0;
			rec->ancestors[i].start_boottime_ns = 0;
			continue;
		}
		rec->ancestors[i].pid = pid;
		rec->ancestors[i].start_boottime_ns = BPF_CORE_READ(next, group_leader, start_boottime);
		parent = next;
	}
}

/* Task identity, time and argv of the current task into the record. */
static __always_inline void fill_task_fields(struct cs_connect_record *rec, char *argv_out, __u64 pid_tgid,
                                             __u64 uid_gid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	rec->flags = 0;
	rec->error = 0;
	rec->attempt_id = 0;
	rec->timestamp_ns = bpf_ktime_get_ns();
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->pid = pid_tgid >> 32;
	rec->tid = (__u32)pid_tgid;
	rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
	rec->uid = (__u32)uid_gid;
	rec->gid = uid_gid >> 32;
	rec->start_boottime_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	read_pid_namespace(task, rec);
	read_ancestors(task, rec);
	read_argv(rec, argv_out);
}

/* Last reader wake-up on this CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_wakeup SEC(".maps");

/* Waking the reader is paid by the connecting task (irq_work, then a
 * scheduler wake-up: microseconds on a VM), and the default wakes it whenever
 * it has caught up, i.e. for almost every event at moderate rates. Instead:
 * wake at most once per WAKEUP_INTERVAL_NS per CPU, or when the ring is
 * filling up. An isolated event still wakes the reader at once; one that
 * follows within the interval waits at most for the reader's 100 ms poll. */
#define WAKEUP_INTERVAL_NS (5ULL * 1000 * 1000)

static __always_inline __u64 wakeup_flags(void)
{
	__u32 zero = 0;
	__u64 *last = bpf_map_lookup_elem(&last_wakeup, &zero);
	__u64 now = bpf_ktime_get_ns();

	if (!last)
		return 0;
	if (now - *last >= WAKEUP_INTERVAL_NS || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_fill_bytes) {
		*last = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void output_connect_record(struct connect_scratch *buf)
{
	__u64 size = sizeof(buf->record) + buf->record.argv_len;

	if (size > sizeof(*buf))
		return; /* cannot happen; tells the verifier the bound */
	if (bpf_ringbuf_output(&events, buf, size, wakeup_flags()) != 0)
		count_stat(CS_STAT_LOST_EVENTS);
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
	if (bpf_ringbuf_output(&events, &out, sizeof(out), wakeup_flags()) != 0)
		count_stat(CS_STAT_LOST_EVENTS);
}

#include "lib/connect_calls.bpf.h"

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
		output_outcome(attempt.attempt_id, CS_OUTCOME_ESTABLISHED, 0, attempt.start_ns,
		               BPF_CORE_READ(sk, __sk_common.skc_num));
		return 0;
	}
	error = BPF_CORE_READ(sk, sk_err);
	if (error == 0 && closed_inside_connect(sk)) {
		/* connect() itself gave up after SYN_SENT: no SYN left */
		output_outcome(attempt.attempt_id, CS_OUTCOME_CONNECT_FAILED, connect_error_after_syn_sent(sk),
		               attempt.start_ns, 0);
		return 0;
	}
	output_outcome(attempt.attempt_id, CS_OUTCOME_CLOSED, error, attempt.start_ns,
	               BPF_CORE_READ(sk, __sk_common.skc_num));
	return 0;
}

/* Defined in http_capture.bpf.h, included at the end. */
static __always_inline void http_watch_socket(struct sock *sk, const struct cs_connect_record *rec);
static __always_inline void http_forget_socket(struct sock *sk);

/* typed: a tp_btf program, whose sk may be given to socket-local storage */
static __always_inline int on_state_change(const struct sock *sk, int oldstate, int newstate, bool typed)
{
	struct connect_scratch *buf;
	struct cs_connect_record *rec;
	__u64 pid_tgid, uid_gid;
	__u32 zero = 0;

	if (typed && http_capture && newstate == TCP_CLOSE)
		http_forget_socket((struct sock *)sk);
	if (track_outcomes && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV))
		return on_attempt_end(sk, newstate);
	if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (!netns_wanted(sk))
		return 0;

	pid_tgid = bpf_get_current_pid_tgid();
	uid_gid = bpf_get_current_uid_gid();
	if (!task_wanted(pid_tgid >> 32, (__u32)uid_gid))
		return 0;

	buf = bpf_map_lookup_elem(&scratch, &zero);
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
	if (typed && track_outcomes)
		connect_sent_syn((struct sock *)sk);

	rec->kind = CS_RECORD_CONNECT;
	rec->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	fill_task_fields(rec, buf->argv, pid_tgid, uid_gid);
	if (track_outcomes)
		follow_attempt(sk, rec);
	if (typed && http_capture)
		http_watch_socket((struct sock *)sk, rec);
	output_connect_record(buf);
	return 0;
}

/* Preferred: BTF-typed tracepoint, no tracefs needed. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_tp_btf, const struct sock *sk, int oldstate, int newstate)
{
	return on_state_change(sk, oldstate, newstate, true);
}

/* Fallback where tp_btf is refused; same arguments, read through CO-RE. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(connect_raw_tp, const struct sock *sk, int oldstate, int newstate)
{
	return on_state_change(sk, oldstate, newstate, false);
}

#include "http_capture.bpf.h"
