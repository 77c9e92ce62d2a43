// Enrichment: the executable behind a process (/proc/PID/exe), read once per
// program a process runs instead of once per event.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "collect/connect_event.hpp"

namespace connsnoop {

class ExecutablePathCache {
public:
    // `proc_root` is /proc but for tests.
    explicit ExecutablePathCache(std::string proc_root = "/proc");

    // The path of the event's executable; empty when the process is gone, or
    // when the thread that made the event has another task name now (an
    // exec since, or a rename: which program connected cannot be told).
    // Cached per (PID, start time, comm and argv): an exec keeps PID and start
    // time but changes the program, and with it comm and argv as the kernel
    // captured them, so a new program is read afresh. Events of a process whose
    // start time is unknown are read every time.
    const std::string& path_of(const ConnectEvent& event);

    // At most this many processes are remembered; then the cache starts over.
    static constexpr std::size_t kMaxEntries = 4096;

private:
    struct Key {
        std::uint32_t pid;
        std::uint64_t start_boottime_ns;
        std::uint64_t program_fingerprint;  // hash of comm and argv
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& key) const;
    };

    std::string read_link(std::uint32_t pid) const;
    bool renamed_since(const ConnectEvent& event) const;
    std::string read_path(const ConnectEvent& event) const;

    std::string proc_root_;
    std::unordered_map<Key, std::string, KeyHash> paths_;
    // The last entry found or stored: a storm asks for one process again and
    // again (a node stays put until the map is cleared, which forgets this too).
    Key last_key_{};
    const std::string* last_path_ = nullptr;
    std::string uncached_;  // the answer for an event that cannot be cached
};

}  // namespace connsnoop
