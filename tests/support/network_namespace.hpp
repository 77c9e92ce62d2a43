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

// Tests that trace connections to the metadata addresses take this
// machine-wide lock (flock on /tmp/connsnoop-host-trace.lock, or on the file
// CONNSNOOP_HOST_TRACE_LOCK names), so that their own traffic never reaches
// another project checkout's tests that may trace the whole host. Their own
// counts do not depend on it: see own_namespace_filter().
class HostTraceLock {
public:
    HostTraceLock();
    HostTraceLock(const HostTraceLock&) = delete;
    HostTraceLock& operator=(const HostTraceLock&) = delete;
    ~HostTraceLock();
};

// A namespace registers itself while it exists, so that every connsnoop a
// test starts traces only the namespaces that test made (see
// own_namespace_filter): traffic from the rest of the host, e.g. an agent
// calling the metadata service in its own namespace, never reaches the counts.
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
    // Runs `command` inside the namespace (never on the host) and waits;
    // throws when it fails.
    void run(std::vector<std::string> command) const;

private:
    HostTraceLock lock_;
    std::string name_;
    std::uint32_t inode_ = 0;
};

// `--netns INODE` for each NetworkNamespace alive in this test process: the
// filter that keeps a test's connsnoop to its own workload. Empty when the
// test made none.
std::vector<std::string> own_namespace_filter();

// The command line of connsnoop under test: the binary, `args`, then
// own_namespace_filter() unless `args` already choose namespaces with --netns.
std::vector<std::string> connsnoop_command(std::vector<std::string> args);

// Directory holding the test support scripts (the stand-in server, clients).
std::string support_dir();
// Path of the connsnoop binary under test.
std::string connsnoop_binary();

}  // namespace connsnoop::testing
