// Connection attempts counted in 100 ms buckets over the last minute, so
// that rates over 1 s, 10 s and 60 s cost a fixed 2.4 KB per group however
// fast a process connects.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "aggregate/clock.hpp"

namespace connsnoop {

class RateWindow {
public:
    static constexpr std::chrono::milliseconds kBucket{100};
    static constexpr std::size_t kBuckets = 600;  // 60 s
    static constexpr std::chrono::milliseconds kSpan = kBucket * kBuckets;

    // Counts one attempt at `at`. Attempts older than the window are ignored.
    void add(MonoTime at, std::uint32_t count = 1);

    // Attempts in the `span` before the start of the bucket holding `now`:
    // only complete buckets count, so a rate is never diluted by a bucket
    // that has just begun (it lags by at most one bucket instead).
    [[nodiscard]] std::uint64_t count_before(MonoTime now, std::chrono::milliseconds span) const;

private:
    static std::int64_t bucket_of(MonoTime time);

    std::array<std::uint32_t, kBuckets> counts_{};
    std::int64_t newest_bucket_ = -1;  // -1: nothing counted yet
};

}  // namespace connsnoop
