#include "app/startup_heap.hpp"

#include <malloc.h>

namespace connsnoop {

namespace {
// glibc's defaults (mallopt(3)). Setting the mmap threshold turns off its
// dynamic adjustment, which only matters for programs that free big buffers
// in a loop: the reader's buffers are reused, not freed.
constexpr int kDefaultMmapThreshold = 128 * 1024;
constexpr int kDefaultTrimThreshold = 128 * 1024;
// The largest mmap threshold glibc accepts on 64-bit systems; the kernel's
// BTF (5-6 MB, parsed into about twice that) fits far below it.
constexpr int kStartupMmapThreshold = 32 * 1024 * 1024;
constexpr int kStartupTrimThreshold = 256 * 1024 * 1024;

bool g_active = false;
}  // namespace

StartupHeap::StartupHeap() {
    if (g_active) return;
    g_active =
        mallopt(M_MMAP_THRESHOLD, kStartupMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kStartupTrimThreshold) == 1;
}

void StartupHeap::end_startup_heap() {
    if (!g_active) return;
    g_active = false;
    mallopt(M_MMAP_THRESHOLD, kDefaultMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kDefaultTrimThreshold);
    malloc_trim(0);
}

}  // namespace connsnoop
