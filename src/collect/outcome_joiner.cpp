#include "collect/outcome_joiner.hpp"

#include <algorithm>

namespace connsnoop {

std::optional<ConnectEvent> OutcomeJoiner::add_attempt(ConnectEvent&& event) {
    if (event.outcome) return std::move(event);
    if (event.attempt_id == 0) {
        event.outcome = ConnectOutcome{ConnectResult::untracked, 0, std::nullopt};
        return std::move(event);
    }
    const auto id = event.attempt_id;
    if (spare_nodes_.empty()) {
        held_.insert_or_assign(id, std::move(event));
        return std::nullopt;
    }
    // A node of an attempt handed on earlier: no allocation for the node, and
    // its event's buffers go back to the caller for the next record.
    auto node = std::move(spare_nodes_.back());
    spare_nodes_.pop_back();
    node.key() = id;
    std::swap(node.mapped(), event);
    if (auto inserted = held_.insert(std::move(node)); !inserted.inserted) {
        inserted.position->second = std::move(inserted.node.mapped());  // an id the kernel reused
    }
    return std::nullopt;
}

const ConnectEvent* OutcomeJoiner::resolve(const OutcomeEvent& outcome) {
    auto held = held_.find(outcome.attempt_id);
    if (held == held_.end()) {
        ++orphan_outcomes_;
        return nullptr;
    }
    if (!delivered_.empty() && spare_nodes_.size() < kMaxSpareNodes) spare_nodes_.push_back(std::move(delivered_));
    delivered_ = held_.extract(held);
    announced_.erase(outcome.attempt_id);
    ConnectEvent& event = delivered_.mapped();
    event.outcome = outcome.outcome;
    // At SYN_SENT the kernel had not chosen the port yet; now it has.
    if (outcome.source_port != 0) event.source_port = outcome.source_port;
    return &event;
}

std::vector<ConnectEvent> OutcomeJoiner::take_overdue(std::uint64_t now_ns, std::uint64_t after_ns) {
    std::vector<ConnectEvent> overdue;
    for (const auto& [id, event] : held_) {
        if (now_ns < event.monotonic_ns + after_ns || announced_.contains(id)) continue;
        announced_.insert(id);
        overdue.push_back(event);
        overdue.back().outcome = ConnectOutcome{ConnectResult::pending, 0, std::nullopt};
    }
    std::sort(overdue.begin(), overdue.end(),
              [](const ConnectEvent& a, const ConnectEvent& b) { return a.monotonic_ns < b.monotonic_ns; });
    return overdue;
}

std::vector<ConnectEvent> OutcomeJoiner::take_pending() {
    std::vector<ConnectEvent> pending;
    pending.reserve(held_.size());
    for (auto& [id, event] : held_) {
        event.outcome = ConnectOutcome{ConnectResult::pending, 0, std::nullopt};
        pending.push_back(std::move(event));
    }
    held_.clear();
    std::sort(pending.begin(), pending.end(),
              [](const ConnectEvent& a, const ConnectEvent& b) { return a.monotonic_ns < b.monotonic_ns; });
    return pending;
}

}  // namespace connsnoop
