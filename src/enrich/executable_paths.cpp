#include "enrich/executable_paths.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cstring>
#include <string_view>

namespace connsnoop {

namespace {

std::uint64_t mix(std::uint64_t seed, std::uint64_t value) {
    return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

// One pass over the bytes, eight at a time, with each length mixed in (so
// "ab","c" and "a","bc" differ): a few nanoseconds for a typical argv, where
// a std::hash call per argument cost a tenth of the reader's time per event.
class Fingerprint {
public:
    void add(std::string_view bytes) {
        absorb(bytes.size());
        std::size_t at = 0;
        for (; at + 8 <= bytes.size(); at += 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, bytes.data() + at, 8);
            absorb(word);
        }
        // The last 1 to 7 bytes in at most two loads (overlapping when fewer
        // than 8), never a byte-wise copy: the length is already mixed in.
        const std::size_t rest = bytes.size() - at;
        const char* tail = bytes.data() + at;
        if (rest >= 4) {
            absorb(std::uint64_t{load32(tail)} | std::uint64_t{load32(tail + rest - 4)} << 32);
        } else if (rest > 0) {
            absorb(std::uint64_t{static_cast<unsigned char>(tail[0])} |
                   std::uint64_t{static_cast<unsigned char>(tail[rest / 2])} << 8 |
                   std::uint64_t{static_cast<unsigned char>(tail[rest - 1])} << 16);
        }
    }
    [[nodiscard]] std::uint64_t value() const {
        std::uint64_t h = state_;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
    }

private:
    static std::uint32_t load32(const char* bytes) {
        std::uint32_t word = 0;
        std::memcpy(&word, bytes, sizeof(word));
        return word;
    }
    void absorb(std::uint64_t word) { state_ = std::rotl((state_ ^ word) * 0x9e3779b97f4a7c15ULL, 31); }
    std::uint64_t state_ = 0x243f6a8885a308d3ULL;
};

std::uint64_t program_fingerprint(const ConnectEvent& event) {
    Fingerprint fingerprint;
    fingerprint.add(event.comm);
    for (const auto& argument : event.argv) fingerprint.add(argument);
    return mix(fingerprint.value(), event.argv.size());
}

}  // namespace

std::size_t ExecutablePathCache::KeyHash::operator()(const Key& key) const {
    return mix(mix(key.pid, key.start_boottime_ns), key.program_fingerprint);
}

ExecutablePathCache::ExecutablePathCache(std::string proc_root) : proc_root_(std::move(proc_root)) {}

// Best effort: a process that exited right after connecting has no /proc entry.
std::string ExecutablePathCache::read_link(std::uint32_t pid) const {
    const std::string link = proc_root_ + "/" + std::to_string(pid) + "/exe";
    std::array<char, 4096> target{};
    const ssize_t length = ::readlink(link.c_str(), target.data(), target.size() - 1);
    return length > 0 ? std::string(target.data(), static_cast<std::size_t>(length)) : std::string();
}

// Whether the thread that made the event has another task name now. An
// exec renames it (to the new program's file name), so the link read just
// before may name a program that was not running when it connected. A
// thread gone since cannot say: that is not taken as a change.
bool ExecutablePathCache::renamed_since(const ConnectEvent& event) const {
    if (event.comm.empty()) return false;
    const std::uint32_t tid = event.tid != 0 ? event.tid : event.pid;
    const std::string path = proc_root_ + "/" + std::to_string(event.pid) + "/task/" + std::to_string(tid) + "/comm";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::array<char, 64> name{};
    const ssize_t length = ::read(fd, name.data(), name.size());
    ::close(fd);
    if (length <= 0) return false;
    std::string_view now(name.data(), static_cast<std::size_t>(length));
    if (now.ends_with('\n')) now.remove_suffix(1);
    return now != event.comm;
}

// The link, unless the process may run another program than when it connected.
std::string ExecutablePathCache::read_path(const ConnectEvent& event) const {
    std::string path = read_link(event.pid);
    if (!path.empty() && renamed_since(event)) path.clear();
    return path;
}

const std::string& ExecutablePathCache::path_of(const ConnectEvent& event) {
    if (event.start_boottime_ns == 0) {
        uncached_ = read_path(event);
        return uncached_;
    }
    const Key key{event.pid, event.start_boottime_ns, program_fingerprint(event)};
    if (last_path_ != nullptr && key == last_key_) return *last_path_;
    if (auto found = paths_.find(key); found != paths_.end()) {
        last_key_ = key;
        last_path_ = &found->second;
        return found->second;
    }
    if (paths_.size() >= kMaxEntries) paths_.clear();  // bounded under process churn
    // A process already gone reads as empty, and stays so: it cannot come back.
    last_key_ = key;
    last_path_ = &paths_.emplace(key, read_path(event)).first->second;
    return *last_path_;
}

}  // namespace connsnoop
