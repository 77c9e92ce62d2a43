/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HTTP request heads on watched connections (--http, --imds-v1): which
 * process asked for what, with or without an IMDSv2 token. Part of
 * connsnoop.bpf.c, which calls http_watch_socket / http_forget_socket from
 * its state hook; the send hooks are its own programs.
 *
 * Design: syscall tracepoints (raw_syscalls:sys_enter through tp_btf, raw_tp
 * twin), not cgroup_skb/egress.
 * - The sender is current at sys_enter, so the record names the process
 *   exactly (pid, argv from its own memory) with no socket-to-task join;
 *   egress may run in softirq or another task's context (TCP retransmits,
 *   a send woken by an ACK).
 * - The user buffer holds the request as the program wrote it: one linear
 *   copy from user memory, no walking of non-linear skbs, no reordering or
 *   retransmitted segments to untangle.
 * - A socket is watched when its attempt matched the filters at
 *   CLOSE -> SYN_SENT and its port is an HTTP port (http_streams, keyed by
 *   socket); a send resolves fd -> file -> socket the same way the connect()
 *   hooks do, for write, writev, sendto (send) and sendmsg.
 * Cost: the program runs on every syscall of the host, so it tests the
 * syscall number first, then whether the process opened a watched
 * connection (http_senders), and it is loaded only with HTTP capture. So a
 * child that inherits a watched connection and sends on it is not seen.
 *
 * Secrets: the head is parsed here, byte by byte, and only structured
 * fields leave the kernel (method, path, version, which headers are present,
 * the User-Agent value). Header values other than the User-Agent, the IMDSv2
 * token above all, are skipped, never copied into a record. The raw bytes
 * live only in http_streams, only until the head is parsed (then wiped), and
 * connsnoop's own descriptor of that map is write-only (BPF_F_WRONLY).
 *
 * A head split over several sends is gathered per socket (up to
 * CS_HTTP_HEAD_MAX bytes and CS_HTTP_MAX_WRITES sends); each head on a
 * keep-alive connection is its own record. Limits: sends on connections made
 * before connsnoop started are not seen (the socket was never watched);
 * a second request pipelined into the same send as the first is missed;
 * sendfile/splice/io_uring sends are not seen.
 */
#ifndef CONNSNOOP_HTTP_CAPTURE_BPF_H
#define CONNSNOOP_HTTP_CAPTURE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connsnoop_abi.h"
#include "lib/arch.bpf.h"
#include "lib/events.bpf.h"
#include "lib/record.bpf.h"
#include "lib/socket.bpf.h"

/* --http, fixed before load: parse request heads sent on watched connections. */
const volatile bool http_capture = false;

/* iovecs of one writev/sendmsg looked at; heads come in far fewer */
#define CS_HTTP_MAX_IOVECS 8

/* The head gathered so far on one watched socket. head is twice the bytes
 * used so that an append at any offset below CS_HTTP_HEAD_MAX is in bounds
 * for the verifier. */
struct http_stream {
	__u32 len;    /* bytes of the current head gathered */
	__u32 writes; /* sends they came in */
	char head[2 * CS_HTTP_HEAD_MAX];
};

/* Watched sockets (key: socket address), added at CLOSE -> SYN_SENT, removed
 * at -> CLOSE; LRU so that a socket whose close was missed cannot fill it.
 * It holds raw request bytes while a head is gathered: connsnoop's own
 * descriptor of it is write-only, so nothing in connsnoop can read it back. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized by user space */
	__uint(map_flags, BPF_F_WRONLY);
	__type(key, __u64);
	__type(value, struct http_stream);
} http_streams SEC(".maps");

/* Processes (tgid) that opened a watched connection: a send from any other
 * process costs one lookup, not an fd-table walk. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, __u32);
	__type(value, __u8);
} http_senders SEC(".maps");

/* Destination ports whose connections are watched (80 and --http-port). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u16);
	__type(value, __u8);
} http_ports SEC(".maps");

/* An empty stream to insert from (too large for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_stream);
} http_stream_init SEC(".maps");

#define CS_HTTP_NAME_MAX 64

/* The parser's state. It lives in a map, not on the stack: the verifier then
 * sees its values as unknown and checks the per-byte callback once instead
 * of once per combination of states. */
struct http_parse_state {
	__u32 len;   /* bytes to parse */
	__u32 state; /* enum http_parse_step */
	__u32 name_len;
	__u32 header; /* enum cs_http_header bit of the header being read; 0 for others */
	__u32 value_started;
	char name[CS_HTTP_NAME_MAX]; /* lower-cased header name */
};

struct http_scratch {
	struct cs_http_record record;
	char argv[CS_ARGV_CAPACITY]; /* must follow the record: they go out together */
	struct http_parse_state parse;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_scratch);
} http_scratch SEC(".maps");

static __always_inline void http_watch_socket(const struct sock *sk, __u16 dport)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 key = (__u64)sk;
	__u8 present = 1;
	__u32 zero = 0;
	struct http_stream *empty;

	if (!bpf_map_lookup_elem(&http_ports, &dport))
		return;
	empty = bpf_map_lookup_elem(&http_stream_init, &zero);
	if (!empty || bpf_map_update_elem(&http_streams, &key, empty, BPF_ANY) != 0)
		return;
	bpf_map_update_elem(&http_senders, &tgid, &present, BPF_ANY);
}

static __always_inline void http_forget_socket(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&http_streams, &key);
}

/* ---- parsing, one byte per bpf_loop iteration ---- */

enum http_parse_step {
	HTTP_METHOD,
	HTTP_PATH,
	HTTP_VERSION,
	HTTP_HEADER_NAME,
	HTTP_HEADER_VALUE,
	HTTP_DONE, /* the blank line ending the head was seen */
	HTTP_NOT_HTTP,
};

/* bpf_loop's context (on the stack): only the two map values. */
struct http_parse_context {
	struct http_stream *stream;
	struct http_scratch *buf;
};

static __always_inline bool header_name_is(const struct http_parse_state *p, const char *name, __u32 len)
{
	if (p->name_len != len)
		return false;
#pragma unroll
	for (int i = 0; i < CS_HTTP_NAME_MAX; i++) {
		if (i >= len)
			break;
		if (p->name[i] != name[i])
			return false;
	}
	return true;
}

#define HEADER_NAME_IS(p, literal) header_name_is(p, literal, sizeof(literal) - 1)

static __always_inline __u32 known_header(const struct http_parse_state *p)
{
	if (HEADER_NAME_IS(p, "host"))
		return CS_HTTP_HEADER_HOST;
	if (HEADER_NAME_IS(p, "user-agent"))
		return CS_HTTP_HEADER_USER_AGENT;
	if (HEADER_NAME_IS(p, "x-aws-ec2-metadata-token"))
		return CS_HTTP_HEADER_IMDS_TOKEN;
	if (HEADER_NAME_IS(p, "x-aws-ec2-metadata-token-ttl-seconds"))
		return CS_HTTP_HEADER_IMDS_TOKEN_TTL;
	return 0;
}

static long http_parse_byte(__u64 index, void *context)
{
	struct http_parse_context *ctx = context;
	struct cs_http_record *rec = &ctx->buf->record;
	struct http_parse_state *p = &ctx->buf->parse;
	__u32 at;
	char c;

	if (index >= CS_HTTP_HEAD_MAX || index >= p->len)
		return 1;
	c = ctx->stream->head[index];

	switch (p->state) {
		case HTTP_METHOD:
			if (c == ' ') {
				p->state = rec->method_len ? HTTP_PATH : HTTP_NOT_HTTP;
				return p->state == HTTP_NOT_HTTP;
			}
			if (c < 'A' || c > 'Z' || rec->method_len >= CS_HTTP_METHOD_LEN - 1) {
				p->state = HTTP_NOT_HTTP;
				return 1;
			}
			at = rec->method_len;
			rec->method[at & (CS_HTTP_METHOD_LEN - 1)] = c;
			rec->method_len = at + 1;
			return 0;
		case HTTP_PATH:
			if (c == ' ') {
				p->state = rec->path_len ? HTTP_VERSION : HTTP_NOT_HTTP;
				return p->state == HTTP_NOT_HTTP;
			}
			if (c == '\r' || c == '\n') {
				p->state = HTTP_NOT_HTTP;
				return 1;
			}
			at = rec->path_len;
			if (at >= CS_HTTP_PATH_LEN - 1) {
				rec->http_flags |= CS_HTTP_PATH_TRUNCATED;
				return 0;
			}
			rec->path[at & (CS_HTTP_PATH_LEN - 1)] = c;
			rec->path_len = at + 1;
			return 0;
		case HTTP_VERSION:
			if (c == '\r')
				return 0;
			if (c == '\n') {
				p->state = HTTP_HEADER_NAME;
				p->name_len = 0;
				return 0;
			}
			at = rec->version_len;
			if (at >= CS_HTTP_VERSION_LEN - 1) {
				p->state = HTTP_NOT_HTTP;
				return 1;
			}
			rec->version[at & (CS_HTTP_VERSION_LEN - 1)] = c;
			rec->version_len = at + 1;
			return 0;
		case HTTP_HEADER_NAME:
			if (c == '\r')
				return 0;
			if (c == '\n') {
				if (p->name_len == 0) {
					p->state = HTTP_DONE;
					rec->head_len = index + 1;
					return 1;
				}
				p->name_len = 0; /* a line without a colon: not a header */
				return 0;
			}
			if (c == ':') {
				p->header = known_header(p);
				rec->headers |= p->header;
				p->value_started = 0;
				p->state = HTTP_HEADER_VALUE;
				return 0;
			}
			at = p->name_len;
			if (at < CS_HTTP_NAME_MAX)
				p->name[at & (CS_HTTP_NAME_MAX - 1)] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
			p->name_len = at + 1;
			return 0;
		case HTTP_HEADER_VALUE:
			if (c == '\n') {
				p->state = HTTP_HEADER_NAME;
				p->name_len = 0;
				return 0;
			}
			/* Only the User-Agent value is copied; every other value is skipped. */
			if (p->header != CS_HTTP_HEADER_USER_AGENT || c == '\r')
				return 0;
			if (!p->value_started && (c == ' ' || c == '\t'))
				return 0;
			p->value_started = 1;
			at = rec->user_agent_len;
			if (at >= CS_HTTP_USER_AGENT_LEN - 1) {
				rec->http_flags |= CS_HTTP_USER_AGENT_TRUNCATED;
				return 0;
			}
			rec->user_agent[at & (CS_HTTP_USER_AGENT_LEN - 1)] = c;
			rec->user_agent_len = at + 1;
			return 0;
		default:
			return 1;
	}
}

/* Appends one user buffer to the stream. A new head must start with an
 * upper-case letter (a method); anything else between heads (a request
 * body) is passed over. */
static __always_inline void http_append(struct http_stream *stream, const void *data, __u64 size)
{
	__u32 offset = stream->len;
	char first = 0;

	if (!data || size == 0 || offset >= CS_HTTP_HEAD_MAX)
		return;
	if (offset == 0 && (bpf_probe_read_user(&first, 1, data) != 0 || first < 'A' || first > 'Z'))
		return;
	if (size > CS_HTTP_HEAD_MAX - offset)
		size = CS_HTTP_HEAD_MAX - offset;
	if (size > CS_HTTP_HEAD_MAX)
		size = CS_HTTP_HEAD_MAX; /* for the verifier: offset + size stays below 2 * CS_HTTP_HEAD_MAX */
	offset &= CS_HTTP_HEAD_MAX - 1;
	if (bpf_probe_read_user(&stream->head[offset], size, data) != 0)
		return;
	stream->len = offset + size;
}

static __always_inline void http_append_iovecs(struct http_stream *stream, const struct iovec *iov, __u64 count)
{
	struct iovec segment;

	for (int i = 0; i < CS_HTTP_MAX_IOVECS; i++) {
		if (i >= count || stream->len >= CS_HTTP_HEAD_MAX)
			break;
		if (bpf_probe_read_user(&segment, sizeof(segment), &iov[i]) != 0)
			break;
		http_append(stream, segment.iov_base, segment.iov_len);
	}
}

/* Ready for the next head; the raw bytes of this one (a token among them)
 * are wiped, not left in the map for the life of the connection. */
static __always_inline void http_reset(struct http_stream *stream)
{
	__u32 zero = 0;
	struct http_stream *empty = bpf_map_lookup_elem(&http_stream_init, &zero);

	if (empty)
		bpf_probe_read_kernel(stream->head, CS_HTTP_HEAD_MAX, empty->head);
	stream->len = 0;
	stream->writes = 0;
}

static __always_inline bool version_is_http(const struct cs_http_record *rec)
{
	return rec->version_len >= 6 && rec->version[0] == 'H' && rec->version[1] == 'T' && rec->version[2] == 'T' &&
	       rec->version[3] == 'P' && rec->version[4] == '/';
}

static __always_inline void http_report(const struct sock *sk, struct http_scratch *buf)
{
	struct cs_http_record *rec = &buf->record;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!read_endpoints(sk, &rec->process))
		return;
	rec->process.kind = CS_RECORD_HTTP;
	rec->process.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	bpf_get_current_comm(rec->process.comm, sizeof(rec->process.comm));
	fill_task_fields(&rec->process, buf->argv, pid_tgid, bpf_get_current_uid_gid());
	emit_task_record(buf, sizeof(*buf), sizeof(*rec), &rec->process);
}

/* A send on some descriptor entered: gather and parse when it is a watched socket. */
static __always_inline int on_send_enter(struct pt_regs *regs, long id)
{
	struct http_parse_context parse;
	struct http_scratch *buf;
	struct http_stream *stream;
	struct user_msghdr msg;
	struct socket *sock;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 zero = 0;
	__u64 key;

	if (!bpf_map_lookup_elem(&http_senders, &tgid))
		return 0;
	sock = socket_of_fd((int)PT_REGS_PARM1_CORE_SYSCALL(regs));
	if (!sock)
		return 0;
	key = (__u64)BPF_CORE_READ(sock, sk);
	stream = bpf_map_lookup_elem(&http_streams, &key);
	if (!stream)
		return 0;

	if (id == CS_NR_WRITE || id == CS_NR_SENDTO) {
		http_append(stream, (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs));
	} else if (id == CS_NR_WRITEV) {
		http_append_iovecs(stream, (const struct iovec *)PT_REGS_PARM2_CORE_SYSCALL(regs),
		                   PT_REGS_PARM3_CORE_SYSCALL(regs));
	} else {
		if (bpf_probe_read_user(&msg, sizeof(msg), (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs)) != 0)
			return 0;
		http_append_iovecs(stream, msg.msg_iov, msg.msg_iovlen);
	}
	if (stream->len == 0)
		return 0; /* nothing of a head in this send */
	stream->writes += 1;

	buf = bpf_map_lookup_elem(&http_scratch, &zero);
	if (!buf)
		return 0;
	__builtin_memset(&buf->record.headers, 0,
	                 sizeof(buf->record) - __builtin_offsetof(struct cs_http_record, headers));
	__builtin_memset(&buf->parse, 0, sizeof(buf->parse));
	buf->parse.len = stream->len;
	parse.stream = stream;
	parse.buf = buf;
	bpf_loop(CS_HTTP_HEAD_MAX, http_parse_byte, &parse, 0);

	if (buf->parse.state == HTTP_NOT_HTTP) {
		http_reset(stream);
		return 0;
	}
	if (buf->parse.state != HTTP_DONE) {
		if (stream->len < CS_HTTP_HEAD_MAX && stream->writes < CS_HTTP_MAX_WRITES)
			return 0; /* wait for the rest of the head */
		if (buf->parse.state < HTTP_HEADER_NAME) {
			http_reset(stream); /* not even a request line in all that */
			return 0;
		}
		buf->record.http_flags |= CS_HTTP_HEAD_INCOMPLETE;
		buf->record.head_len = stream->len;
	}
	buf->record.writes = stream->writes;
	http_reset(stream);
	if (version_is_http(&buf->record))
		http_report((const struct sock *)key, buf);
	return 0;
}

static __always_inline bool is_send_syscall(long id)
{
	return id == CS_NR_WRITE || id == CS_NR_WRITEV || id == CS_NR_SENDTO || id == CS_NR_SENDMSG;
}

/* Loaded only with HTTP capture, in the variant matching the state hook. */
SEC("tp_btf/sys_enter")
int BPF_PROG(http_send_tp_btf, struct pt_regs *regs, long id)
{
	if (!is_send_syscall(id))
		return 0;
	return on_send_enter(regs, id);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(http_send_raw_tp, struct pt_regs *regs, long id)
{
	if (!is_send_syscall(id))
		return 0;
	return on_send_enter(regs, id);
}

#endif /* CONNSNOOP_HTTP_CAPTURE_BPF_H */
