// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the overhead benchmark: a program on the same hook as
 * connsnoop (tp_btf/inet_sock_set_state) that does nothing. What it costs
 * is the price of having any BPF program there at all; connsnoop's own cost
 * is what it adds on top.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(noop_tp_btf, const struct sock* sk, int oldstate, int newstate) { return 0; }
