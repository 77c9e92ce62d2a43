#include "aggregate/latency_histogram.hpp"

#include <bit>
#include <cmath>

namespace connsnoop {

std::size_t LatencyHistogram::bucket_of(std::uint64_t micros) {
    if (micros < static_cast<std::uint64_t>(kLinearLimit)) return static_cast<std::size_t>(micros);
    const int exponent = static_cast<int>(std::bit_width(micros)) - 1;  // >= kSubBits + 1
    const auto sub = static_cast<std::size_t>((micros >> (exponent - kSubBits)) & ((1U << kSubBits) - 1));
    return kLinearLimit + static_cast<std::size_t>(exponent - kSubBits - 1) * (1U << kSubBits) + sub;
}

std::uint64_t LatencyHistogram::upper_edge(std::size_t bucket) {
    if (bucket < static_cast<std::size_t>(kLinearLimit)) return bucket;
    const std::size_t offset = bucket - kLinearLimit;
    const int exponent = static_cast<int>(offset >> kSubBits) + kSubBits + 1;
    const std::uint64_t sub = offset & ((1U << kSubBits) - 1);
    const std::uint64_t lower = ((1ULL << kSubBits) + sub) << (exponent - kSubBits);
    return lower + (1ULL << (exponent - kSubBits)) - 1;
}

void LatencyHistogram::add(std::chrono::nanoseconds latency) {
    if (latency.count() < 0) latency = std::chrono::nanoseconds(0);
    const auto micros = static_cast<std::uint64_t>(latency.count() / 1000);
    ++counts_[bucket_of(micros)];
    ++count_;
    sum_ += latency;
    if (latency > max_) max_ = latency;
}

std::optional<std::chrono::nanoseconds> LatencyHistogram::mean() const {
    if (count_ == 0) return std::nullopt;
    return sum_ / static_cast<std::int64_t>(count_);
}

std::optional<std::chrono::nanoseconds> LatencyHistogram::percentile(double fraction) const {
    if (count_ == 0) return std::nullopt;
    const auto rank = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < kBuckets; ++bucket) {
        seen += counts_[bucket];
        if (seen >= rank && seen > 0) {
            const std::chrono::nanoseconds edge(static_cast<std::int64_t>(upper_edge(bucket) * 1000 + 999));
            return edge < max_ ? edge : max_;
        }
    }
    return max_;
}

}  // namespace connsnoop
