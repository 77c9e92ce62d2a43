// noop-tracer: loads and attaches bench/noop_tracer.bpf.c, says so on stderr
// ("noop-tracer: attached", the line the harness waits for, like connsnoop's
// "tracing TCP connects"), and holds the link until SIGINT or SIGTERM.
#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "noop_tracer.skel.h"

namespace {

struct SkeletonDeleter {
    void operator()(noop_tracer_bpf* skeleton) const { noop_tracer_bpf::destroy(skeleton); }
};
using SkeletonPtr = std::unique_ptr<noop_tracer_bpf, SkeletonDeleter>;

}  // namespace

int main() {
    // Block the stop signals before attaching so that one arriving early is
    // not lost; sigwait picks it up below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

    SkeletonPtr skeleton(noop_tracer_bpf::open_and_load());
    if (!skeleton) {
        std::fprintf(stderr, "noop-tracer: loading the BPF program failed: %s\n", std::strerror(errno));
        return 1;
    }
    if (noop_tracer_bpf::attach(skeleton.get()) != 0) {
        std::fprintf(stderr, "noop-tracer: attaching tp_btf/inet_sock_set_state failed: %s\n", std::strerror(errno));
        return 1;
    }
    std::fprintf(stderr, "noop-tracer: attached\n");
    int received = 0;
    sigwait(&stop_signals, &received);
    return 0;
}
