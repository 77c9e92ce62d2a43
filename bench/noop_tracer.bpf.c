// SPDX-License-Identifier: GPL-2.0
/*
 * The floors of the benchmarks: programs that do nothing, one per hook
 * connsnoop uses or considered. What one costs is the price of having any
 * BPF program there at all; connsnoop's own cost is what it adds on top.
 * noop-tracer loads only the one asked for (--hook).
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(noop_tp_btf, const struct sock* sk, int oldstate, int newstate) { return 0; }

/* The raw syscall tracepoints: every syscall of the host takes the traced path. */
SEC("tp_btf/sys_enter")
int BPF_PROG(noop_sys_enter, struct pt_regs* regs, long id) { return 0; }

SEC("tp_btf/sys_exit")
int BPF_PROG(noop_sys_exit, struct pt_regs* regs, long ret) { return 0; }

/* One syscall's exit event (needs tracefs to find its id). */
SEC("tracepoint/syscalls/sys_exit_connect")
int noop_sys_exit_connect(void* ctx) { return 0; }

/* cgroup hooks on the cgroup2 root: connect() calls and packets only. */
SEC("cgroup/connect4")
int noop_connect4(struct bpf_sock_addr* ctx) { return 1; }

SEC("cgroup_skb/egress")
int noop_egress(struct __sk_buff* skb) { return 1; }
