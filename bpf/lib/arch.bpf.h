/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Architecture facts the syscall hooks need (vmlinux.h is per arch), and the
 * few kernel constants that are macros, so not in vmlinux.h.
 */
#ifndef CONNSNOOP_LIB_ARCH_BPF_H
#define CONNSNOOP_LIB_ARCH_BPF_H

#if defined(__TARGET_ARCH_x86)
#define CS_NR_CONNECT 42
#define CS_NR_WRITE 1
#define CS_NR_WRITEV 20
#define CS_NR_SENDTO 44
#define CS_NR_SENDMSG 46
#define syscall_nr_of(regs) ((regs)->orig_ax)
#define syscall_nr_field orig_ax
#elif defined(__TARGET_ARCH_arm64)
#define CS_NR_CONNECT 203
#define CS_NR_WRITE 64
#define CS_NR_WRITEV 66
#define CS_NR_SENDTO 206
#define CS_NR_SENDMSG 211
#define syscall_nr_of(regs) ((regs)->syscallno)
#define syscall_nr_field syscallno
#else
#error "connsnoop: syscall numbers unknown for this architecture"
#endif

/* The same values on every Linux architecture we build for. */
#define CS_EINPROGRESS 115
#define CS_S_IFMT 0170000
#define CS_S_IFSOCK 0140000

#endif /* CONNSNOOP_LIB_ARCH_BPF_H */
