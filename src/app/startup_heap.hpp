// Start-up's memory pattern, made cheaper: loading each BPF object makes
// libbpf read the kernel's BTF (5 MB on a Debian kernel) into new buffers,
// parse it and free it again, and a start reads it three times (the tp_btf
// probe, the exec tracker, the connect tracer). glibc serves buffers that big
// with mmap and unmaps them when freed, so each read paid again for page
// faults on fresh zeroed pages: a third of start-up's CPU time. While a
// StartupHeap lives, big buffers come from the heap and stay there when
// freed, so the second and third reads reuse pages already faulted in.
#pragma once

namespace connsnoop {

class StartupHeap {
public:
    StartupHeap();
    ~StartupHeap() { end_startup_heap(); }
    StartupHeap(const StartupHeap&) = delete;
    StartupHeap& operator=(const StartupHeap&) = delete;

    // Once tracing runs: glibc's thresholds back, and the free heap returned
    // to the kernel (RSS as without it). Idempotent, and a no-op without a
    // StartupHeap.
    static void end_startup_heap();
};

}  // namespace connsnoop
