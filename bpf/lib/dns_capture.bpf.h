/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DNS queries (--dns): the first question's name and type of each datagram a
 * watched socket sends to the DNS port, parsed in the kernel.
 *
 * The datagram is seen on cgroup_skb/egress (lib/udp_sends.bpf.h), and only
 * for sockets whose owner passed the filters in the connect or sendmsg hook;
 * the destination filters are tested again on the datagram's own header
 * (an unconnected socket may send anywhere). Only structured fields leave the
 * kernel: the header's ID and flags, QDCOUNT, the name in wire form, QTYPE
 * and QCLASS. The name is walked label by label (at most 128 steps, each
 * bounded with a mask: 6.1's verifier learns nothing from comparing two
 * registers, and 5.10 has no bpf_loop); user space turns it into text and
 * escapes it (untrusted bytes). A compression pointer, a reserved label type,
 * a label running past the datagram or a name past 255 bytes stop the walk
 * and are flagged, never followed.
 */
#ifndef CONNSNOOP_LIB_DNS_CAPTURE_BPF_H
#define CONNSNOOP_LIB_DNS_CAPTURE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/events.bpf.h"
#include "lib/filters.bpf.h"
#include "lib/record.bpf.h"
#include "lib/udp_owner.bpf.h"

/* --dns, fixed before load. */
const volatile bool dns_capture = false;

/* The question section is loaded into this many bytes (a power of two, so a
 * mask bounds every index): the longest name, its type and class. */
#define DNS_QUESTION_BUFFER 512
#define DNS_QUESTION_MAX (CS_DNS_NAME_MAX - 1 + 4)
#define DNS_HEADER_LEN 12
/* A name of 255 bytes has at most 127 labels of one byte, and the root. */
#define DNS_MAX_LABELS 128

struct dns_scratch {
	struct cs_dns_record record;
	char argv[CS_ARGV_CAPACITY]; /* must follow the record: they go out together */
	__u8 question[DNS_QUESTION_BUFFER];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} dns_scratch SEC(".maps");

struct dns_header {
	__be16 id;
	__be16 flags;
	__be16 qdcount;
	__be16 ancount;
	__be16 nscount;
	__be16 arcount;
};

/* question[at], at masked behind a barrier: clang would drop a mask it can
 * prove is an identity, and the verifier could not bound the index then. */
static __always_inline __u8 question_byte(const struct dns_scratch *buf, __u32 at)
{
	asm volatile("" : "+r"(at));
	return buf->question[at & (DNS_QUESTION_BUFFER - 1)];
}

/* Walks the labels of the name at the start of question (avail bytes
 * there): sets name_len, dns_flags and, when the name ends well, the type
 * and class after it. */
static __always_inline void dns_parse_question(struct dns_scratch *buf, __u32 avail)
{
	struct cs_dns_record *rec = &buf->record;
	__u32 pos = 0, end = 0;
	__u8 label;

	for (int i = 0; i < DNS_MAX_LABELS; i++) {
		if (pos >= avail) {
			rec->dns_flags |= CS_DNS_NAME_MALFORMED; /* runs past the datagram */
			break;
		}
		label = question_byte(buf, pos);
		if (label == 0) {
			end = pos + 1;
			break;
		}
		if ((label & 0xc0) == 0xc0) {
			rec->dns_flags |= CS_DNS_NAME_COMPRESSED;
			break;
		}
		if (label & 0xc0) {
			rec->dns_flags |= CS_DNS_NAME_MALFORMED; /* reserved label type */
			break;
		}
		pos += label + 1;
		if (pos >= CS_DNS_NAME_MAX) {
			rec->dns_flags |= CS_DNS_NAME_MALFORMED; /* longer than 255 bytes */
			break;
		}
	}
	if (end == 0 && rec->dns_flags == 0)
		rec->dns_flags |= CS_DNS_NAME_MALFORMED;
	/* the bytes to copy: the whole name, or what was there before the walk stopped */
	rec->name_len = end ? end : (pos < avail ? pos : avail);
	if (rec->name_len > CS_DNS_NAME_MAX - 1)
		rec->name_len = CS_DNS_NAME_MAX - 1;
	if (end && end + 4 <= avail) {
		rec->qtype = (__u16)question_byte(buf, end) << 8 | question_byte(buf, end + 1);
		rec->qclass = (__u16)question_byte(buf, end + 2) << 8 | question_byte(buf, end + 3);
	}
}

/* One datagram of a watched socket, in the sender's context. */
static __always_inline void dns_on_datagram(struct __sk_buff *skb, const struct udp_owner *owner,
                                            const struct udp_datagram *dgram)
{
	struct cs_dns_record *rec;
	struct dns_scratch *buf;
	struct dns_header header;
	__u32 zero = 0, avail;
	__u64 len;

	if (dgram->dport != CS_DNS_PORT || dgram->payload_len < DNS_HEADER_LEN + 5)
		return; /* the header, the root name, a type and a class at least */
	if (!destination_wanted(dgram->family, dgram->daddr, dgram->dport))
		return;
	if (bpf_skb_load_bytes(skb, dgram->payload_at, &header, sizeof(header)) != 0)
		return;
	if (bpf_ntohs(header.flags) & 0x8000)
		return; /* QR set: a response (a resolver on this host answering) */
	if (header.qdcount == 0)
		return;
	buf = bpf_map_lookup_elem(&dns_scratch, &zero);
	if (!buf)
		return;
	rec = &buf->record;
	avail = dgram->payload_len - DNS_HEADER_LEN;
	if (avail > DNS_QUESTION_MAX)
		avail = DNS_QUESTION_MAX;
	/* avail is in [5, DNS_QUESTION_MAX]: a mask the verifier sees, after a
	 * barrier that keeps clang from folding it away */
	len = avail;
	asm volatile("" : "+r"(len));
	len = ((len - 1) & (DNS_QUESTION_BUFFER - 1)) + 1;
	if (bpf_skb_load_bytes(skb, dgram->payload_at + DNS_HEADER_LEN, buf->question, len) != 0)
		return;

	__builtin_memset(&rec->query_id, 0, sizeof(*rec) - __builtin_offsetof(struct cs_dns_record, query_id));
	rec->query_id = bpf_ntohs(header.id);
	rec->header_flags = bpf_ntohs(header.flags);
	rec->question_count = bpf_ntohs(header.qdcount);
	dns_parse_question(buf, avail);
	len = rec->name_len;
	if (len > 0) {
		asm volatile("" : "+r"(len));
		len = ((len - 1) & (CS_DNS_NAME_MAX - 1)) + 1;
		bpf_probe_read_kernel(rec->name, len, buf->question);
	}
	fill_from_owner(&rec->process, buf->argv, owner, dgram);
	rec->process.kind = CS_RECORD_DNS;
	emit_task_record(buf, sizeof(*buf), sizeof(*rec), &rec->process);
}

#endif /* CONNSNOOP_LIB_DNS_CAPTURE_BPF_H */
