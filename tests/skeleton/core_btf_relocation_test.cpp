// The small BTF (collect/core_btf.hpp) relocates the embedded object exactly
// as the kernel's whole BTF does: libbpf prepares the object twice (every
// program, both hook variants), once against each, and every program's
// instructions come out the same, byte for byte.
//
// bpf_object__prepare (libbpf 1.6+) creates the maps and performs every
// relocation, so it needs root. Besides the running kernel's BTF, it checks
// the BTF files listed in CONNSNOOP_TEST_KERNEL_BTFS (colon-separated paths;
// `tests/kernels/extract-btf` writes Debian 12's 6.1, x86_64 and arm64, and
// Debian 11's 5.10).
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/btf.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "collect/bpf_handles.hpp"
#include "collect/btf_scan.hpp"
#include "collect/connect_tracer.hpp"
#include "collect/core_btf.hpp"

namespace connsnoop {
namespace {

std::vector<std::byte> read_all(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(text.size());
    std::memcpy(bytes.data(), text.data(), text.size());
    return bytes;
}

std::vector<CoreRoot> embedded_roots() {
    std::size_t size = 0;
    const auto* object = static_cast<const std::byte*>(connsnoop_bpf::elf_bytes(&size));
    const auto roots = core_relocation_roots({object, size});
    return roots ? *roots : std::vector<CoreRoot>{};
}

// Every program's instructions after libbpf has relocated them against the
// BTF at `btf_path` (empty: as libbpf does by default, the running kernel's
// BTF and, for a type it lacks, its modules'); a map is named by its place in the object, not its
// descriptor, which differs between two objects.
using Relocated = std::map<std::string, std::vector<bpf_insn>>;
Relocated relocated_against(const std::string& btf_path) {
    bpf_object_open_opts options{};
    options.sz = sizeof(options);
    options.btf_custom_path = btf_path.empty() ? nullptr : btf_path.c_str();
    SkeletonPtr skeleton(connsnoop_bpf::open(&options));
    EXPECT_TRUE(skeleton) << btf_path;
    if (!skeleton) return {};
    const int prepared = bpf_object__prepare(skeleton->obj);
    EXPECT_EQ(prepared, 0) << "bpf_object__prepare against " << btf_path;
    if (prepared != 0) return {};
    std::map<int, int> map_places;
    int place = 0;
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, skeleton->obj) map_places[bpf_map__fd(map)] = place++;

    Relocated programs;
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, skeleton->obj) {
        const bpf_insn* insns = bpf_program__insns(program);
        std::vector<bpf_insn> copy(insns, insns + bpf_program__insn_cnt(program));
        for (std::size_t i = 0; i + 1 < copy.size(); ++i) {
            auto& insn = copy[i];
            if (insn.code != (BPF_LD | BPF_IMM | BPF_DW)) continue;
            if (insn.src_reg == BPF_PSEUDO_MAP_FD || insn.src_reg == BPF_PSEUDO_MAP_VALUE) {
                const auto found = map_places.find(insn.imm);
                EXPECT_NE(found, map_places.end()) << bpf_program__name(program) << " insn " << i;
                insn.imm = found == map_places.end() ? -1 : found->second;
            }
            ++i;  // the second half of the 16-byte load
        }
        programs[bpf_program__name(program)] = std::move(copy);
    }
    return programs;
}

// The instructions of `program` that differ, for the failure message.
std::string differences(const std::vector<bpf_insn>& full, const std::vector<bpf_insn>& small) {
    std::ostringstream text;
    if (full.size() != small.size()) text << full.size() << " instructions against " << small.size() << "; ";
    int shown = 0;
    for (std::size_t i = 0; i < std::min(full.size(), small.size()) && shown < 8; ++i) {
        if (std::memcmp(&full[i], &small[i], sizeof(bpf_insn)) == 0) continue;
        text << "insn " << i << ": imm " << full[i].imm << " / " << small[i].imm << ", off " << full[i].off << " / "
             << small[i].off << "; ";
        ++shown;
    }
    return text.str();
}

// `running`: kernel_btf_path is the running kernel's, and the whole-BTF side
// relocates exactly as connsnoop would without the small BTF.
void expect_same_relocations(const std::string& kernel_btf_path, bool running = false) {
    const auto roots = embedded_roots();
    ASSERT_FALSE(roots.empty()) << "the embedded object has no CO-RE roots the small BTF can serve";
    const auto kernel_btf = read_all(kernel_btf_path);
    ASSERT_FALSE(kernel_btf.empty()) << kernel_btf_path;
    const auto small = minimal_core_btf(kernel_btf, roots);
    ASSERT_TRUE(small) << "no small BTF from " << kernel_btf_path;
    // Far smaller than what it was cut from, or it would not pay.
    EXPECT_LT(small->size() * 10, kernel_btf.size());
    auto file = memory_file("core-btf-test", *small);
    ASSERT_TRUE(file) << file.error().message;
    const std::string small_path = "/proc/self/fd/" + std::to_string(file->get());

    const auto full_programs = relocated_against(running ? std::string() : kernel_btf_path);
    const auto small_programs = relocated_against(small_path);
    ASSERT_FALSE(full_programs.empty());
    ASSERT_EQ(full_programs.size(), small_programs.size());
    for (const auto& [name, insns] : full_programs) {
        const auto other = small_programs.find(name);
        ASSERT_NE(other, small_programs.end()) << name;
        EXPECT_TRUE(insns.size() == other->second.size() &&
                    std::memcmp(insns.data(), other->second.data(), insns.size() * sizeof(bpf_insn)) == 0)
            << name << " relocated differently against " << kernel_btf_path << ": "
            << differences(insns, other->second);
    }
}

class CoreBtfRelocation : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (bpf_object__prepare creates the maps)";
    }
};

TEST_F(CoreBtfRelocation, SmallBtfRelocatesLikeTheRunningKernelsBtf) {
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "no kernel BTF here";
    expect_same_relocations("/sys/kernel/btf/vmlinux", true);
}

TEST_F(CoreBtfRelocation, SmallBtfRelocatesLikeOtherKernelsBtf) {
    const char* list = std::getenv("CONNSNOOP_TEST_KERNEL_BTFS");
    if (list == nullptr || *list == '\0') GTEST_SKIP() << "CONNSNOOP_TEST_KERNEL_BTFS lists no BTF files";
    std::istringstream paths(list);
    for (std::string path; std::getline(paths, path, ':');) {
        if (path.empty()) continue;
        SCOPED_TRACE(path);
        expect_same_relocations(path);
    }
}

// The tp_btf programs cast with the kernel's own type IDs, which user space
// puts in read-only data; no relocation asks the small BTF for one.
TEST(CoreBtfRoots, TheObjectAsksNoKernelTypeIdOfLibbpf) {
    const auto roots = embedded_roots();
    EXPECT_FALSE(roots.empty());
    const auto has = [&](const char* name, std::uint32_t kind) {
        for (const auto& root : roots) {
            if (root.name == name && root.kind == kind) return true;
        }
        return false;
    };
    EXPECT_TRUE(has("task_struct", BTF_KIND_STRUCT));
    EXPECT_TRUE(has("sock", BTF_KIND_STRUCT));
    EXPECT_TRUE(has("bpf_func_id", BTF_KIND_ENUM));
}

TEST(CoreBtfRoots, TheCastsGetTheKernelsTypeIds) {
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "no kernel BTF here";
    btf* vmlinux = btf__load_vmlinux_btf();
    ASSERT_TRUE(vmlinux);
    const auto facts = scan_vmlinux("inet_sock_set_state", "/sys/kernel/btf/vmlinux", BtfAccess::map_or_read,
                                    std::vector<CoreRoot>{{"sock", BTF_KIND_STRUCT}});
    EXPECT_EQ(static_cast<int>(facts.task_struct_btf_id),
              btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT));
    EXPECT_EQ(static_cast<int>(facts.sock_btf_id), btf__find_by_name_kind(vmlinux, "sock", BTF_KIND_STRUCT));
    btf__free(vmlinux);
    // The small BTF start-up cuts in its one walk is the one these tests check.
    const auto embedded = embedded_roots();
    const auto at_startup =
        scan_vmlinux("inet_sock_set_state", "/sys/kernel/btf/vmlinux", BtfAccess::map_or_read, embedded);
    const auto tested = minimal_core_btf(read_all("/sys/kernel/btf/vmlinux"), embedded);
    ASSERT_TRUE(at_startup.core_btf.has_value());
    ASSERT_TRUE(tested.has_value());
    EXPECT_TRUE(*at_startup.core_btf == *tested);
}

// A small BTF libbpf cannot relocate against (here one without any type:
// every CO-RE read is poisoned, and the verifier refuses the first it
// reaches) is not a privilege error: the load is tried once more against the
// kernel's whole BTF, says so once, and the trace loads.
TEST(CoreBtfFallback, ARefusedSmallBtfFallsBackToTheKernelsWholeBtf) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (loads the object)";
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "no kernel BTF here";
    btf_header header{};
    header.magic = 0xeB9F;
    header.version = 1;
    header.hdr_len = sizeof(header);
    header.str_len = 1;  // the empty string every BTF starts its strings with
    std::vector<std::byte> no_types(sizeof(header) + 1);
    std::memcpy(no_types.data(), &header, sizeof(header));

    testing::internal::CaptureStderr();
    const auto loaded = load_tracer_object_with_core_btf(TracerConfig{}, false, no_types);
    const std::string said = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_NE(said.find("; once more with CO-RE against the kernel's whole BTF\n"), std::string::npos) << said;
}

}  // namespace
}  // namespace connsnoop
