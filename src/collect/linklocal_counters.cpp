#include "collect/linklocal_counters.hpp"

namespace connsnoop {

std::string_view direction_name(LinklocalDirection direction) {
    return direction == LinklocalDirection::sent ? "sent" : "received";
}

std::string_view protocol_name(LinklocalProtocol protocol) {
    return protocol == LinklocalProtocol::tcp ? "tcp" : "udp";
}

LinklocalSample LinklocalSampler::take(const std::vector<LinklocalCounter>& counters, std::uint64_t uncounted_packets,
                                       double interval_seconds) {
    LinklocalSample sample;
    sample.time = std::chrono::system_clock::now();
    sample.interval_seconds = interval_seconds;
    sample.uncounted_packets = uncounted_packets - std::min(uncounted_packets, last_uncounted_);
    last_uncounted_ = uncounted_packets;
    for (auto& [key, seen] : seen_) ++seen.idle_reads;
    for (const auto& counter : counters) {
        const Key key{counter.owner, counter.service, static_cast<std::uint8_t>(counter.protocol),
                      static_cast<std::uint8_t>(counter.direction)};
        auto& seen = seen_[key];
        // A counter deleted and made again restarts from zero: never a negative difference.
        const bool restarted = counter.packets < seen.last.packets || counter.bytes < seen.last.bytes;
        const std::uint64_t packets = restarted ? counter.packets : counter.packets - seen.last.packets;
        const std::uint64_t bytes = restarted ? counter.bytes : counter.bytes - seen.last.bytes;
        seen.last = counter;
        if (packets == 0 && bytes == 0) continue;
        seen.idle_reads = 0;

        LinklocalTraffic traffic;
        traffic.owner_known = counter.owner.pid != 0;
        traffic.process.pid = counter.owner.pid;
        traffic.process.uid = counter.owner.uid;
        traffic.process.gid = counter.owner.gid;
        traffic.process.cgroup_id = counter.owner.cgroup_id;
        traffic.process.comm = traffic.owner_known ? counter.owner.comm : std::string("unknown");
        traffic.process.wall_time = sample.time;
        traffic.service = counter.service;
        traffic.protocol = counter.protocol;
        traffic.direction = counter.direction;
        traffic.packets = packets;
        traffic.bytes = bytes;
        sample.traffic.push_back(std::move(traffic));
    }
    return sample;
}

std::vector<LinklocalCounter> LinklocalSampler::take_idle_counters() {
    std::vector<LinklocalCounter> idle;
    for (auto it = seen_.begin(); it != seen_.end();) {
        if (it->second.idle_reads >= kIdleReadsBeforeForgetting) {
            idle.push_back(it->second.last);
            it = seen_.erase(it);
        } else {
            ++it;
        }
    }
    return idle;
}

}  // namespace connsnoop
