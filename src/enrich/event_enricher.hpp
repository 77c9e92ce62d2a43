// Enrichment layer: adds what the kernel record does not carry (names for
// numbers) before events reach aggregation and output.
#pragma once

#include "collect/connect_event.hpp"
#include "enrich/user_names.hpp"

namespace connsnoop {

class EventEnricher {
public:
    void enrich(ConnectEvent& event) { event.user = users_.name_of(event.uid); }

private:
    UserNameCache users_;
};

}  // namespace connsnoop
