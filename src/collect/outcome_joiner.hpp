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
    // before any SYN, or the kernel could not follow it); otherwise held, and
    // `event` is left with the buffers of an attempt handed on earlier (its
    // content unspecified), so a reader that decodes into it again allocates
    // nothing for the next one.
    std::optional<ConnectEvent> add_attempt(ConnectEvent&& event);
    // The held attempt this outcome belongs to, completed; null for an id
    // never seen (its attempt record was lost with a full ring buffer). It
    // stays valid until the joiner is next changed.
    const ConnectEvent* resolve(const OutcomeEvent& outcome);
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

    // Map nodes kept for reuse, at most: a storm holds few attempts at a time.
    static constexpr std::size_t kMaxSpareNodes = 64;

private:
    using HeldMap = std::unordered_map<std::uint64_t, ConnectEvent>;

    HeldMap held_;                                 // by attempt id
    std::unordered_set<std::uint64_t> announced_;  // ids take_overdue returned
    // The attempt resolve() handed on last, then the nodes of those before it:
    // each is reused, with its event's buffers, for an attempt to come.
    HeldMap::node_type delivered_;
    std::vector<HeldMap::node_type> spare_nodes_;
    std::uint64_t orphan_outcomes_ = 0;
};

}  // namespace connsnoop
