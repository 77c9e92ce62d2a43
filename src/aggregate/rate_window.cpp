#include "aggregate/rate_window.hpp"

#include <algorithm>

namespace connsnoop {

namespace {
constexpr auto kBucketCount = static_cast<std::int64_t>(RateWindow::kBuckets);
std::size_t slot_of(std::int64_t bucket) { return static_cast<std::size_t>(bucket % kBucketCount); }
}  // namespace

std::int64_t RateWindow::bucket_of(MonoTime time) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()) / kBucket;
}

void RateWindow::add(MonoTime at, std::uint32_t count) {
    const std::int64_t bucket = bucket_of(at);
    if (newest_bucket_ >= 0 && bucket <= newest_bucket_ - kBucketCount) return;  // older than the window
    if (bucket > newest_bucket_) {
        // Buckets between the newest one and this one saw nothing: clear them (all, at most).
        const std::int64_t first_stale = std::max(newest_bucket_ + 1, bucket - kBucketCount + 1);
        for (std::int64_t stale = first_stale; stale <= bucket; ++stale) counts_[slot_of(stale)] = 0;
        newest_bucket_ = bucket;
    }
    counts_[slot_of(bucket)] += count;
}

std::uint64_t RateWindow::count_before(MonoTime now, std::chrono::milliseconds span) const {
    if (newest_bucket_ < 0) return 0;
    const std::int64_t current = bucket_of(now);
    const std::int64_t wanted = std::min<std::int64_t>(span / kBucket, kBucketCount - 1);
    std::uint64_t total = 0;
    // Buckets current-wanted .. current-1 that the ring still holds.
    for (std::int64_t bucket = std::max(current - wanted, newest_bucket_ - kBucketCount + 1);
         bucket < current && bucket <= newest_bucket_; ++bucket) {
        if (bucket >= 0) total += counts_[slot_of(bucket)];
    }
    return total;
}

}  // namespace connsnoop
