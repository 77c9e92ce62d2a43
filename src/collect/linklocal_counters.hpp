// Collection for `connsnoop linklocal`: the kernel's per-owner packet and
// byte counters to the link-local services, read once per interval and
// turned into the traffic of that interval (the difference to the last read).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "collect/connect_event.hpp"
#include "collect/trace_config.hpp"
#include "util/result.hpp"

namespace connsnoop {

enum class LinklocalDirection : std::uint8_t { sent = 0, received = 1 };
enum class LinklocalProtocol : std::uint8_t { tcp = 6, udp = 17 };

std::string_view direction_name(LinklocalDirection direction);  // "sent", "received"
std::string_view protocol_name(LinklocalProtocol protocol);     // "tcp", "udp"

// Who the kernel credited: the owner recorded with the socket.
struct LinklocalOwner {
    std::uint32_t pid = 0;  // 0: unknown (the socket predates connsnoop)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t cgroup_id = 0;
    std::string comm;

    auto operator<=>(const LinklocalOwner&) const = default;  // NOLINT(modernize-use-nullptr)
};

// One kernel counter, summed over the CPUs: everything since it was made.
struct LinklocalCounter {
    LinklocalOwner owner;
    std::uint16_t service = 0;  // index into TracerConfig::linklocal_services
    LinklocalProtocol protocol = LinklocalProtocol::udp;
    LinklocalDirection direction = LinklocalDirection::sent;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// One owner's traffic with one service, one protocol, one way, in an
// interval; `process` carries the owner's identity, enriched downstream.
struct LinklocalTraffic {
    ConnectEvent process;
    bool owner_known = false;
    std::uint16_t service = 0;
    LinklocalProtocol protocol = LinklocalProtocol::udp;
    LinklocalDirection direction = LinklocalDirection::sent;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// What one read of the counters found since the read before.
struct LinklocalSample {
    std::chrono::system_clock::time_point time;
    double interval_seconds = 0;
    std::vector<LinklocalTraffic> traffic;  // rows with packets only
    std::uint64_t uncounted_packets = 0;    // the kernel's counter map was full (this interval)
    bool final = false;                     // the last read, at the end of the run
};

// Turns cumulative counters into per-interval traffic. Pure: the owner's
// command line is found by enrichment (EventEnricher::identify_process).
class LinklocalSampler {
public:
    // A counter unchanged for this many reads is forgotten (the caller may
    // delete it in the kernel); it starts from zero if it comes back.
    static constexpr int kIdleReadsBeforeForgetting = 60;

    // `counters`: everything the kernel holds now. Returns the traffic since
    // the last call; the first call reports the counters' whole contents
    // (connsnoop made them, so that is traffic since it started).
    LinklocalSample take(const std::vector<LinklocalCounter>& counters, std::uint64_t uncounted_packets,
                         double interval_seconds);
    // Counters idle long enough to delete from the kernel map, forgotten here.
    std::vector<LinklocalCounter> take_idle_counters();

private:
    using Key = std::tuple<LinklocalOwner, std::uint16_t, std::uint8_t, std::uint8_t>;
    struct Seen {
        LinklocalCounter last;
        int idle_reads = 0;
    };
    std::map<Key, Seen> seen_;
    std::uint64_t last_uncounted_ = 0;
};

}  // namespace connsnoop
