// Tier 2: the BPF object embedded in the binary parses, and its programs and
// maps are what the user side expects. Opening needs no privileges.
#include <gtest/gtest.h>

#include <string>

#include "collect/bpf_handles.hpp"

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
    EXPECT_EQ(bpf_map__type(skeleton->maps.dst_ports), BPF_MAP_TYPE_HASH);
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
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect_enter_tp_btf)), "tp_btf/sys_enter");
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect_exit_tp_btf)), "tp_btf/sys_exit");
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect_enter_raw_tp)), "raw_tp/sys_enter");
    EXPECT_EQ(std::string(bpf_program__section_name(progs.connect_exit_raw_tp)), "raw_tp/sys_exit");
    EXPECT_EQ(bpf_map__type(skeleton->maps.inflight), BPF_MAP_TYPE_HASH);
    EXPECT_EQ(bpf_map__key_size(skeleton->maps.inflight), sizeof(std::uint64_t));
    EXPECT_EQ(bpf_map__type(skeleton->maps.connect_calls), BPF_MAP_TYPE_LRU_HASH);
}

TEST(SkeletonOpen, HttpCaptureIsOffByDefaultAndItsRawBytesAreWriteOnly) {
    SkeletonPtr skeleton(connsnoop_bpf::open());
    ASSERT_TRUE(skeleton);
    EXPECT_FALSE(skeleton->rodata->http_capture);
    EXPECT_EQ(std::string(bpf_program__section_name(skeleton->progs.http_send_tp_btf)), "tp_btf/sys_enter");
    EXPECT_EQ(std::string(bpf_program__section_name(skeleton->progs.http_send_raw_tp)), "raw_tp/sys_enter");
    // The per-connection buffer holds raw request bytes (tokens): user space may not read it.
    EXPECT_EQ(bpf_map__type(skeleton->maps.http_streams), BPF_MAP_TYPE_LRU_HASH);
    EXPECT_NE(bpf_map__map_flags(skeleton->maps.http_streams) & BPF_F_WRONLY, 0U);
    EXPECT_EQ(bpf_map__type(skeleton->maps.http_ports), BPF_MAP_TYPE_HASH);
}

}  // namespace
}  // namespace connsnoop
