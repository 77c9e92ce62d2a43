#include "network_namespace.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

#include "process.hpp"

namespace connsnoop::testing {

HostTraceLock::HostTraceLock() : fd_(::open("/tmp/connsnoop-host-trace.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) throw std::runtime_error("cannot lock /tmp/connsnoop-host-trace.lock");
}

HostTraceLock::~HostTraceLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

NetworkNamespace::NetworkNamespace(const std::string& prefix) : name_(prefix + "-" + std::to_string(getpid())) {
    run_command({"ip", "netns", "del", name_});  // a leftover from a killed run
    run({"ip", "netns", "add", name_});
    run(exec({"ip", "link", "set", "lo", "up"}));
    run(exec({"ip", "addr", "add", std::string(kImdsV4) + "/32", "dev", "lo"}));
    run(exec({"ip", "addr", "add", std::string(kOtherLinkLocal) + "/32", "dev", "lo"}));
    run(exec({"ip", "-6", "addr", "add", std::string(kImdsV6) + "/128", "dev", "lo", "nodad"}));
}

NetworkNamespace::~NetworkNamespace() {
    const auto pids = run_command({"ip", "netns", "pids", name_});
    std::istringstream list(pids.out);
    for (pid_t pid = 0; list >> pid;) ::kill(pid, SIGKILL);
    run_command({"ip", "netns", "del", name_});
}

std::uint32_t NetworkNamespace::inode() const {
    struct stat info {};
    const std::string path = "/run/netns/" + name_;
    if (::stat(path.c_str(), &info) != 0) throw std::runtime_error("stat " + path);
    return static_cast<std::uint32_t>(info.st_ino);
}

std::vector<std::string> NetworkNamespace::exec(std::vector<std::string> command) const {
    std::vector<std::string> wrapped{"ip", "netns", "exec", name_};
    wrapped.insert(wrapped.end(), command.begin(), command.end());
    return wrapped;
}

void NetworkNamespace::run(std::vector<std::string> command) const {
    std::string text;
    for (const auto& word : command) text += word + " ";
    const auto result = run_command(std::move(command));
    if (result.status != 0) throw std::runtime_error("failed: " + text + ": " + result.err);
}

std::string support_dir() { return CONNSNOOP_TEST_SUPPORT_DIR; }
std::string connsnoop_binary() { return CONNSNOOP_BINARY; }

}  // namespace connsnoop::testing
