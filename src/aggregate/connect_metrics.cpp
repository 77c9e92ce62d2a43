#include "aggregate/connect_metrics.hpp"

namespace connsnoop {

namespace {
const std::string kOther = "other";
}

ConnectMetrics::ConnectMetrics(MetricsConfig config)
    : config_(std::move(config)),
      start_time_seconds_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {}

const char* ConnectMetrics::key_name(MetricsKey key) {
    switch (key) {
        case MetricsKey::comm:
            return "comm";
        case MetricsKey::exe:
            return "exe";
        case MetricsKey::unit:
            return "unit";
        case MetricsKey::container:
            return "container";
    }
    return "comm";
}

SeriesLabels ConnectMetrics::labels_for(const ConnectEvent& event) const {
    SeriesLabels labels;
    switch (config_.key) {
        case MetricsKey::comm:
            labels.key = event.comm;
            break;
        case MetricsKey::exe:
            labels.key = event.exe.empty() ? event.comm : event.exe;
            break;
        case MetricsKey::unit:
            labels.key = event.unit;
            break;
        case MetricsKey::container:
            labels.key = event.container_id.substr(0, 12);
            break;
    }
    labels.daddr = kOther;
    for (const auto& cidr : config_.destinations) {
        if (cidr.contains(event.destination)) {
            labels.daddr = cidr.to_string();
            break;
        }
    }
    labels.dport = std::to_string(event.destination_port);
    return labels;
}

void ConnectMetrics::count(std::map<SeriesLabels, std::uint64_t>& series, SeriesLabels labels) {
    const std::lock_guard lock(mutex_);
    if (auto found = series.find(labels); found != series.end()) {
        ++found->second;
        return;
    }
    if (series.size() >= config_.max_series) {
        // Over the cap: one catch-all series, so the exposition stays bounded.
        ++folded_attempts_;
        ++series[SeriesLabels{kOther, kOther, kOther, labels.result}];
        return;
    }
    series.emplace(std::move(labels), 1);
}

void ConnectMetrics::record_attempt(const ConnectEvent& event) { count(attempts_, labels_for(event)); }

void ConnectMetrics::record_result(const ConnectEvent& event) {
    if (!event.outcome) return;
    auto labels = labels_for(event);
    labels.result = result_name(event.outcome->result);
    count(results_, std::move(labels));
}

void ConnectMetrics::update_health(const ToolHealth& health) {
    const std::lock_guard lock(mutex_);
    health_ = health;
}

void ConnectMetrics::record_imds_request(const ConnectEvent& connection, std::string_view version) {
    auto labels = labels_for(connection);
    labels.result = version;
    count(imds_requests_, std::move(labels));
}

MetricsSnapshot ConnectMetrics::snapshot() const {
    const std::lock_guard lock(mutex_);
    return MetricsSnapshot{key_name(config_.key), attempts_, results_,           imds_requests_,
                           folded_attempts_,      health_,   start_time_seconds_};
}

}  // namespace connsnoop
