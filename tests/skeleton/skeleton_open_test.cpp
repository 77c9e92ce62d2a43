// Tier 2: the BPF object embedded in the binary parses, and its programs and
// maps are what the user side expects. Opening needs no privileges.
#include <gtest/gtest.h>

#include <string>

#include "collect/bpf_handles.hpp"

extern "C" {
#include "connsnoop_abi.h"
}

namespace connsnoop {
namespace {

TEST(SkeletonOpen, EmbeddedObjectHasBothHookVariantsAndAllMaps) {
    SkeletonPtr skeleton(connsnoop_bpf::open());
    ASSERT_TRUE(skeleton) << "the embedded BPF object did not open";

    EXPECT_EQ(std::string(bpf_program__section_name(skeleton->progs.connect_tp_btf)), "tp_btf/inet_sock_set_state");
    EXPECT_EQ(std::string(bpf_program__section_name(skeleton->progs.connect_raw_tp)), "raw_tp/inet_sock_set_state");
    EXPECT_EQ(bpf_map__type(skeleton->maps.events), BPF_MAP_TYPE_RINGBUF);
    EXPECT_EQ(bpf_map__type(skeleton->maps.stats), BPF_MAP_TYPE_PERCPU_ARRAY);
    EXPECT_EQ(bpf_map__type(skeleton->maps.dst_v4), BPF_MAP_TYPE_LPM_TRIE);
    EXPECT_EQ(bpf_map__type(skeleton->maps.dst_v6), BPF_MAP_TYPE_LPM_TRIE);
    EXPECT_EQ(bpf_map__type(skeleton->maps.dst_port_bits), BPF_MAP_TYPE_ARRAY);
    EXPECT_EQ(bpf_map__type(skeleton->maps.pids), BPF_MAP_TYPE_HASH);
    EXPECT_EQ(bpf_map__type(skeleton->maps.uids), BPF_MAP_TYPE_HASH);
    EXPECT_EQ(bpf_map__type(skeleton->maps.cgroup_filter), BPF_MAP_TYPE_CGROUP_ARRAY);
    EXPECT_EQ(bpf_map__type(skeleton->maps.netns_filter), BPF_MAP_TYPE_HASH);
}

TEST(SkeletonOpen, FiltersAreOffByDefault) {
    SkeletonPtr skeleton(connsnoop_bpf::open());
    ASSERT_TRUE(skeleton);
    const auto* rodata = skeleton->rodata;
    EXPECT_FALSE(rodata->filter_daddr);
    EXPECT_FALSE(rodata->filter_dport);
    EXPECT_FALSE(rodata->filter_pid);
    EXPECT_FALSE(rodata->filter_uid);
    EXPECT_FALSE(rodata->filter_cgroup);
    EXPECT_FALSE(rodata->filter_comm);
    EXPECT_FALSE(rodata->filter_netns);
    EXPECT_EQ(rodata->argv_max, 8192U);
}

}  // namespace
}  // namespace connsnoop

namespace connsnoop {
namespace {

TEST(SkeletonOpen, OutcomeTrackingIsOffByDefaultWithItsProgramsAndMaps) {
    SkeletonPtr skeleton(connsnoop_bpf::open());
    ASSERT_TRUE(skeleton);
    EXPECT_FALSE(skeleton->rodata->track_outcomes);
    const auto& progs = skeleton->progs;
    // connect() calls: cgroup hooks and the socket's destruction, never a syscall tracepoint
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect4_watch)), "cgroup/connect4");
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect6_watch)), "cgroup/connect6");
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect_failure_tp_btf)), "tp_btf/tcp_destroy_sock");
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect_failure_raw_tp)), "raw_tp/tcp_destroy_sock");
    EXPECT_EQ(bpf_map__type(skeleton->maps.inflight), BPF_MAP_TYPE_HASH);
    EXPECT_EQ(bpf_map__key_size(skeleton->maps.inflight), sizeof(std::uint64_t));
    // What the tracing programs keep per socket is keyed by socket cookie, not
    // in socket-local storage (which they may use only from 5.11 on).
    EXPECT_EQ(bpf_map__type(skeleton->maps.pending_connects), BPF_MAP_TYPE_HASH);
    EXPECT_EQ(bpf_map__key_size(skeleton->maps.pending_connects), sizeof(std::uint64_t));
    EXPECT_EQ(bpf_map__key_size(skeleton->maps.http_streams), sizeof(std::uint64_t));
    EXPECT_EQ(bpf_map__type(skeleton->maps.socket_owners), BPF_MAP_TYPE_SK_STORAGE);
}

TEST(SkeletonOpen, NoProgramHooksEverySystemCall) {
    SkeletonPtr skeleton(connsnoop_bpf::open());
    ASSERT_TRUE(skeleton);
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, skeleton->obj) {
        const std::string section = bpf_program__section_name(program);
        EXPECT_EQ(section.find("sys_enter"), std::string::npos) << bpf_program__name(program);
        EXPECT_EQ(section.find("sys_exit"), std::string::npos) << bpf_program__name(program);
    }
}

TEST(SkeletonOpen, HttpCaptureIsOffByDefaultAndItsRawBytesAreWriteOnly) {
    SkeletonPtr skeleton(connsnoop_bpf::open());
    ASSERT_TRUE(skeleton);
    EXPECT_FALSE(skeleton->rodata->http_capture);
    EXPECT_EQ(std::string(bpf_program__section_name(skeleton->progs.http_egress)), "cgroup_skb/egress");
    // The per-connection buffer holds raw request bytes (tokens): user space may not read it.
    EXPECT_EQ(bpf_map__type(skeleton->maps.http_streams), BPF_MAP_TYPE_LRU_HASH);
    EXPECT_NE(bpf_map__map_flags(skeleton->maps.http_streams) & BPF_F_WRONLY, 0U);
    EXPECT_EQ(bpf_map__type(skeleton->maps.http_ports), BPF_MAP_TYPE_HASH);
}

TEST(SkeletonOpen, LinklocalCountersAreCgroupHooksWithPerCpuCounters) {
    SkeletonPtr skeleton(connsnoop_bpf::open());
    ASSERT_TRUE(skeleton);
    const auto section = [](bpf_program* program) { return std::string(bpf_program__section_name(program)); };
    EXPECT_EQ(section(skeleton->progs.linklocal_connect4), "cgroup/connect4");
    EXPECT_EQ(section(skeleton->progs.linklocal_connect6), "cgroup/connect6");
    EXPECT_EQ(section(skeleton->progs.linklocal_sendmsg4), "cgroup/sendmsg4");
    EXPECT_EQ(section(skeleton->progs.linklocal_sendmsg6), "cgroup/sendmsg6");
    EXPECT_EQ(section(skeleton->progs.linklocal_egress), "cgroup_skb/egress");
    EXPECT_EQ(section(skeleton->progs.linklocal_ingress), "cgroup_skb/ingress");
    // Counted in the kernel, read once per interval: never a record per packet.
    EXPECT_EQ(bpf_map__type(skeleton->maps.linklocal_counts), BPF_MAP_TYPE_PERCPU_HASH);
    EXPECT_EQ(bpf_map__key_size(skeleton->maps.linklocal_counts), sizeof(cs_linklocal_key));
    EXPECT_EQ(bpf_map__value_size(skeleton->maps.linklocal_counts), sizeof(cs_linklocal_count));
    EXPECT_EQ(bpf_map__type(skeleton->maps.linklocal_owners), BPF_MAP_TYPE_SK_STORAGE);
    EXPECT_EQ(bpf_map__type(skeleton->maps.linklocal_v4), BPF_MAP_TYPE_LPM_TRIE);
    EXPECT_EQ(bpf_map__type(skeleton->maps.linklocal_v6), BPF_MAP_TYPE_LPM_TRIE);
}

}  // namespace
}  // namespace connsnoop
