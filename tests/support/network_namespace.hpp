// Test support: a private network namespace whose loopback carries the
// metadata-service addresses. Nothing sent there leaves the namespace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace connsnoop::testing {

inline constexpr const char* kImdsV4 = "169.254.169.254";
inline constexpr const char* kImdsV6 = "fd00:ec2::254";
inline constexpr const char* kOtherLinkLocal = "169.254.169.253";  // inside the namespace, not IMDS

// Tests that trace the whole host take this machine-wide lock (flock on
// /tmp/connsnoop-host-trace.lock), so that two test runs, e.g. from two work
// trees, never see each other's connections.
class HostTraceLock {
public:
    HostTraceLock();
    HostTraceLock(const HostTraceLock&) = delete;
    HostTraceLock& operator=(const HostTraceLock&) = delete;
    ~HostTraceLock();

private:
    int fd_ = -1;
};

class NetworkNamespace {
public:
    // Creates "<prefix>-<pid>" with lo up and the addresses above on it.
    explicit NetworkNamespace(const std::string& prefix);
    NetworkNamespace(const NetworkNamespace&) = delete;
    NetworkNamespace& operator=(const NetworkNamespace&) = delete;
    // Kills whatever still runs in it, then deletes it.
    ~NetworkNamespace();

    [[nodiscard]] const std::string& name() const { return name_; }
    // The namespace's inode number: what connsnoop reports as "netns".
    [[nodiscard]] std::uint32_t inode() const;
    // `command` wrapped to run inside the namespace.
    [[nodiscard]] std::vector<std::string> exec(std::vector<std::string> command) const;
    void run(std::vector<std::string> command) const;  // throws when it fails

private:
    HostTraceLock lock_;
    std::string name_;
};

// Directory holding the test support scripts (the stand-in server, clients).
std::string support_dir();
// Path of the connsnoop binary under test.
std::string connsnoop_binary();

}  // namespace connsnoop::testing
