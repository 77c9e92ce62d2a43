#include "aggregate/rate_alerts.hpp"

#include <unordered_set>

namespace connsnoop {

RateAlerts::RateAlerts(double threshold, double resolve_fraction)
    : threshold_(threshold), resolve_below_(threshold * resolve_fraction) {}

std::vector<AlertTransition> RateAlerts::update(const std::vector<TalkerRow>& rows) {
    std::vector<AlertTransition> transitions;
    std::unordered_set<std::string_view> present;
    for (const auto& row : rows) {
        present.insert(row.key);
        const bool firing = firing_.contains(row.key);
        if (!firing && row.rate_1s > threshold_ && row.age >= kFullWindowAge) {
            firing_.emplace(row.key, row.label);
            transitions.push_back({row.key, row.label, row.rate_1s, true});
        } else if (firing && row.rate_1s < resolve_below_) {
            firing_.erase(row.key);
            transitions.push_back({row.key, row.label, row.rate_1s, false});
        }
    }
    for (auto it = firing_.begin(); it != firing_.end();) {
        if (present.contains(it->first)) {
            ++it;
            continue;
        }
        transitions.push_back({it->first, it->second, 0.0, false});
        it = firing_.erase(it);
    }
    return transitions;
}

}  // namespace connsnoop
