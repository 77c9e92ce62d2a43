// The small CO-RE BTF (collect/core_btf.hpp) on BTF that libbpf writes, read
// back with libbpf: what it keeps, what it cuts, and what it refuses.
#include "collect/core_btf.hpp"

#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <linux/btf.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace connsnoop {
namespace {

struct BtfFree {
    void operator()(btf* object) const { btf__free(object); }
};
using BtfPtr = std::unique_ptr<btf, BtfFree>;

std::vector<std::byte> raw_of(const btf* types) {
    std::uint32_t size = 0;
    const auto* data = static_cast<const std::byte*>(btf__raw_data(types, &size));
    return {data, data + size};
}

BtfPtr parse(const std::vector<std::byte>& raw) { return BtfPtr(btf__new(raw.data(), static_cast<__u32>(raw.size()))); }

// A kernel in miniature: a root struct with a flavoured twin, an embedded
// struct reached through a typedef and an array, pointers, an enum, and
// types no relocation needs.
BtfPtr kernel_like() {
    BtfPtr types(btf__new_empty());
    btf* b = types.get();
    const int integer = btf__add_int(b, "int", 4, BTF_INT_SIGNED);     // 1
    const int unsigned_char = btf__add_int(b, "unsigned char", 1, 0);  // 2
    const int unrelated = btf__add_struct(b, "unrelated", 4);          // 3
    btf__add_field(b, "x", integer, 0, 0);
    const int inner = btf__add_struct(b, "inner", 8);  // 4
    btf__add_field(b, "a", integer, 0, 0);
    btf__add_field(b, "flags", unsigned_char, 32, 3);                 // a bitfield
    const int inner_t = btf__add_typedef(b, "inner_t", inner);        // 5
    const int volatile_inner = btf__add_volatile(b, inner_t);         // 6
    const int pointer_unrelated = btf__add_ptr(b, unrelated);         // 7
    const int array = btf__add_array(b, integer, volatile_inner, 2);  // 8
    const int state = btf__add_enum(b, "state", 4);                   // 9
    btf__add_enum_value(b, "UP", 1);
    btf__add_enum_value(b, "DOWN", 2);
    const int sock = btf__add_struct(b, "sock", 40);  // 10
    btf__add_field(b, "inner", volatile_inner, 0, 0);
    btf__add_field(b, "pair", array, 64, 0);
    btf__add_field(b, "next", pointer_unrelated, 192, 0);
    btf__add_field(b, "state", state, 256, 0);
    btf__add_union(b, nullptr, 4);  // 11: anonymous, embedded below
    btf__add_field(b, "u", integer, 0, 0);
    btf__add_struct(b, "sock___v2", 8);  // 12: a flavour of sock
    btf__add_field(b, "n", 11, 0, 0);
    btf__add_struct(b, "socket", 4);  // 13: not a candidate for "sock"
    btf__add_field(b, "y", integer, 0, 0);
    btf__add_enum(b, "sock", 4);  // 14: the name, but not the kind
    btf__add_enum_value(b, "S", 0);
    EXPECT_EQ(sock, 10);
    return types;
}

int find(const btf* types, const char* name, std::uint32_t kind) { return btf__find_by_name_kind(types, name, kind); }

TEST(CoreBtf, EssentialNamesAreLibbpfs) {
    EXPECT_EQ(core_essential_name_length("sock"), 4U);
    EXPECT_EQ(core_essential_name_length("sock___old"), 4U);
    EXPECT_EQ(core_essential_name_length("a___b___c"), 5U);  // the last separator counts
    EXPECT_EQ(core_essential_name_length("sock___"), 7U);    // no flavour after it
    EXPECT_EQ(core_essential_name_length("sock____x"), 9U);  // four underscores are not a separator
    EXPECT_EQ(core_essential_name_length("___x"), 4U);
    EXPECT_EQ(core_essential_name_length(""), 0U);
}

TEST(CoreBtf, KeepsTheCandidatesAndWhatTheyAreMadeOf) {
    const auto kernel = kernel_like();
    const std::vector<CoreRoot> roots = {{"sock", BTF_KIND_STRUCT}, {"state", BTF_KIND_ENUM}};
    const auto small_raw = minimal_core_btf(raw_of(kernel.get()), roots);
    ASSERT_TRUE(small_raw);
    const auto small = parse(*small_raw);
    ASSERT_TRUE(small) << "libbpf does not take the small BTF";

    // Both candidates for "sock" (itself and its flavour), in the kernel's order.
    const int sock = find(small.get(), "sock", BTF_KIND_STRUCT);
    const int flavour = find(small.get(), "sock___v2", BTF_KIND_STRUCT);
    ASSERT_GT(sock, 0);
    ASSERT_GT(flavour, sock);
    // What no relocation reaches is cut: other names, other kinds, pointees.
    EXPECT_LT(find(small.get(), "socket", BTF_KIND_STRUCT), 0);
    EXPECT_LT(find(small.get(), "sock", BTF_KIND_ENUM), 0);
    EXPECT_LT(find(small.get(), "unrelated", BTF_KIND_STRUCT), 0);

    // Members at the same offsets, with the same sizes, through typedefs,
    // modifiers and arrays.
    const btf_type* small_sock = btf__type_by_id(small.get(), static_cast<__u32>(sock));
    const btf_type* kernel_sock = btf__type_by_id(kernel.get(), 10);
    ASSERT_EQ(btf_vlen(small_sock), btf_vlen(kernel_sock));
    EXPECT_EQ(small_sock->size, kernel_sock->size);
    for (int i = 0; i < btf_vlen(kernel_sock); ++i) {
        const btf_member& mine = btf_members(small_sock)[i];
        const btf_member& theirs = btf_members(kernel_sock)[i];
        EXPECT_STREQ(btf__name_by_offset(small.get(), mine.name_off),
                     btf__name_by_offset(kernel.get(), theirs.name_off));
        EXPECT_EQ(mine.offset, theirs.offset);
        EXPECT_EQ(btf__resolve_size(small.get(), mine.type), btf__resolve_size(kernel.get(), theirs.type));
    }
    const int inner = find(small.get(), "inner", BTF_KIND_STRUCT);
    ASSERT_GT(inner, 0);
    const btf_type* small_inner = btf__type_by_id(small.get(), static_cast<__u32>(inner));
    ASSERT_EQ(btf_vlen(small_inner), 2);
    EXPECT_EQ(btf_member_bit_offset(small_inner, 1), 32U);
    EXPECT_EQ(btf_member_bitfield_size(small_inner, 1), 3U);
    EXPECT_GT(find(small.get(), "inner_t", BTF_KIND_TYPEDEF), 0);

    // A pointer member stays a pointer, to void.
    const btf_type* next = btf__type_by_id(small.get(), btf_members(small_sock)[2].type);
    ASSERT_TRUE(btf_is_ptr(next));
    EXPECT_EQ(next->type, 0U);

    // Enums whole.
    const int state = find(small.get(), "state", BTF_KIND_ENUM);
    ASSERT_GT(state, 0);
    const btf_type* small_state = btf__type_by_id(small.get(), static_cast<__u32>(state));
    ASSERT_EQ(btf_vlen(small_state), 2);
    EXPECT_STREQ(btf__name_by_offset(small.get(), btf_enum(small_state)[1].name_off), "DOWN");
    EXPECT_EQ(btf_enum(small_state)[1].val, 2);

    // The anonymous union inside the flavour came along.
    const btf_type* small_flavour = btf__type_by_id(small.get(), static_cast<__u32>(flavour));
    EXPECT_TRUE(btf_is_union(btf__type_by_id(small.get(), btf_members(small_flavour)[0].type)));
}

TEST(CoreBtf, NoRootsNoTypes) {
    const auto kernel = kernel_like();
    const auto small_raw = minimal_core_btf(raw_of(kernel.get()), {});
    ASSERT_TRUE(small_raw);
    const auto small = parse(*small_raw);
    ASSERT_TRUE(small);
    EXPECT_EQ(btf__type_cnt(small.get()), 1U);  // void alone
}

// libbpf looks for a root the kernel's own BTF lacks in its modules' BTF,
// but never with a custom BTF: no small BTF then, libbpf searches itself.
TEST(CoreBtf, ARootWithoutACandidateLeavesTheSearchToLibbpf) {
    const auto kernel = kernel_like();
    const auto raw = raw_of(kernel.get());
    EXPECT_TRUE(minimal_core_btf(raw, std::vector<CoreRoot>{{"sock", BTF_KIND_STRUCT}}));
    EXPECT_FALSE(minimal_core_btf(raw, std::vector<CoreRoot>{{"sock", BTF_KIND_STRUCT}, {"nf_conn", BTF_KIND_STRUCT}}));
    EXPECT_FALSE(
        minimal_core_btf(raw, std::vector<CoreRoot>{{"unrelated", BTF_KIND_UNION}}));  // the name, not the kind
}

// A member whose type lies beyond the last type: nothing to cut from.
TEST(CoreBtf, RefusesAMemberTypeOutsideTheBtf) {
    BtfPtr types(btf__new_empty());
    const int integer = btf__add_int(types.get(), "int", 4, BTF_INT_SIGNED);
    btf__add_struct(types.get(), "sock", 8);
    btf__add_field(types.get(), "a", integer, 0, 0);
    btf__add_field(types.get(), "b", integer, 32, 0);
    auto raw = raw_of(types.get());
    // The second member's type: the last 4 bytes of the type section (the
    // struct is the last type; a member is name_off, type, offset).
    std::uint32_t header_len = 0;
    std::uint32_t type_off = 0;
    std::uint32_t type_len = 0;
    std::memcpy(&header_len, raw.data() + 4, 4);
    std::memcpy(&type_off, raw.data() + 8, 4);
    std::memcpy(&type_len, raw.data() + 12, 4);
    const std::size_t member_type_at = header_len + type_off + type_len - 8;
    std::uint32_t member_type = 0;
    std::memcpy(&member_type, raw.data() + member_type_at, 4);
    ASSERT_EQ(member_type, static_cast<std::uint32_t>(integer));
    const std::uint32_t outside = 99;
    std::memcpy(raw.data() + member_type_at, &outside, 4);
    EXPECT_FALSE(minimal_core_btf(raw, std::vector<CoreRoot>{{"sock", BTF_KIND_STRUCT}}));
}

TEST(CoreBtf, RefusesWhatItCannotRead) {
    const auto kernel = kernel_like();
    auto raw = raw_of(kernel.get());
    const std::vector<CoreRoot> roots = {{"sock", BTF_KIND_STRUCT}};
    auto truncated = raw;
    truncated.resize(truncated.size() / 2);
    EXPECT_FALSE(minimal_core_btf(truncated, roots));
    auto wrong_magic = raw;
    wrong_magic[0] = std::byte{0};
    EXPECT_FALSE(minimal_core_btf(wrong_magic, roots));
    const std::vector<std::byte> not_elf(64, std::byte{0x7f});
    EXPECT_FALSE(core_relocation_roots(not_elf));
    EXPECT_FALSE(core_relocation_roots({}));
}

TEST(CoreBtf, TheMemoryFileHoldsTheBytes) {
    const auto kernel = kernel_like();
    const auto raw = raw_of(kernel.get());
    auto file = memory_file("core-btf-unit", raw);
    ASSERT_TRUE(file) << file.error().message;
    const std::string path = "/proc/self/fd/" + std::to_string(file->get());
    BtfPtr parsed(btf__parse(path.c_str(), nullptr));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(btf__type_cnt(parsed.get()), btf__type_cnt(kernel.get()));
}

}  // namespace
}  // namespace connsnoop
