#include "app/event_pipeline.hpp"

#include "enrich/event_enricher.hpp"

namespace connsnoop {

bool EventPipeline::wanted(const ConnectEvent& event) const {
    // The kernel knows cgroup IDs, not container IDs or unit names: these filters run here.
    if (!config_.container_prefix.empty() && !event.container_id.starts_with(config_.container_prefix)) return false;
    return config_.unit.empty() || event.unit == config_.unit;
}

bool EventPipeline::connect(ConnectEvent&& event) {
    if (!config_.connects) return true;
    // Enriched at the attempt, while the process and its parents still run.
    enricher_.enrich(event);
    if (!wanted(event)) return true;
    ++passed_;
    for (auto* sink : sinks_) sink->on_connect(event);
    if (config_.join_outcomes) {
        if (auto ready = joiner_.add_attempt(std::move(event))) {
            for (auto* sink : sinks_) sink->on_outcome(*ready);
        }
    }
    return !finished();
}

bool EventPipeline::outcome(const OutcomeEvent& outcome) {
    if (!config_.join_outcomes) return true;
    if (const auto* resolved = joiner_.resolve(outcome)) {
        for (auto* sink : sinks_) sink->on_outcome(*resolved);
    }
    return !finished();
}

bool EventPipeline::http(HttpRequestEvent&& request) {
    if (config_.imds_v1_only && classify_imds(request) != ImdsVersion::v1) return true;
    enricher_.enrich(request.connection);
    if (!wanted(request.connection)) return true;
    ++passed_;
    for (auto* sink : sinks_) sink->on_http(request);
    return !finished();
}

bool EventPipeline::dns(DnsQueryEvent&& query) {
    enricher_.enrich(query.sender);
    if (!wanted(query.sender)) return true;
    ++passed_;
    for (auto* sink : sinks_) sink->on_dns(query);
    return !finished();
}

void EventPipeline::linklocal(LinklocalSample&& sample) {
    constexpr std::size_t kMaxCachedOwners = 4096;
    std::vector<LinklocalTraffic> kept;
    kept.reserve(sample.traffic.size());
    for (auto& traffic : sample.traffic) {
        if (traffic.owner_known) {
            const LinklocalOwner owner{traffic.process.pid, traffic.process.uid, traffic.process.gid,
                                       traffic.process.cgroup_id, traffic.process.comm};
            auto found = linklocal_owners_.find(owner);
            if (found == linklocal_owners_.end()) {
                if (linklocal_owners_.size() >= kMaxCachedOwners) linklocal_owners_.clear();
                enricher_.identify_process(traffic.process);
                enricher_.enrich(traffic.process);
                found = linklocal_owners_.emplace(owner, traffic.process).first;
            }
            traffic.process = found->second;
            if (!wanted(traffic.process)) continue;
        } else if (!config_.container_prefix.empty() || !config_.unit.empty()) {
            continue;  // an unknown owner is in no container or unit we can name
        }
        kept.push_back(std::move(traffic));
    }
    sample.traffic = std::move(kept);
    for (auto* sink : sinks_) sink->on_linklocal(sample);
}

void EventPipeline::attached(const ConnectTracer& tracer) {
    for (auto* sink : sinks_) sink->on_attached(tracer);
}

void EventPipeline::start() {
    for (auto* sink : sinks_) sink->on_start();
}

void EventPipeline::loss(const LossReport& report) {
    for (auto* sink : sinks_) sink->on_loss(report);
}

bool EventPipeline::tick(MonoTime now) {
    if (config_.join_outcomes) {
        constexpr std::uint64_t kPendingAfterNs = 1'000'000'000;
        const auto now_ns = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
        for (const auto& event : joiner_.take_overdue(now_ns, kPendingAfterNs)) {
            for (auto* sink : sinks_) sink->on_overdue(event);
        }
    }
    bool go_on = true;
    for (auto* sink : sinks_) go_on = sink->on_tick(now) && go_on;
    return go_on;
}

bool EventPipeline::finished() const {
    for (const auto* sink : sinks_) {
        if (sink->finished()) return true;
    }
    return false;
}

void EventPipeline::finish() {
    for (auto& event : joiner_.take_pending()) {
        for (auto* sink : sinks_) sink->on_outcome(event);
    }
}

}  // namespace connsnoop
