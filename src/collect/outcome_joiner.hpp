// Joins each attempt to its outcome for --outcome/--failed: an attempt is
// held until the kernel reports its fate, then handed on complete. Pure, so
// it is unit-tested without a kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collect/connect_event.hpp"

namespace connsnoop {

class OutcomeJoiner {
public:
    // The event back at once when its fate is already known (connect() failed
    // before any SYN, or the kernel could not follow it); otherwise held.
    std::optional<ConnectEvent> add_attempt(ConnectEvent&& event);
    // The held attempt this outcome belongs to, completed; nothing for an id
    // never seen (its attempt record was lost with a full ring buffer).
    std::optional<ConnectEvent> resolve(const OutcomeEvent& outcome);
    // Attempts in flight since `after_ns` or longer before `now_ns` and not
    // announced yet: a copy of each, marked pending, oldest first. They stay
    // held for their outcome (a dropped SYN takes minutes to time out).
    std::vector<ConnectEvent> take_overdue(std::uint64_t now_ns, std::uint64_t after_ns);
    // True when take_overdue already returned this attempt.
    [[nodiscard]] bool announced(std::uint64_t attempt_id) const { return announced_.contains(attempt_id); }
    // Attempts still in flight, marked pending, oldest first; the joiner is empty after.
    std::vector<ConnectEvent> take_pending();

    [[nodiscard]] std::size_t pending_count() const { return held_.size(); }
    // Outcomes whose attempt was never seen.
    [[nodiscard]] std::uint64_t orphan_outcomes() const { return orphan_outcomes_; }

private:
    std::unordered_map<std::uint64_t, ConnectEvent> held_;  // by attempt id
    std::unordered_set<std::uint64_t> announced_;           // ids take_overdue returned
    std::uint64_t orphan_outcomes_ = 0;
};

}  // namespace connsnoop
