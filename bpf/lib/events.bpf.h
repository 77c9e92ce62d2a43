/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring buffer every record leaves through, the per-CPU counters of what
 * could not be reported, and the one function that writes a record.
 */
#ifndef CONNSNOOP_LIB_EVENTS_BPF_H
#define CONNSNOOP_LIB_EVENTS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "connsnoop_abi.h"

/* Wake the reader at once when this much is waiting (a quarter of the ring). */
const volatile __u64 wakeup_fill_bytes = 1 << 20;

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

/* Last reader wake-up on this CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_wakeup SEC(".maps");

static __always_inline void count_stat(__u32 which)
{
	__u64 *counter = bpf_map_lookup_elem(&stats, &which);

	if (counter)
		*counter += 1; /* per-CPU slot: no atomics needed */
}

/* Waking the reader is paid by the connecting task (irq_work, a self-IPI,
 * then a scheduler wake-up: microseconds on a VM, tens of them on this
 * project's), and the default wakes it whenever it has caught up, i.e. for
 * almost every event at moderate rates. Instead: wake at most once per
 * WAKEUP_INTERVAL_NS per CPU, or when the ring is filling up. An isolated
 * event still wakes the reader at once; one that follows within the
 * interval waits at most for the reader's 100 ms poll. 20 ms, not 5: a
 * storm's reader then costs 14-21% less CPU per event and its connecting
 * tasks pay a quarter of the wake-ups (docs/BENCHMARKS.md, #14); a stream
 * read by people or pipes does not see 20 ms. */
#define WAKEUP_INTERVAL_NS (20ULL * 1000 * 1000)

/* And only while the reader sleeps in epoll_wait on the ring: user space sets
 * this (through the mmapped .bss) around that wait. Otherwise it is reading,
 * or pausing between batches, and reads the ring before it next sleeps, so a
 * wake-up would wake nobody: under a connect storm that was every one of
 * them, about 100 ns per reported connect, and a ring query per record. */
__u32 reader_waiting = 0;

/* After a record was committed. The commit's xchg is a full barrier before
 * the flag is read, and user space sets the flag, then (a full barrier)
 * looks for records before it sleeps: one of the two sees the other, so a
 * record is never left unannounced behind a sleeping reader. */
static __always_inline void wake_reader_if_due(__u64 now)
{
	__u32 zero = 0;
	__u64 *last;
	void *nudge;

	if (!*(volatile __u32 *)&reader_waiting)
		return;
	last = bpf_map_lookup_elem(&last_wakeup, &zero);
	if (!last)
		return;
	if (now - *last < WAKEUP_INTERVAL_NS && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_fill_bytes)
		return;
	*last = now;
	/* The record is in already: an empty reservation, discarded (libbpf
	 * skips it), carries the wake-up. */
	nudge = bpf_ringbuf_reserve(&events, 8, 0);
	if (nudge)
		bpf_ringbuf_discard(nudge, BPF_RB_FORCE_WAKEUP);
}

/* Copies a record to the ring buffer; a full ring counts it as lost. now:
 * bpf_ktime_get_ns() read a moment ago (the record's own timestamp), for the
 * wake-up decision: one clock read per record, not two. */
static __always_inline void output_record_at(void *record, __u64 size, __u64 now)
{
	if (bpf_ringbuf_output(&events, record, size, BPF_RB_NO_WAKEUP) != 0) {
		count_stat(CS_STAT_LOST_EVENTS);
		return;
	}
	wake_reader_if_due(now);
}

static __always_inline void output_record(void *record, __u64 size)
{
	output_record_at(record, size, bpf_ktime_get_ns());
}

#endif /* CONNSNOOP_LIB_EVENTS_BPF_H */
