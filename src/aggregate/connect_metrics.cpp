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

void ConnectMetrics::record_linklocal(const ConnectEvent& owner, bool owner_known, LinklocalLabels labels,
                                      std::uint64_t packets, std::uint64_t bytes) {
    labels.key = owner_known ? labels_for(owner).key : std::string("unknown");
    const std::lock_guard lock(mutex_);
    linklocal_ = true;
    auto found = linklocal_traffic_.find(labels);
    if (found == linklocal_traffic_.end()) {
        if (linklocal_traffic_.size() >= config_.max_series) {
            // over the cap: one catch-all series per service and way
            labels.key = kOther;
        }
        found = linklocal_traffic_.try_emplace(std::move(labels)).first;
    }
    found->second.packets += packets;
    found->second.bytes += bytes;
}

void ConnectMetrics::update_linklocal_rate(double budget_pps, double sent_pps) {
    const std::lock_guard lock(mutex_);
    linklocal_ = true;
    linklocal_budget_pps_ = budget_pps;
    linklocal_sent_pps_ = sent_pps;
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
    MetricsSnapshot snapshot;
    snapshot.key_name = key_name(config_.key);
    snapshot.attempts = attempts_;
    snapshot.results = results_;
    snapshot.imds_requests = imds_requests_;
    snapshot.folded_attempts = folded_attempts_;
    snapshot.linklocal = linklocal_;
    snapshot.linklocal_traffic = linklocal_traffic_;
    snapshot.linklocal_budget_pps = linklocal_budget_pps_;
    snapshot.linklocal_sent_pps = linklocal_sent_pps_;
    snapshot.health = health_;
    snapshot.start_time_seconds = start_time_seconds_;
    return snapshot;
}

}  // namespace connsnoop
