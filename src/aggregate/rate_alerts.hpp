// --alert RATE: one "firing" transition when a group's attempts per second
// (over the last second) rise above RATE, one "resolved" when they fall below
// RATE * resolve_fraction. The gap between the two is the hysteresis that
// keeps a group hovering around RATE from flapping.
//
// A group fires only once its last second is all its own history: a group
// that began 0.3 s ago at 95/s has only 31 attempts in the last second, and
// an alert then would state 31/s for a process running at 95/s.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "aggregate/talker_table.hpp"

namespace connsnoop {

struct AlertTransition {
    std::string key;      // raw group key
    std::string label;    // raw latest command line of the group (may be empty)
    double rate = 0;      // attempts per second over the last second when the state changed
    bool firing = false;  // false: resolved
};

class RateAlerts {
public:
    static constexpr double kDefaultResolveFraction = 0.8;
    // The 1 s window plus the bucket that has just begun (see RateWindow).
    static constexpr std::chrono::milliseconds kFullWindowAge{1100};

    explicit RateAlerts(double threshold, double resolve_fraction = kDefaultResolveFraction);

    // `rows`: every current group. A firing group that is gone (expired) resolves.
    std::vector<AlertTransition> update(const std::vector<TalkerRow>& rows);

    [[nodiscard]] double threshold() const { return threshold_; }
    [[nodiscard]] bool is_firing(const std::string& key) const { return firing_.contains(key); }
    [[nodiscard]] std::size_t firing_count() const { return firing_.size(); }

private:
    double threshold_;
    double resolve_below_;
    std::unordered_map<std::string, std::string> firing_;  // key -> label
};

}  // namespace connsnoop
