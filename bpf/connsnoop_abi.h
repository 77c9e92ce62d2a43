/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one place the kernel/user ABI of connsnoop is written down.
 * Compiled as C by clang for the BPF target and as C++ by the user side,
 * which checks the layout with static_asserts (see collect/record_decoder.cpp).
 */
#ifndef CONNSNOOP_ABI_H
#define CONNSNOOP_ABI_H

#ifdef __cplusplus
#include <cstdint>
typedef std::uint8_t cs_u8;
typedef std::uint16_t cs_u16;
typedef std::uint32_t cs_u32;
typedef std::uint64_t cs_u64;
#else
typedef __u8 cs_u8;
typedef __u16 cs_u16;
typedef __u32 cs_u32;
typedef __u64 cs_u64;
#endif

#define CS_COMM_LEN 16
/* --port bitmap: 65536 bits in 64-bit words */
#define CS_PORT_BITMAP_WORDS 1024
/* Most --cgroup directories at once (bpf_current_task_under_cgroup, one per slot) */
#define CS_MAX_CGROUP_FILTERS 8
/* Largest argv area captured per event; a power of two so the verifier can bound reads. */
#define CS_ARGV_CAPACITY 8192
#define CS_AF_INET 2
#define CS_AF_INET6 10

/* Every record in the ring buffer starts with its kind. */
enum cs_record_kind {
	CS_RECORD_CONNECT = 1,
	/* the fate of a followed attempt: struct cs_outcome_record */
	CS_RECORD_OUTCOME = 2,
	/* connect() on a TCP socket failed before any SYN left (ENETUNREACH,
	 * EACCES/EPERM from a policy, ...): a struct cs_connect_record whose
	 * error is set, written when the call returns */
	CS_RECORD_CONNECT_FAILED = 3,
	/* one HTTP request head sent on a watched connection: struct cs_http_record */
	CS_RECORD_HTTP = 4,
	/* --udp: a process's first send to a UDP destination: a struct
	 * cs_connect_record (see bpf/lib/udp_sends.bpf.h) */
	CS_RECORD_UDP_SEND = 5,
	/* --dns: one query sent to a resolver: struct cs_dns_record */
	CS_RECORD_DNS = 6,
};

enum cs_connect_flags {
	/* the task's argv area was longer than the configured limit */
	CS_ARGV_TRUNCATED = 1 << 0,
	/* the argv memory could not be read (no mm, e.g. a kernel thread, or paged out) */
	CS_ARGV_UNREADABLE = 1 << 1,
	/* the area's last byte is not NUL: the process rewrote its title
	 * (setproctitle, Perl's $0), so the title ends at the first NUL, as
	 * /proc/PID/cmdline reads it */
	CS_ARGV_REWRITTEN = 1 << 2,
	/* outcomes were asked for, but the in-flight map was full: this
	 * attempt's fate will not be reported */
	CS_OUTCOME_UNTRACKED = 1 << 3,
};

/* Ancestors captured in the kernel at connect time, nearest first. */
#define CS_KERNEL_ANCESTRY 4

struct cs_process_ref {
	cs_u32 pid;
	cs_u32 reserved;
	cs_u64 start_boottime_ns;
};

/* One active TCP open (CLOSE -> SYN_SENT), captured in the connecting task's context. */
struct cs_connect_record {
	cs_u32 kind;         /* CS_RECORD_CONNECT */
	cs_u32 flags;        /* enum cs_connect_flags */
	cs_u64 timestamp_ns; /* CLOCK_MONOTONIC */
	cs_u64 cgroup_id;
	cs_u32 pid; /* tgid in the initial PID namespace */
	cs_u32 tid;
	cs_u32 ppid;
	cs_u32 uid;
	cs_u32 gid;
	cs_u32 netns;         /* inode number of the socket's network namespace */
	cs_u16 family;        /* CS_AF_INET or CS_AF_INET6 (v4-mapped IPv6 is reported as IPv4) */
	cs_u16 sport;         /* host order; 0 when the kernel has not chosen the port yet */
	cs_u16 dport;         /* host order */
	cs_u16 argv_len;      /* bytes of argv that follow the record */
	cs_u32 argv_area_len; /* length of the task's whole argv area */
	cs_u8 saddr[16];      /* IPv4 uses the first 4 bytes */
	cs_u8 daddr[16];
	char comm[CS_COMM_LEN];
	cs_u32 error;             /* CS_RECORD_CONNECT_FAILED: connect()'s errno (positive); else 0 */
	cs_u64 attempt_id;        /* with outcome tracking: the id its cs_outcome_record carries; 0 when not followed */
	cs_u32 ns_pid;            /* tgid as the task's own PID namespace numbers it (== pid outside containers) */
	cs_u32 pidns;             /* inode number of that PID namespace */
	cs_u64 start_boottime_ns; /* the process's start, as /proc/PID/stat's starttime counts (ns) */
	/* parent, grandparent, ...: what identifies each while it still runs;
	 * user space names them (pid 0 ends the chain) */
	struct cs_process_ref ancestors[CS_KERNEL_ANCESTRY];
	/* followed by argv_len bytes: the NUL-separated arguments */
};

/* How a followed attempt ended (cs_outcome_record.state). */
enum cs_outcome_state {
	/* SYN_SENT -> ESTABLISHED */
	CS_OUTCOME_ESTABLISHED = 1,
	/* SYN_SENT -> CLOSE; error is the socket's sk_err: ECONNREFUSED after
	 * an RST, ETIMEDOUT (or the last ICMP error) after the SYN retries,
	 * 0 when its owner closed it while connecting */
	CS_OUTCOME_CLOSED = 2,
	/* connect() gave up inside the call before a SYN left, after the
	 * socket entered SYN_SENT (EADDRNOTAVAIL: no ephemeral port left);
	 * error is connect()'s errno */
	CS_OUTCOME_CONNECT_FAILED = 3,
};

/* The fate of one attempt reported earlier with the same attempt_id.
 * Written from softirq context for network outcomes: it carries no task. */
struct cs_outcome_record {
	cs_u32 kind;         /* CS_RECORD_OUTCOME */
	cs_u32 state;        /* enum cs_outcome_state */
	cs_u64 timestamp_ns; /* CLOCK_MONOTONIC */
	cs_u64 attempt_id;
	cs_u64 latency_ns; /* since CLOSE -> SYN_SENT */
	cs_u32 error;      /* positive errno, 0 when none */
	cs_u16 sport;      /* the ephemeral port the kernel chose; 0 when none was */
	cs_u16 reserved;
};

/* Counters the kernel side keeps per CPU (index into the stats map). */
enum cs_stat {
	CS_STAT_LOST_EVENTS = 0,        /* ring buffer full: record dropped */
	CS_STAT_UNTRACKED_OUTCOMES = 1, /* in-flight map full: an attempt whose fate is not followed */
	CS_STAT_UNWATCHED_CALLS = 2,    /* pending-call map full: a connect() whose failure before a SYN is missed */
	CS_STAT_COUNT,
};

/* Key of the destination LPM tries; prefixlen counts bits of addr. */
struct cs_lpm_v4_key {
	cs_u32 prefixlen;
	cs_u8 addr[4];
};

struct cs_lpm_v6_key {
	cs_u32 prefixlen;
	cs_u8 addr[16];
};

/* ---- process tracker (bpf/lib/exec_tracker.bpf.h) ---- */

/* argv kept per exec'd process: enough to name a parent or grandparent */
#define CS_EXEC_ARGV_CAPACITY 1024

/* Value of the exec map (key: tgid), written at every exec so that a
 * process that has exited is still named when its child's event is read. */
struct cs_exec_entry {
	cs_u64 start_boottime_ns; /* task->start_boottime: what /proc/PID/stat counts in ticks */
	cs_u32 ppid;              /* parent tgid at exec time */
	cs_u32 argv_len;
	cs_u32 flags; /* enum cs_connect_flags (TRUNCATED, REWRITTEN never set at exec) */
	char comm[CS_COMM_LEN];
	char argv[CS_EXEC_ARGV_CAPACITY];
};

/* ---- HTTP requests on watched connections (--http, --imds-v1) ---- */

/* Bytes of a request head scanned: the head may arrive over several sends. */
#define CS_HTTP_HEAD_MAX 1024
/* Sends a head may be spread over before what arrived is reported as is. */
#define CS_HTTP_MAX_WRITES 8
#define CS_HTTP_METHOD_LEN 16
#define CS_HTTP_PATH_LEN 256
#define CS_HTTP_VERSION_LEN 16
#define CS_HTTP_USER_AGENT_LEN 128

/* Headers whose presence is reported (cs_http_record.headers). Only the
 * User-Agent value is copied; the others, the token above all, never are. */
enum cs_http_header {
	CS_HTTP_HEADER_HOST = 1 << 0,
	CS_HTTP_HEADER_USER_AGENT = 1 << 1,
	CS_HTTP_HEADER_IMDS_TOKEN = 1 << 2,     /* X-aws-ec2-metadata-token */
	CS_HTTP_HEADER_IMDS_TOKEN_TTL = 1 << 3, /* X-aws-ec2-metadata-token-ttl-seconds */
};

enum cs_http_flags {
	CS_HTTP_PATH_TRUNCATED = 1 << 0,
	CS_HTTP_USER_AGENT_TRUNCATED = 1 << 1,
	/* no blank line within CS_HTTP_HEAD_MAX bytes or CS_HTTP_MAX_WRITES sends:
	 * headers after what arrived are not known */
	CS_HTTP_HEAD_INCOMPLETE = 1 << 2,
};

/* One request head, parsed in the kernel in the sending task's context. */
struct cs_http_record {
	/* kind CS_RECORD_HTTP; the sending task and the connection's endpoints */
	struct cs_connect_record process;
	cs_u32 headers;    /* enum cs_http_header */
	cs_u32 http_flags; /* enum cs_http_flags */
	cs_u16 method_len;
	cs_u16 path_len;
	cs_u16 version_len;
	cs_u16 user_agent_len;
	cs_u32 writes;   /* sends the head arrived in */
	cs_u32 head_len; /* bytes of head scanned */
	char method[CS_HTTP_METHOD_LEN];
	char path[CS_HTTP_PATH_LEN];
	char version[CS_HTTP_VERSION_LEN];
	char user_agent[CS_HTTP_USER_AGENT_LEN];
	/* followed by process.argv_len bytes: the NUL-separated arguments */
};

/* ---- DNS queries (--dns) ---- */

/* Longest name the wire format allows (RFC 1035: 255 bytes with its length octets). */
#define CS_DNS_NAME_MAX 256
#define CS_DNS_PORT 53

enum cs_dns_flags {
	/* the question's name ends in a compression pointer (never valid in a
	 * query's first question): name holds the labels before it */
	CS_DNS_NAME_COMPRESSED = 1 << 0,
	/* the name runs past the datagram or past 255 bytes, or uses a reserved
	 * label type: name holds what was there (at most 255 bytes) */
	CS_DNS_NAME_MALFORMED = 1 << 1,
};

/* One query, parsed in the kernel from the first bytes of the datagram. Only
 * these fields leave the kernel, never the rest of the payload. */
struct cs_dns_record {
	/* kind CS_RECORD_DNS; the sending process and the datagram's endpoints */
	struct cs_connect_record process;
	cs_u16 query_id;       /* the DNS header's ID */
	cs_u16 header_flags;   /* the DNS header's flags word (RD, opcode, ...) */
	cs_u16 qtype;          /* of the first question; 0 when the name was malformed */
	cs_u16 qclass;         /* of the first question */
	cs_u16 question_count; /* QDCOUNT */
	cs_u16 name_len;       /* bytes of name used */
	cs_u32 dns_flags;      /* enum cs_dns_flags */
	/* the first question's name in wire form (length-prefixed labels, up to
	 * and including the root label); untrusted bytes, escaped on output */
	cs_u8 name[CS_DNS_NAME_MAX];
	/* followed by process.argv_len bytes: the NUL-separated arguments */
};

/* --- link-local budget (connsnoop linklocal): counters read once per interval --- */

/* Which way a counted packet went, seen from the host. */
enum cs_linklocal_direction {
	CS_LINKLOCAL_SENT = 0,
	CS_LINKLOCAL_RECEIVED = 1,
};

/* An owner the kernel could not name: the socket was opened (connected,
 * last sent to an address) before connsnoop started. */
#define CS_LINKLOCAL_UNKNOWN_TGID 0

/* The key of the per-CPU counters: the socket's owner, as recorded in its
 * context at connect() or sendto(), and what the packet was. */
struct cs_linklocal_key {
	cs_u32 tgid; /* CS_LINKLOCAL_UNKNOWN_TGID: no owner recorded */
	cs_u32 uid;
	cs_u32 gid;
	cs_u16 service;  /* index into the services user space installed */
	cs_u8 protocol;  /* IPPROTO_TCP or IPPROTO_UDP */
	cs_u8 direction; /* enum cs_linklocal_direction */
	cs_u64 cgroup_id;
	char comm[CS_COMM_LEN];
};

struct cs_linklocal_count {
	cs_u64 packets; /* wire packets: a GSO packet counts its segments */
	cs_u64 bytes;   /* IP packet lengths (headers included, no link layer) */
};

/* The value of the service address tries: which service an address is. */
struct cs_linklocal_service {
	cs_u32 index;
};

/* Most services at once (the defaults and every --dst). */
#define CS_LINKLOCAL_MAX_SERVICES 64

#endif /* CONNSNOOP_ABI_H */
