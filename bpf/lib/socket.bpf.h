/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The endpoints of a socket.
 */
#ifndef CONNSNOOP_LIB_SOCKET_BPF_H
#define CONNSNOOP_LIB_SOCKET_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"
#include "lib/kernel_read.bpf.h"

static __always_inline bool is_v4_mapped(const __u8 addr[16])
{
	return ((const __u64 *)addr)[0] == 0 && ((const __u32 *)addr)[2] == bpf_htonl(0x0000ffff);
}

/*
 * The socket's cookie, the kernel's id for it (never reused while the system
 * runs), as tracing programs read it; 0 when nothing has asked for it yet.
 * The cgroup hooks ask for it (bpf_get_socket_cookie) when they take a
 * socket on, so it keys per-socket state that tracing programs can reach on
 * every kernel: they may use socket-local storage only from 5.11 on.
 */
static __always_inline __u64 socket_cookie(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* Fills family, ports and addresses; false for families other than IPv4/IPv6.
 * typed: see lib/kernel_read.bpf.h. */
static __always_inline bool read_endpoints(bool typed, const struct sock *sk, struct cs_connect_record *rec)
{
	const struct sock_common *common = &sk->__sk_common;
	__u16 family = CS_READ(typed, common->skc_family, sk, __sk_common.skc_family);

	rec->dport = bpf_ntohs(CS_READ(typed, common->skc_dport, sk, __sk_common.skc_dport));
	rec->sport = CS_READ(typed, common->skc_num, sk, __sk_common.skc_num);

	if (family == CS_AF_INET) {
		rec->family = CS_AF_INET;
		if (typed) {
			*(__u32 *)rec->daddr = common->skc_daddr;
			*(__u32 *)rec->saddr = common->skc_rcv_saddr;
		} else {
			BPF_CORE_READ_INTO((__u32 *)rec->daddr, sk, __sk_common.skc_daddr);
			BPF_CORE_READ_INTO((__u32 *)rec->saddr, sk, __sk_common.skc_rcv_saddr);
		}
		return true;
	}
	if (family != CS_AF_INET6)
		return false;

	if (typed) {
		const __u32 *daddr = common->skc_v6_daddr.in6_u.u6_addr32;
		const __u32 *saddr = common->skc_v6_rcv_saddr.in6_u.u6_addr32;

#pragma unroll
		for (int i = 0; i < 4; i++) {
			((__u32 *)rec->daddr)[i] = daddr[i];
			((__u32 *)rec->saddr)[i] = saddr[i];
		}
	} else {
		BPF_CORE_READ_INTO(&rec->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&rec->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	}
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

/* The inode number of the socket's network namespace. */
static __always_inline __u32 socket_netns(bool typed, const struct sock *sk)
{
	return CS_READ(typed, sk->__sk_common.skc_net.net->ns.inum, sk, __sk_common.skc_net.net, ns.inum);
}

#endif /* CONNSNOOP_LIB_SOCKET_BPF_H */
