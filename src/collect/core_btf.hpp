// A small BTF for libbpf's CO-RE relocations, cut at start-up from the
// kernel's own BTF (in the spirit of bpftool's `gen min_core_btf`).
//
// libbpf looks for the candidates of every relocated type with one linear
// pass over all of vmlinux BTF (about 150,000 types on 6.18), once per
// distinct root type: about a quarter of start-up's CPU. Handed a BTF that
// holds only those candidates and what their members are made of, it finds
// the same candidates and computes the same offsets, sizes and enum values,
// in a few hundred types.
//
// What the small BTF keeps, and why that is enough (libbpf's relo_core.c):
// - every kernel type whose name, flavour suffix ("___x") aside, is that of a
//   relocated root type, of a kind libbpf takes as its candidate, in their
//   order: libbpf takes them all and requires that they agree;
// - all members of those, at the same bit offsets and bitfield sizes, and
//   the types of members, embedded structs, unions, arrays, typedefs and
//   modifiers recursively: an access path walks through embedded members,
//   and field sizes, signedness and enum names are compared;
// - pointers, but not what they point to: libbpf compares only the kind of a
//   pointer member, and never follows one in a field relocation. Every
//   pointer becomes `void *`.
// Relocations whose answer this cannot reproduce are refused up front (see
// core_relocation_roots): the kernel type IDs (bpf_core_type_id_kernel)
// would be the small BTF's, and bpf_core_type_matches follows pointers.
#pragma once

#include <linux/btf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace connsnoop {

// Bytes that follow a type's common part, by kind (linux/btf.h); none for a
// kind this code does not know.
inline std::optional<std::uint64_t> btf_trailing_bytes(std::uint32_t kind, std::uint32_t vlen) {
    switch (kind) {
        case BTF_KIND_PTR:
        case BTF_KIND_FWD:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_FUNC:
        case BTF_KIND_FLOAT:
        case BTF_KIND_TYPE_TAG:
            return 0;
        case BTF_KIND_INT:
            return sizeof(std::uint32_t);
        case BTF_KIND_ARRAY:
            return sizeof(struct btf_array);
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
            return std::uint64_t{vlen} * sizeof(struct btf_member);
        case BTF_KIND_ENUM:
            return std::uint64_t{vlen} * sizeof(struct btf_enum);
        case BTF_KIND_FUNC_PROTO:
            return std::uint64_t{vlen} * sizeof(struct btf_param);
        case BTF_KIND_VAR:
            return sizeof(struct btf_var);
        case BTF_KIND_DATASEC:
            return std::uint64_t{vlen} * sizeof(struct btf_var_secinfo);
        case BTF_KIND_DECL_TAG:
            return sizeof(struct btf_decl_tag);
        case BTF_KIND_ENUM64:
            return std::uint64_t{vlen} * sizeof(struct btf_enum64);
        default:
            return std::nullopt;
    }
}

// Raw BTF (in this machine's byte order) and where each of its types starts.
// It reads through the bytes it was built from, which must outlive it.
class BtfIndex {
public:
    // Walks every type once, calling visit(id, type, strings) on each; nullopt
    // for anything but complete BTF of the kinds btf_trailing_bytes knows.
    template <class Visit>
    static std::optional<BtfIndex> build(std::span<const std::byte> raw, Visit&& visit);
    static std::optional<BtfIndex> build(std::span<const std::byte> raw) {
        return build(raw, [](std::uint32_t, const btf_type&, std::string_view) {});
    }

    // Type IDs run from 1 to type_count() - 1; 0 is void.
    [[nodiscard]] std::uint32_t type_count() const { return static_cast<std::uint32_t>(offsets_.size()); }
    [[nodiscard]] btf_type type(std::uint32_t id) const;
    // The bytes after a type's common part (members, enum values, ...).
    [[nodiscard]] std::span<const std::byte> trailing(std::uint32_t id) const;
    // The NUL-terminated string at `offset` ("" when out of range).
    [[nodiscard]] std::string_view string(std::uint32_t offset) const;

private:
    struct Layout {
        std::span<const std::byte> types;
        std::string_view strings;  // ends with a NUL
    };
    static std::optional<Layout> layout(std::span<const std::byte> raw);

    std::span<const std::byte> types_;
    std::string_view strings_;
    std::vector<std::uint32_t> offsets_;  // into types_, by ID; [0] (void) unused
};

// A root type of the object's CO-RE relocations: its name without a flavour
// suffix, and its BTF kind.
struct CoreRoot {
    std::string name;
    std::uint32_t kind;
    friend bool operator==(const CoreRoot&, const CoreRoot&) = default;
};

// The length of `name` without its flavour suffix, as libbpf's
// bpf_core_essential_name_len: "sock___old" -> 4.
std::size_t core_essential_name_length(std::string_view name);

// The root types of every CO-RE relocation in a BPF ELF object (its .BTF and
// .BTF.ext), each once, in the order first met. nullopt when the object cannot
// be read, or has a relocation the small BTF would answer differently from
// the kernel's: a kernel type ID, bpf_core_type_matches, a type-based
// relocation of anything but a struct, union or enum, or a kind this code
// does not know.
std::optional<std::vector<CoreRoot>> core_relocation_roots(std::span<const std::byte> elf_object);

// Collects, during a BtfIndex walk of the kernel's BTF, the IDs of the types
// libbpf would take as candidates for `roots` (in ID order).
class CoreCandidates {
public:
    explicit CoreCandidates(std::span<const CoreRoot> roots);
    // Inline: most types are of a kind no root matches, and their names are
    // never read.
    void visit(std::uint32_t id, const btf_type& type, std::string_view strings) {
        const std::uint32_t kind = BTF_INFO_KIND(type.info);
        if ((kinds_ & (1U << kind)) != 0 && type.name_off != 0 && type.name_off < strings.size())
            match(id, kind, strings.data() + type.name_off);
    }
    [[nodiscard]] const std::vector<std::uint32_t>& ids() const { return ids_; }
    // Whether every root found a candidate. libbpf looks in kernel modules'
    // BTF for a root that vmlinux lacks, but never with a custom BTF: such a
    // root must be relocated by libbpf's own search.
    [[nodiscard]] bool every_root_matched() const { return unmatched_roots_ == 0; }

private:
    void match(std::uint32_t id, std::uint32_t kind, const char* name);

    std::vector<CoreRoot> roots_;
    std::uint32_t kinds_ = 0;                              // bit per kind some root can match
    std::vector<std::vector<std::size_t>> by_first_char_;  // roots_ indexes, by their name's first byte
    std::vector<std::uint32_t> ids_;
    std::vector<bool> root_matched_;
    std::size_t unmatched_roots_ = 0;
};

// The small BTF: the `candidates` of `kernel` and what they are made of (see
// the top of this file), as raw BTF. nullopt when a type refers outside the
// BTF or reaches a kind no relocation can walk through.
std::optional<std::vector<std::byte>> minimal_core_btf(const BtfIndex& kernel,
                                                       std::span<const std::uint32_t> candidates);

// Both steps on raw kernel BTF (for tests and tools; start-up does the walk in
// scan_vmlinux, with its other look-ups); nullopt too when a root has no
// candidate at all (CoreCandidates::every_root_matched).
std::optional<std::vector<std::byte>> minimal_core_btf(std::span<const std::byte> kernel_btf,
                                                       std::span<const CoreRoot> roots);

// An anonymous memory file holding `bytes`, for libbpf to read by the path
// /proc/self/fd/N (bpf_object_open_opts.btf_custom_path).
Result<UniqueFd> memory_file(const char* name, std::span<const std::byte> bytes);

template <class Visit>
std::optional<BtfIndex> BtfIndex::build(std::span<const std::byte> raw, Visit&& visit) {
    const auto parts = layout(raw);
    if (!parts) return std::nullopt;
    BtfIndex index;
    index.types_ = parts->types;
    index.strings_ = parts->strings;
    index.offsets_.reserve(parts->types.size() / 24);  // about 36 bytes a type in vmlinux
    index.offsets_.push_back(0);
    const std::size_t end = parts->types.size();
    for (std::size_t at = 0; at < end;) {
        btf_type type{};
        if (end - at < sizeof(type)) return std::nullopt;
        std::memcpy(&type, parts->types.data() + at, sizeof(type));
        const auto trailing = btf_trailing_bytes(BTF_INFO_KIND(type.info), BTF_INFO_VLEN(type.info));
        if (!trailing || end - at - sizeof(type) < *trailing) return std::nullopt;
        const auto id = static_cast<std::uint32_t>(index.offsets_.size());
        index.offsets_.push_back(static_cast<std::uint32_t>(at));
        visit(id, type, parts->strings);
        at += sizeof(type) + *trailing;
    }
    return index;
}

}  // namespace connsnoop
