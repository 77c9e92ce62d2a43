// Aggregation runs on the monotonic clock the kernel stamps events with
// (CLOCK_MONOTONIC, which is steady_clock on Linux). Nothing in this layer
// reads a clock: callers pass "now", so tests drive it with a fake one.
#pragma once

#include <chrono>
#include <cstdint>

namespace connsnoop {

using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;

inline MonoTime mono_time_from_ns(std::uint64_t monotonic_ns) {
    return MonoTime(std::chrono::duration_cast<MonoClock::duration>(std::chrono::nanoseconds(monotonic_ns)));
}

}  // namespace connsnoop
