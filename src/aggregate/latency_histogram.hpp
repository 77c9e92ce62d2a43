// Connect latencies in a log-linear histogram (8 steps per power of two):
// fixed memory, mean exact, percentiles within 12.5 % of the true value.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

namespace connsnoop {

class LatencyHistogram {
public:
    void add(std::chrono::nanoseconds latency);

    [[nodiscard]] std::uint64_t count() const { return count_; }
    [[nodiscard]] std::optional<std::chrono::nanoseconds> mean() const;
    // The value below which `fraction` (0..1] of the samples lie: the upper
    // edge of the bucket holding that rank, never above the largest sample.
    [[nodiscard]] std::optional<std::chrono::nanoseconds> percentile(double fraction) const;

private:
    static constexpr int kSubBits = 3;                        // 8 buckets per power of two
    static constexpr int kLinearLimit = 1 << (kSubBits + 1);  // microseconds counted exactly below this
    static constexpr std::size_t kBuckets = kLinearLimit + (64 - kSubBits - 1) * (1 << kSubBits);

    static std::size_t bucket_of(std::uint64_t micros);
    static std::uint64_t upper_edge(std::size_t bucket);

    std::array<std::uint32_t, kBuckets> counts_{};
    std::uint64_t count_ = 0;
    std::chrono::nanoseconds sum_{0};
    std::chrono::nanoseconds max_{0};
};

}  // namespace connsnoop
