// noop-tracer: loads one do-nothing program of bench/noop_tracer.bpf.c
// (--hook NAME, default inet_sock_set_state), attaches it, says so on stderr
// ("noop-tracer: attached", the line the harness waits for, like connsnoop's
// "tracing TCP connects"), and holds the link until SIGINT or SIGTERM.
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "noop_tracer.skel.h"

namespace {

struct SkeletonDeleter {
    void operator()(noop_tracer_bpf* skeleton) const { noop_tracer_bpf::destroy(skeleton); }
};
using SkeletonPtr = std::unique_ptr<noop_tracer_bpf, SkeletonDeleter>;

struct LinkDeleter {
    void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// The first cgroup2 mount in /proc/self/mounts, or "".
std::string cgroup2_mount() {
    std::ifstream mounts("/proc/self/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string device, path, type;
        fields >> device >> path >> type;
        if (type == "cgroup2") return path;
    }
    return "";
}

// The syscalls:* events need tracefs to name their ids. When the host has it
// not mounted, mount it in a private mount namespace of this process only.
bool ensure_tracefs() {
    if (::access("/sys/kernel/tracing/events", F_OK) == 0) return true;
    if (::unshare(CLONE_NEWNS) != 0) return false;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
    return ::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string_view hook = "inet_sock_set_state";
    if (argc == 3 && std::string_view(argv[1]) == "--hook") {
        hook = argv[2];
    } else if (argc != 1) {
        std::fprintf(stderr,
                     "usage: noop-tracer [--hook inet_sock_set_state|sys_enter|sys_exit|sys_exit_connect|"
                     "cgroup_connect4|cgroup_egress]\n");
        return 2;
    }
    // Block the stop signals before attaching so that one arriving early is
    // not lost; sigwait picks it up below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

    SkeletonPtr skeleton(noop_tracer_bpf::open());
    if (!skeleton) {
        std::fprintf(stderr, "noop-tracer: opening the BPF object failed: %s\n", std::strerror(errno));
        return 1;
    }
    auto& progs = skeleton->progs;
    const struct {
        std::string_view name;
        bpf_program* program;
    } hooks[] = {
        {"inet_sock_set_state", progs.noop_tp_btf}, {"sys_enter", progs.noop_sys_enter},
        {"sys_exit", progs.noop_sys_exit},          {"sys_exit_connect", progs.noop_sys_exit_connect},
        {"cgroup_connect4", progs.noop_connect4},   {"cgroup_egress", progs.noop_egress},
    };
    bpf_program* chosen = nullptr;
    for (const auto& candidate : hooks) {
        const bool wanted = candidate.name == hook;
        bpf_program__set_autoload(candidate.program, wanted);
        if (wanted) chosen = candidate.program;
    }
    if (!chosen) {
        std::fprintf(stderr, "noop-tracer: unknown hook '%.*s'\n", static_cast<int>(hook.size()), hook.data());
        return 2;
    }
    if (noop_tracer_bpf::load(skeleton.get()) != 0) {
        std::fprintf(stderr, "noop-tracer: loading the BPF program failed: %s\n", std::strerror(errno));
        return 1;
    }
    LinkPtr link;
    if (hook.starts_with("cgroup_")) {
        const std::string root = cgroup2_mount();
        const int cgroup_fd = root.empty() ? -1 : ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgroup_fd < 0) {
            std::fprintf(stderr, "noop-tracer: no cgroup2 mount to attach to\n");
            return 1;
        }
        link.reset(bpf_program__attach_cgroup(chosen, cgroup_fd));
        ::close(cgroup_fd);
    } else {
        if (hook == "sys_exit_connect" && !ensure_tracefs()) {
            std::fprintf(stderr, "noop-tracer: mounting tracefs failed: %s\n", std::strerror(errno));
            return 1;
        }
        link.reset(bpf_program__attach(chosen));
    }
    if (!link) {
        std::fprintf(stderr, "noop-tracer: attaching %.*s failed: %s\n", static_cast<int>(hook.size()), hook.data(),
                     std::strerror(errno));
        return 1;
    }
    std::fprintf(stderr, "noop-tracer: attached\n");
    int received = 0;
    sigwait(&stop_signals, &received);
    return 0;
}
