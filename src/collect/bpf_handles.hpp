// RAII owners for libbpf handles: whatever path the program takes out of a
// scope, links are detached and the skeleton, maps and programs are freed.
#pragma once

#include <bpf/libbpf.h>

#include <memory>

#include "connsnoop.skel.h"

namespace connsnoop {

struct SkeletonDeleter {
    void operator()(connsnoop_bpf* skeleton) const { connsnoop_bpf::destroy(skeleton); }
};
using SkeletonPtr = std::unique_ptr<connsnoop_bpf, SkeletonDeleter>;

struct LinkDeleter {
    void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

struct RingBufferDeleter {
    void operator()(ring_buffer* buffer) const { ring_buffer__free(buffer); }
};
using RingBufferPtr = std::unique_ptr<ring_buffer, RingBufferDeleter>;

}  // namespace connsnoop
