// The one-type BTF scan against libbpf's own lookup, on BTF that libbpf
// writes (every kind the scan knows) and on the running kernel's BTF.
#include "collect/btf_scan.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/btf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace connsnoop {
namespace {

struct BtfFree {
    void operator()(btf* object) const { btf__free(object); }
};
using BtfPtr = std::unique_ptr<btf, BtfFree>;

// Types of every kind, several with the same name in different kinds.
BtfPtr every_kind() {
    BtfPtr types(btf__new_empty());
    btf* b = types.get();
    const int integer = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    const int pointer = btf__add_ptr(b, integer);
    btf__add_array(b, integer, integer, 8);
    btf__add_struct(b, "sock", 16);
    btf__add_field(b, "state", integer, 0, 0);
    btf__add_field(b, "next", pointer, 64, 0);
    btf__add_union(b, "either", 4);
    btf__add_field(b, "a", integer, 0, 0);
    btf__add_enum(b, "sock", 4);
    btf__add_enum_value(b, "ONE", 1);
    btf__add_enum_value(b, "TWO", 2);
    btf__add_fwd(b, "later", BTF_FWD_STRUCT);
    btf__add_volatile(b, integer);
    btf__add_const(b, integer);
    btf__add_restrict(b, pointer);
    const int prototype = btf__add_func_proto(b, integer);
    btf__add_func_param(b, "x", integer);
    btf__add_func_param(b, "y", pointer);
    const int function = btf__add_func(b, "handler", BTF_FUNC_GLOBAL, prototype);
    const int variable = btf__add_var(b, "counter", BTF_VAR_GLOBAL_ALLOCATED, integer);
    btf__add_datasec(b, ".data", 4);
    btf__add_datasec_var_info(b, variable, 0, 4);
    btf__add_float(b, "double", 8);
    btf__add_decl_tag(b, "tag", function, -1);
    btf__add_type_tag(b, "user", pointer);
    btf__add_enum64(b, "wide", 8, false);
    btf__add_enum64_value(b, "BIG", 1ULL << 40);
    btf__add_typedef(b, "btf_trace_sock", prototype);
    btf__add_typedef(b, "btf_trace_inet_sock_set_state", pointer);
    return types;
}

std::span<const std::byte> raw_of(btf* types) {
    std::uint32_t size = 0;
    const void* data = btf__raw_data(types, &size);
    return {static_cast<const std::byte*>(data), size};
}

TEST(BtfScan, FindsWhatLibbpfFindsForEveryNameAndKind) {
    const auto types = every_kind();
    const auto raw = raw_of(types.get());
    ASSERT_FALSE(raw.empty());
    const struct {
        const char* name;
        std::uint32_t kind;
    } lookups[] = {
        {"int", BTF_KIND_INT},
        {"sock", BTF_KIND_STRUCT},
        {"sock", BTF_KIND_ENUM},
        {"either", BTF_KIND_UNION},
        {"later", BTF_KIND_FWD},
        {"handler", BTF_KIND_FUNC},
        {"counter", BTF_KIND_VAR},
        {".data", BTF_KIND_DATASEC},
        {"double", BTF_KIND_FLOAT},
        {"tag", BTF_KIND_DECL_TAG},
        {"user", BTF_KIND_TYPE_TAG},
        {"wide", BTF_KIND_ENUM64},
        {"btf_trace_sock", BTF_KIND_TYPEDEF},
        {"btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF},
    };
    for (const auto& lookup : lookups) {
        const int expected = btf__find_by_name_kind(types.get(), lookup.name, lookup.kind);
        ASSERT_GT(expected, 0) << lookup.name;
        const auto scan = find_btf_type(raw, lookup.name, lookup.kind);
        EXPECT_TRUE(scan.complete) << lookup.name;
        EXPECT_EQ(scan.type, std::optional<std::uint32_t>(expected)) << lookup.name << " kind " << lookup.kind;
    }
    // Names that are not there, or not of that kind, or only a prefix of one.
    for (const auto& [name, kind] : {std::pair{"missing", BTF_KIND_TYPEDEF}, std::pair{"int", BTF_KIND_TYPEDEF},
                                     std::pair{"btf_trace_soc", BTF_KIND_TYPEDEF}}) {
        const auto scan = find_btf_type(raw, name, kind);
        EXPECT_TRUE(scan.complete) << name;
        EXPECT_FALSE(scan.type.has_value()) << name;
    }
}

// One pass for several names answers each as a scan of its own would,
// including a name asked twice and one that is not there.
TEST(BtfScan, SeveralNamesInOnePassAnswerAsOneAtATime) {
    const auto types = every_kind();
    const auto raw = raw_of(types.get());
    const BtfName names[] = {{"btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF},
                             {"handler", BTF_KIND_FUNC},
                             {"missing", BTF_KIND_FUNC},
                             {"sock", BTF_KIND_ENUM},
                             {"handler", BTF_KIND_FUNC},
                             {"int", BTF_KIND_INT}};
    const auto scans = find_btf_types(raw, names);
    ASSERT_EQ(scans.size(), std::size(names));
    for (std::size_t i = 0; i < scans.size(); ++i) {
        const auto alone = find_btf_type(raw, names[i].name, names[i].kind);
        EXPECT_TRUE(scans[i].complete) << names[i].name;
        EXPECT_EQ(scans[i].type, alone.type) << names[i].name;
    }
    EXPECT_FALSE(scans[2].type.has_value());
    auto cut = std::vector<std::byte>(raw.begin(), raw.end());
    cut.resize(cut.size() / 2);
    for (const auto& scan : find_btf_types(cut, names)) EXPECT_FALSE(scan.complete && !scan.type);
}

TEST(BtfScan, WhatItCannotReadIsIncompleteNotAnAnswer) {
    const auto types = every_kind();
    const auto raw = raw_of(types.get());
    const std::vector<std::byte> bytes(raw.begin(), raw.end());
    // Cut anywhere: never a read past the end, never "not there".
    for (std::size_t size = 0; size < bytes.size(); size += 7) {
        const auto scan =
            find_btf_type(std::span(bytes).first(size), "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF);
        EXPECT_FALSE(scan.complete && !scan.type) << size;
    }
    // A kind from a newer kernel, before the type looked for.
    auto unknown_kind = bytes;
    btf_header header{};
    std::memcpy(&header, unknown_kind.data(), sizeof(header));
    btf_type first{};
    const std::size_t first_at = header.hdr_len + header.type_off;
    std::memcpy(&first, unknown_kind.data() + first_at, sizeof(first));
    first.info = (first.info & ~(0x1fU << 24)) | (31U << 24);
    std::memcpy(unknown_kind.data() + first_at, &first, sizeof(first));
    EXPECT_FALSE(find_btf_type(unknown_kind, "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF).complete);
    auto wrong_magic = bytes;
    wrong_magic[0] = std::byte{0};
    EXPECT_FALSE(find_btf_type(wrong_magic, "int", BTF_KIND_INT).complete);
}

// Kernels before 6.16 cannot map their BTF: it is read.
TEST(BtfScan, ReadingGivesWhatMappingGives) {
    const auto types = every_kind();
    const auto raw = raw_of(types.get());
    const std::string path = "/tmp/connsnoop-btf-scan-" + std::to_string(getpid());
    {
        std::ofstream file(path, std::ios::binary);
        file.write(reinterpret_cast<const char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
    }
    const int expected = btf__find_by_name_kind(types.get(), "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF);
    EXPECT_EQ(vmlinux_tracepoint_btf_id("inet_sock_set_state", path, BtfAccess::read_only), expected);
    EXPECT_EQ(vmlinux_tracepoint_btf_id("inet_sock_set_state", path, BtfAccess::map_or_read), expected);
    EXPECT_EQ(vmlinux_tracepoint_btf_id("sock", path, BtfAccess::read_only),
              btf__find_by_name_kind(types.get(), "btf_trace_sock", BTF_KIND_TYPEDEF));
    EXPECT_EQ(vmlinux_tracepoint_btf_id("absent", path, BtfAccess::read_only), -ENOENT);
    ::unlink(path.c_str());
}

TEST(BtfScan, TheKernelsTracepointIdIsLibbpfs) {
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "no kernel BTF here";
    for (const char* tracepoint : {"inet_sock_set_state", "sched_process_exec", "no_such_tracepoint_here"}) {
        const int expected = libbpf_find_vmlinux_btf_id(tracepoint, BPF_TRACE_RAW_TP);
        EXPECT_EQ(vmlinux_tracepoint_btf_id(tracepoint), expected) << tracepoint;
    }
    // The kfunc the tp_btf programs cast with: the scan says what libbpf's own lookup says.
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    ASSERT_TRUE(vmlinux);
    const auto facts = scan_vmlinux("inet_sock_set_state");
    EXPECT_EQ(facts.tracepoint_btf_id, libbpf_find_vmlinux_btf_id("inet_sock_set_state", BPF_TRACE_RAW_TP));
    EXPECT_EQ(facts.has_rdonly_cast, btf__find_by_name_kind(vmlinux.get(), "bpf_rdonly_cast", BTF_KIND_FUNC) > 0);
    // An unreadable path falls back to libbpf's answer.
    EXPECT_EQ(vmlinux_tracepoint_btf_id("inet_sock_set_state", "/nonexistent/vmlinux"),
              libbpf_find_vmlinux_btf_id("inet_sock_set_state", BPF_TRACE_RAW_TP));
}

}  // namespace
}  // namespace connsnoop
