/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HTTP request heads on watched connections (--http, --imds-v1): which
 * process asked for what, with or without an IMDSv2 token. Part of
 * connsnoop.bpf.c, which calls http_watch_socket / http_forget_socket from
 * its state hook; the egress hook is its own program.
 *
 * Design: cgroup_skb/egress on the cgroup2 root, for watched sockets only.
 * Nothing runs per system call: a packet of a socket that is not watched
 * costs one socket-local storage lookup.
 * - A socket is watched when its connect() to an HTTP port passed the
 *   filters (the cgroup connect hooks mark it SOCKET_HTTP_WATCHED in
 *   socket_owners, lib/connect_calls.bpf.h) and its attempt was reported at
 *   CLOSE -> SYN_SENT: that adds its stream to http_streams under the
 *   socket's cookie, with a copy of the attempt's record, which names the
 *   sender. The stream is keyed by cookie, not kept in socket-local storage,
 *   because the state hook is a tracing program (lib/socket_owner.bpf.h).
 * - Each outgoing TCP segment of a watched socket with payload is appended
 *   to the socket's head, from its first payload bytes
 *   (bpf_skb_load_bytes). The TCP sequence number of the next byte not yet
 *   seen is kept per socket, so a retransmitted segment (or the part of one
 *   already seen) is not appended twice; segments leave in order, so a head
 *   split over several sends or segments is gathered in order.
 * - The sender: when the segment leaves in a thread of the process that
 *   connected (the usual case: the send itself transmits), its argv is read
 *   from its memory as the connect record's is; when it leaves in softirq
 *   (a segment Nagle held until an ACK came), current is unrelated, and the
 *   head is reported with the connecting process's identity and without argv.
 *   A child that inherited the connection is reported as its parent.
 *
 * Secrets: the head is parsed here, byte by byte, and only structured
 * fields leave the kernel (method, path, version, which headers are present,
 * the User-Agent value). Header values other than the User-Agent, the IMDSv2
 * token above all, are skipped, never copied into a record. The raw bytes
 * live only in http_streams, only until the head is parsed (then wiped), and
 * connsnoop's own descriptor of that map is write-only (BPF_F_WRONLY).
 *
 * A head split over several segments is gathered per socket (up to
 * CS_HTTP_HEAD_MAX bytes and CS_HTTP_MAX_WRITES segments); each head on a
 * keep-alive connection is its own record, and so is each of the heads
 * pipelined into one segment (up to CS_HTTP_HEADS_PER_SEGMENT; a head that
 * starts there and ends in the next segment too). A head ends at its blank
 * line; one whose request line carries no version (HTTP/0.9 style, "GET
 * /path\n") may have none, and ends when the client closes the connection
 * (FIN or RST) if no blank line came first. Every way of sending is seen
 * (write, writev, send, sendmsg, sendfile, io_uring), since the packets are.
 * Limits: connections made before connsnoop started are not seen (the socket
 * was never watched); a head is scanned in its first CS_HTTP_HEAD_MAX bytes
 * (less for a head pipelined behind another in the buffer).
 */
#ifndef CONNSNOOP_HTTP_CAPTURE_BPF_H
#define CONNSNOOP_HTTP_CAPTURE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/connect_calls.bpf.h"
#include "lib/events.bpf.h"
#include "lib/record.bpf.h"
#include "lib/socket.bpf.h"
#include "lib/socket_owner.bpf.h"

/* One watched socket: the head gathered so far and who sends it. head is
 * twice the bytes used so that an append at any offset below
 * CS_HTTP_HEAD_MAX is in bounds for the verifier. */
struct http_stream {
	__u32 len;    /* bytes gathered: the current head is head[start, len) */
	__u32 start;  /* where the current head starts: after heads pipelined before it */
	__u32 writes; /* TCP segments the current head came in */
	/* the TCP sequence number of the next payload byte not seen yet (so
	 * that a retransmitted segment is not parsed twice) */
	__u32 next_seq;
	__u32 seq_known;
	/* the connecting task, as reported at CLOSE -> SYN_SENT: names the
	 * sender of a head that leaves in softirq context (a segment Nagle held
	 * until an ACK came), where current is some unrelated task */
	struct cs_connect_record owner;
	char head[2 * CS_HTTP_HEAD_MAX];
};

/* Watched sockets (key: the socket's cookie), added at CLOSE -> SYN_SENT,
 * removed at -> CLOSE; LRU so that a socket whose close was missed cannot
 * fill it.
 * It holds raw request bytes while a head is gathered: connsnoop's own
 * descriptor of it is write-only, so nothing in connsnoop can read it back. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized by user space */
	__uint(map_flags, BPF_F_WRONLY);
	__type(key, __u64);
	__type(value, struct http_stream);
} http_streams SEC(".maps");

/* An empty stream to insert from (too large for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_stream);
} http_stream_init SEC(".maps");

#define CS_HTTP_NAME_MAX 64

/* The parser's state. It lives in a map, not on the stack: the verifier then
 * sees its values as unknown and checks the per-byte step once per byte
 * instead of once per combination of states. */
struct http_parse_state {
	__u32 len;   /* bytes to parse */
	__u32 state; /* enum http_parse_step */
	__u32 name_len;
	__u32 header; /* enum cs_http_header bit of the header being read; 0 for others */
	__u32 value_started;
	__u32 line_end;              /* index after the request line's LF; 0 until it is seen */
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

/* CLOSE -> SYN_SENT of a reported attempt (the connecting task's context):
 * watch the socket when its port is an HTTP port. */
static __always_inline void http_watch_socket(const struct sock *sk, const struct cs_connect_record *rec)
{
	__u64 cookie = socket_cookie(sk);
	__u16 dport = rec->dport;
	struct http_stream *empty, *stream;
	__u32 zero = 0;

	/* no cookie: the connect hooks did not take this socket on */
	if (cookie == 0 || !bpf_map_lookup_elem(&http_ports, &dport))
		return;
	empty = bpf_map_lookup_elem(&http_stream_init, &zero);
	if (!empty || bpf_map_update_elem(&http_streams, &cookie, empty, BPF_ANY) != 0)
		return;
	stream = bpf_map_lookup_elem(&http_streams, &cookie);
	if (stream)
		__builtin_memcpy(&stream->owner, rec, sizeof(stream->owner));
}

/* -> CLOSE of any socket: a watched one is forgotten. */
static __always_inline void http_forget_socket(const struct sock *sk)
{
	__u64 cookie = socket_cookie(sk);

	/* looked up first: a lookup takes no lock, a delete does */
	if (cookie != 0 && bpf_map_lookup_elem(&http_streams, &cookie))
		bpf_map_delete_elem(&http_streams, &cookie);
}

/* ---- parsing, one byte at a time ---- */

enum http_parse_step {
	HTTP_METHOD,
	HTTP_PATH,
	HTTP_VERSION,
	HTTP_HEADER_NAME,
	HTTP_HEADER_VALUE,
	HTTP_DONE, /* the blank line ending the head was seen */
	HTTP_NOT_HTTP,
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

/* One byte of the head; non-zero when parsing is over. */
static __always_inline long http_parse_byte(const struct http_stream *stream, struct http_scratch *buf, __u32 index)
{
	struct cs_http_record *rec = &buf->record;
	struct http_parse_state *p = &buf->parse;
	__u32 at;
	char c;

	if (index >= CS_HTTP_HEAD_MAX || index >= p->len)
		return 1;
	c = stream->head[index];

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
			if (c != '\r' && c != '\n') {
				at = rec->path_len;
				if (at >= CS_HTTP_PATH_LEN - 1) {
					rec->http_flags |= CS_HTTP_PATH_TRUNCATED;
					return 0;
				}
				rec->path[at & (CS_HTTP_PATH_LEN - 1)] = c;
				rec->path_len = at + 1;
				return 0;
			}
			/* The line ends before any version: an HTTP/0.9-style
			 * request ("GET /path"), or one whose headers follow. The
			 * version's state ends the line, as after a version. */
			if (rec->path_len == 0) {
				p->state = HTTP_NOT_HTTP;
				return 1;
			}
			p->state = HTTP_VERSION;
			__attribute__((fallthrough));
		case HTTP_VERSION:
			if (c == '\r')
				return 0;
			if (c == '\n') {
				p->line_end = index + 1;
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

/* Bytes parsed per call of http_parse_chunk. */
#define CS_HTTP_PARSE_CHUNK 32

/*
 * Parses bytes [start, start + CS_HTTP_PARSE_CHUNK) of the head gathered in
 * http_streams under stream_id (a socket cookie); non-zero when parsing is
 * over.
 *
 * A global function, called from a bounded loop: the verifier checks it once,
 * on its own, for any start, instead of once per iteration of the caller's
 * loop. This is how the parse runs on kernels without bpf_loop callbacks
 * (5.17+; 5.10 refuses an object holding one: "number of funcs in func_info
 * doesn't match number of subprogs"). Such a function may take only scalars
 * there (pointers to map values: 5.12+), so it looks the two map values up
 * itself, once per chunk.
 */
__noinline int http_parse_chunk(__u64 stream_id, __u32 start)
{
	struct http_stream *stream = bpf_map_lookup_elem(&http_streams, &stream_id);
	__u32 zero = 0;
	struct http_scratch *buf = bpf_map_lookup_elem(&http_scratch, &zero);

	if (!stream || !buf)
		return 1;
	/* A bound the verifier sees before clang hoists stream->head + start
	 * out of the loop (callers pass less than CS_HTTP_HEAD_MAX anyway). */
	start &= CS_HTTP_HEAD_MAX - 1;
	for (__u32 i = 0; i < CS_HTTP_PARSE_CHUNK; i++) {
		if (http_parse_byte(stream, buf, start + i))
			return 1;
	}
	return 0;
}

/* Appends size bytes of the segment, from offset at, to the stream. A new
 * head must start with an upper-case letter (a method); anything else
 * between heads (a request body) is passed over. */
static __always_inline void http_append(struct http_stream *stream, struct __sk_buff *skb, __u32 at, __u32 size)
{
	__u32 offset = stream->len;
	char first = 0;
	__u64 len;

	if (size == 0 || offset >= CS_HTTP_HEAD_MAX)
		return;
	if (offset == 0 && (bpf_skb_load_bytes(skb, at, &first, 1) != 0 || first < 'A' || first > 'Z'))
		return;
	if (size > CS_HTTP_HEAD_MAX - offset)
		size = CS_HTTP_HEAD_MAX - offset;
	/* size is in [1, CS_HTTP_HEAD_MAX] now, but the verifier (6.1's above
	 * all) learns no bound from a compare of two registers: mask it into
	 * that range, an identity here, after a barrier that keeps clang from
	 * folding the mask away. */
	len = size;
	asm volatile("" : "+r"(len));
	len = ((len - 1) & (CS_HTTP_HEAD_MAX - 1)) + 1;
	offset &= CS_HTTP_HEAD_MAX - 1;
	if (bpf_skb_load_bytes(skb, at, &stream->head[offset], len) != 0)
		return;
	stream->len = offset + size;
}

/* Ready for the next head; the raw bytes gathered (a token among them) are
 * wiped, not left in the map for the life of the connection. */
static __always_inline void http_reset(struct http_stream *stream)
{
	__u32 zero = 0;
	struct http_stream *empty = bpf_map_lookup_elem(&http_stream_init, &zero);

	if (empty)
		bpf_probe_read_kernel(stream->head, CS_HTTP_HEAD_MAX, empty->head);
	stream->len = 0;
	stream->start = 0;
	stream->writes = 0;
}

/* A head was taken from head[start, end) and the next one starts at end,
 * pipelined behind it in the same segment: the taken bytes are wiped. */
static __always_inline void http_take_bytes(struct http_stream *stream, __u32 end)
{
	__u32 zero = 0;
	struct http_stream *empty = bpf_map_lookup_elem(&http_stream_init, &zero);
	__u64 from = stream->start, size = end - stream->start;

	/* size is in [1, CS_HTTP_HEAD_MAX) and from below CS_HTTP_HEAD_MAX;
	 * masked so that the verifier sees it (head is twice that long) */
	asm volatile("" : "+r"(size));
	size = ((size - 1) & (CS_HTTP_HEAD_MAX - 1)) + 1;
	from &= CS_HTTP_HEAD_MAX - 1;
	if (empty)
		bpf_probe_read_kernel(&stream->head[from], size, empty->head);
	stream->start = end;
	stream->writes = 1; /* the rest of the segment that ended the head before */
}

/* The version of a request line that did not end (the client closed, or the
 * head outgrew what is gathered): what arrived of it must start "HTTP/" as
 * far as it goes, or the line is another protocol's ("RTSP/1.0"). */
static __always_inline bool version_start_is_http(const struct cs_http_record *rec)
{
	__u32 len = rec->version_len;

	return (len < 1 || rec->version[0] == 'H') && (len < 2 || rec->version[1] == 'T') &&
	       (len < 3 || rec->version[2] == 'T') && (len < 4 || rec->version[3] == 'P') &&
	       (len < 5 || rec->version[4] == '/');
}

/* Whether another head may follow this one in the same segment. Clients
 * pipeline only methods without a body (GET, HEAD); after any other, the
 * bytes that follow are its body, never a request line ("STOP" of a PUT's
 * body would else begin the next head's method). */
static __always_inline bool may_pipeline_after(const struct cs_http_record *rec)
{
	if (rec->method_len == 3)
		return rec->method[0] == 'G' && rec->method[1] == 'E' && rec->method[2] == 'T';
	return rec->method_len == 4 && rec->method[0] == 'H' && rec->method[1] == 'E' && rec->method[2] == 'A' &&
	       rec->method[3] == 'D';
}

/* A request line gives a record when it names an HTTP version, or none at
 * all with an origin-form path (HTTP/0.9 style: "GET /path"); anything else
 * there is another protocol. */
static __always_inline bool request_line_is_http(const struct cs_http_record *rec)
{
	if (rec->version_len == 0)
		return rec->path[0] == '/';
	return rec->version_len >= 6 && version_start_is_http(rec);
}

/* The head's record: the connection and its sender (see the top of the file). */
static __always_inline void http_report(__u16 sport, const struct http_stream *stream, struct http_scratch *buf)
{
	const struct cs_connect_record *owner = &stream->owner;
	struct cs_http_record *rec = &buf->record;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	__builtin_memcpy(&rec->process, owner, sizeof(rec->process));
	rec->process.kind = CS_RECORD_HTTP;
	rec->process.flags &= ~CS_OUTCOME_UNTRACKED;
	rec->process.attempt_id = 0;
	rec->process.timestamp_ns = bpf_ktime_get_ns();
	rec->process.sport = sport; /* chosen after the attempt was reported */
	if (BPF_CORE_READ(task, tgid) == owner->pid) {
		rec->process.tid = BPF_CORE_READ(task, pid);
		rec->process.flags &= ~(CS_ARGV_TRUNCATED | CS_ARGV_UNREADABLE | CS_ARGV_REWRITTEN);
		rec->process.argv_len = read_current_argv(buf->argv, CS_ARGV_CAPACITY, argv_max, true,
		                                          &rec->process.flags, &rec->process.argv_area_len);
	} else {
		rec->process.argv_len = 0;
		rec->process.flags |= CS_ARGV_UNREADABLE;
	}
	emit_task_record(buf, sizeof(*buf), sizeof(*rec), &rec->process);
}

/* Heads taken from one segment at most: the first, and the ones pipelined
 * behind it. */
#define CS_HTTP_HEADS_PER_SEGMENT 4

/*
 * Parses the head at head[start, len) of the stream under stream_id (a socket
 * cookie) and reports it once it is whole: its blank line arrived; or the
 * gathering limits are reached; or `final`, when the client closes the
 * connection (a FIN or RST: nothing more will come; an HTTP/0.9 request has
 * no blank line, its end is the connection's). Returns non-zero when another
 * head, pipelined behind this one, starts in the bytes gathered.
 *
 * A global function like http_parse_chunk (see there): checked once, on its
 * own, however many heads a segment holds.
 */
__noinline int http_take_head(__u64 stream_id, __u32 sport, __u32 final)
{
	struct http_stream *stream = bpf_map_lookup_elem(&http_streams, &stream_id);
	__u32 zero = 0;
	struct http_scratch *buf = bpf_map_lookup_elem(&http_scratch, &zero);
	struct cs_http_record *rec;
	__u32 start, end;

	if (!stream || !buf)
		return 0;
	rec = &buf->record;
	start = stream->start;
	if (start >= stream->len || start >= CS_HTTP_HEAD_MAX) {
		http_reset(stream);
		return 0;
	}
	__builtin_memset(&rec->headers, 0, sizeof(*rec) - __builtin_offsetof(struct cs_http_record, headers));
	__builtin_memset(&buf->parse, 0, sizeof(buf->parse));
	buf->parse.len = stream->len;
	for (__u32 i = 0; i < CS_HTTP_HEAD_MAX / CS_HTTP_PARSE_CHUNK; i++) {
		__u32 at = start + i * CS_HTTP_PARSE_CHUNK;

		if (at >= CS_HTTP_HEAD_MAX || http_parse_chunk(stream_id, at))
			break;
	}

	if (buf->parse.state == HTTP_NOT_HTTP) {
		http_reset(stream);
		return 0;
	}
	if (buf->parse.state == HTTP_DONE) {
		end = rec->head_len; /* the index after the blank line */
	} else {
		if (!final && stream->len < CS_HTTP_HEAD_MAX && stream->writes < CS_HTTP_MAX_WRITES)
			return 0; /* wait for the rest of the head */
		if (buf->parse.state < HTTP_PATH) {
			http_reset(stream); /* not even a method and a path in all that */
			return 0;
		}
		/* A request line without a version and nothing after it is a
		 * whole HTTP/0.9 request; anything else lacks its end. A
		 * version whose line did not end is not reported, but must
		 * have begun as HTTP's. */
		if (buf->parse.line_end == 0) {
			if (!version_start_is_http(rec)) {
				http_reset(stream);
				return 0;
			}
			rec->version_len = 0;
		}
		if (rec->version_len != 0 || buf->parse.line_end == 0 || buf->parse.line_end != stream->len)
			rec->http_flags |= CS_HTTP_HEAD_INCOMPLETE;
		end = stream->len;
	}
	rec->head_len = end - start;
	rec->writes = stream->writes;
	if (request_line_is_http(rec))
		http_report(sport, stream, buf);
	if (end >= stream->len || end >= CS_HTTP_HEAD_MAX || !may_pipeline_after(rec)) {
		http_reset(stream);
		return 0;
	}
	http_take_bytes(stream, end);
	return 1;
}

/* Where the TCP payload of an outgoing packet starts, its length (0 for a
 * segment without payload), its sequence number and whether it ends what the
 * client sends (FIN or RST); false for packets that are not TCP. The packet
 * starts at its IP header. */
static __always_inline bool tcp_segment(struct __sk_buff *skb, __u32 *at, __u32 *len, __u32 *seq, bool *closing)
{
	__u32 ip_len, tcp_len;
	__u8 byte = 0;
	struct tcphdr tcp;

	if (bpf_skb_load_bytes(skb, 0, &byte, 1) != 0)
		return false;
	if ((byte >> 4) == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) != 0 || ip.protocol != IPPROTO_TCP)
			return false;
		ip_len = (ip.ihl & 0xf) * 4;
	} else if ((byte >> 4) == 6) {
		struct ipv6hdr ip6;

		/* a locally sent TCP segment carries no extension header */
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) != 0 || ip6.nexthdr != IPPROTO_TCP)
			return false;
		ip_len = sizeof(ip6);
	} else {
		return false;
	}
	if (bpf_skb_load_bytes(skb, ip_len, &tcp, sizeof(tcp)) != 0)
		return false;
	tcp_len = tcp.doff * 4;
	*at = ip_len + tcp_len;
	*len = skb->len > *at ? skb->len - *at : 0;
	*seq = bpf_ntohl(tcp.seq);
	*closing = tcp.fin || tcp.rst;
	return true;
}

/* One outgoing segment of a watched socket: gather and parse. */
static __always_inline void http_on_segment(struct __sk_buff *skb, struct bpf_sock *sk, __u64 stream_id,
                                            struct http_stream *stream)
{
	__u32 at, len, seq, seen;
	bool closing;
	__s32 ahead;

	if (!tcp_segment(skb, &at, &len, &seq, &closing))
		return;
	/* A segment without payload matters only when it closes the
	 * connection with a head pending. Not an ACK: one acknowledging the
	 * server's reply to a first pipelined head comes while the next one may
	 * be still on its way. */
	if (len == 0 && (!closing || stream->len == 0))
		return;
	if (len != 0) {
		if (!stream->seq_known) {
			stream->next_seq = seq;
			stream->seq_known = 1;
		}
		ahead = (__s32)(seq - stream->next_seq);
		if (ahead > 0) {
			/* bytes we never saw (cannot happen on egress): start afresh */
			stream->next_seq = seq;
			ahead = 0;
		}
		seen = (__u32)-ahead;
		if (seen >= len)
			return; /* a retransmission of what was seen */
		stream->next_seq = seq + len;
		http_append(stream, skb, at + seen, len - seen);
		if (stream->len == 0)
			return; /* nothing of a head in this segment */
		stream->writes += 1;
	}

	for (int i = 0; i < CS_HTTP_HEADS_PER_SEGMENT; i++) {
		if (!http_take_head(stream_id, sk->src_port, closing))
			break;
	}
}

/* Loaded only with HTTP capture; attached to the cgroup2 root. Always lets
 * the packet through. */
SEC("cgroup_skb/egress")
int http_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct socket_owner *owner;
	struct http_stream *stream;
	__u64 cookie;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_TCP)
		return 1;
	owner = bpf_sk_storage_get(&socket_owners, sk, 0, 0);
	if (!owner || !(owner->flags & SOCKET_HTTP_WATCHED))
		return 1;
	cookie = bpf_get_socket_cookie(skb);
	stream = bpf_map_lookup_elem(&http_streams, &cookie);
	if (stream)
		http_on_segment(skb, sk, cookie, stream);
	return 1;
}

#endif /* CONNSNOOP_HTTP_CAPTURE_BPF_H */
