#include "network_namespace.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "process.hpp"

namespace connsnoop::testing {

namespace {

std::string host_trace_lock_path() {
    const char* path = std::getenv("CONNSNOOP_HOST_TRACE_LOCK");
    return path && *path ? path : "/tmp/connsnoop-host-trace.lock";
}

// The lock is held once per process, for as long as any HostTraceLock lives:
// a test may make a second namespace while the first holds it.
std::mutex host_trace_lock_mutex;
int host_trace_lock_fd = -1;
int host_trace_lock_holders = 0;

// Inode numbers of the NetworkNamespace objects alive in this process.
std::mutex live_namespaces_mutex;
std::vector<std::uint32_t> live_namespaces;

// Runs `command` as given (on the host) and waits; throws when it fails.
void run_checked(std::vector<std::string> command) {
    std::string text;
    for (const auto& word : command) text += word + " ";
    const auto result = run_command(std::move(command));
    if (result.status != 0) throw std::runtime_error("failed: " + text + ": " + result.err);
}

}  // namespace

HostTraceLock::HostTraceLock() {
    std::lock_guard guard(host_trace_lock_mutex);
    if (host_trace_lock_holders == 0) {
        const auto path = host_trace_lock_path();
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
            if (fd >= 0) ::close(fd);
            throw std::runtime_error("cannot lock " + path);
        }
        host_trace_lock_fd = fd;
    }
    ++host_trace_lock_holders;
}

HostTraceLock::~HostTraceLock() {
    std::lock_guard guard(host_trace_lock_mutex);
    if (--host_trace_lock_holders == 0) {
        ::close(host_trace_lock_fd);  // releases the lock
        host_trace_lock_fd = -1;
    }
}

NetworkNamespace::NetworkNamespace(const std::string& prefix) : name_(prefix + "-" + std::to_string(getpid())) {
    run_command({"ip", "netns", "del", name_});  // a leftover from a killed run
    run_checked({"ip", "netns", "add", name_});
    run({"ip", "link", "set", "lo", "up"});
    run({"ip", "addr", "add", std::string(kImdsV4) + "/32", "dev", "lo"});
    run({"ip", "addr", "add", std::string(kOtherLinkLocal) + "/32", "dev", "lo"});
    run({"ip", "-6", "addr", "add", std::string(kImdsV6) + "/128", "dev", "lo", "nodad"});
    struct stat info {};
    const std::string path = "/run/netns/" + name_;
    if (::stat(path.c_str(), &info) != 0) throw std::runtime_error("stat " + path);
    inode_ = static_cast<std::uint32_t>(info.st_ino);
    std::lock_guard guard(live_namespaces_mutex);
    live_namespaces.push_back(inode_);
}

NetworkNamespace::~NetworkNamespace() {
    {
        std::lock_guard guard(live_namespaces_mutex);
        const auto it = std::find(live_namespaces.begin(), live_namespaces.end(), inode_);
        if (it != live_namespaces.end()) live_namespaces.erase(it);
    }
    const auto pids = run_command({"ip", "netns", "pids", name_});
    std::istringstream list(pids.out);
    for (pid_t pid = 0; list >> pid;) ::kill(pid, SIGKILL);
    run_command({"ip", "netns", "del", name_});
}

std::uint32_t NetworkNamespace::inode() const { return inode_; }

std::vector<std::string> NetworkNamespace::exec(std::vector<std::string> command) const {
    std::vector<std::string> wrapped{"ip", "netns", "exec", name_};
    wrapped.insert(wrapped.end(), command.begin(), command.end());
    return wrapped;
}

void NetworkNamespace::run(std::vector<std::string> command) const { run_checked(exec(std::move(command))); }

std::vector<std::string> own_namespace_filter() {
    std::lock_guard guard(live_namespaces_mutex);
    std::vector<std::string> args;
    for (auto inode : live_namespaces) {
        args.push_back("--netns");
        args.push_back(std::to_string(inode));
    }
    return args;
}

std::vector<std::string> connsnoop_command(std::vector<std::string> args) {
    args.insert(args.begin(), connsnoop_binary());
    if (std::find(args.begin(), args.end(), "--netns") == args.end()) {
        const auto scope = own_namespace_filter();
        args.insert(args.end(), scope.begin(), scope.end());
    }
    return args;
}

std::string support_dir() { return CONNSNOOP_TEST_SUPPORT_DIR; }
std::string connsnoop_binary() { return CONNSNOOP_BINARY; }

}  // namespace connsnoop::testing
