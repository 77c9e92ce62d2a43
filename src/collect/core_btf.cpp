#include "collect/core_btf.hpp"

#include <elf.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <unordered_map>

namespace connsnoop {

namespace {
constexpr std::uint16_t kBtfMagic = 0xeB9F;

template <class T>
T load(std::span<const std::byte> bytes, std::size_t at) {
    T value{};
    std::memcpy(&value, bytes.data() + at, sizeof(value));
    return value;
}

// The .BTF.ext header up to its CO-RE part (libbpf's struct btf_ext_header).
struct BtfExtHeader {
    std::uint16_t magic;
    std::uint8_t version;
    std::uint8_t flags;
    std::uint32_t hdr_len;
    std::uint32_t func_info_off;
    std::uint32_t func_info_len;
    std::uint32_t line_info_off;
    std::uint32_t line_info_len;
    std::uint32_t core_relo_off;
    std::uint32_t core_relo_len;
};

// One record of the CO-RE part: linux/bpf.h's struct bpf_core_relo, its kind
// (enum bpf_core_relo_kind) read as a plain number, for it may be one this
// code does not know.
struct CoreRelo {
    std::uint32_t insn_off;
    std::uint32_t type_id;
    std::uint32_t access_str_off;
    std::uint32_t kind;
};
static_assert(sizeof(CoreRelo) == sizeof(bpf_core_relo));

bool is_any_enum(std::uint32_t kind) { return kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64; }

// libbpf's btf_kind_core_compat.
bool kinds_core_compatible(std::uint32_t a, std::uint32_t b) { return a == b || (is_any_enum(a) && is_any_enum(b)); }

// The sections `wanted` names of an ELF64 object in this machine's byte order.
std::optional<std::vector<std::span<const std::byte>>> elf_sections(std::span<const std::byte> elf,
                                                                    std::span<const std::string_view> wanted) {
    if (elf.size() < sizeof(Elf64_Ehdr)) return std::nullopt;
    const auto header = load<Elf64_Ehdr>(elf, 0);
    const unsigned char native = std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
        header.e_ident[EI_DATA] != native || header.e_shentsize != sizeof(Elf64_Shdr) ||
        header.e_shstrndx >= header.e_shnum || header.e_shoff > elf.size() ||
        (elf.size() - header.e_shoff) / sizeof(Elf64_Shdr) < header.e_shnum) {
        return std::nullopt;
    }
    const auto section = [&](std::size_t index) {
        return load<Elf64_Shdr>(elf, header.e_shoff + index * sizeof(Elf64_Shdr));
    };
    const auto contents = [&](const Elf64_Shdr& shdr) -> std::optional<std::span<const std::byte>> {
        if (shdr.sh_type == SHT_NOBITS || shdr.sh_offset > elf.size() || shdr.sh_size > elf.size() - shdr.sh_offset)
            return std::nullopt;
        return elf.subspan(shdr.sh_offset, shdr.sh_size);
    };
    const auto names = contents(section(header.e_shstrndx));
    if (!names) return std::nullopt;
    const std::string_view name_table(reinterpret_cast<const char*>(names->data()), names->size());
    std::vector<std::span<const std::byte>> found(wanted.size());
    for (std::size_t i = 0; i < header.e_shnum; ++i) {
        const auto shdr = section(i);
        if (shdr.sh_name >= name_table.size()) continue;
        const auto rest = name_table.substr(shdr.sh_name);
        const auto name = rest.substr(0, rest.find('\0'));
        for (std::size_t w = 0; w < wanted.size(); ++w) {
            if (name != wanted[w]) continue;
            const auto bytes = contents(shdr);
            if (!bytes) return std::nullopt;
            found[w] = *bytes;
        }
    }
    return found;
}

// The new BTF being written: types and a string table without repeats.
class BtfWriter {
public:
    BtfWriter() { strings_.push_back('\0'); }

    std::uint32_t add_string(std::string_view text) {
        if (text.empty()) return 0;
        const auto [slot, added] = string_offsets_.try_emplace(text, static_cast<std::uint32_t>(strings_.size()));
        if (added) {
            strings_.append(text);
            strings_.push_back('\0');
        }
        return slot->second;
    }
    template <class T>
    void add(const T& value) {
        const auto* bytes = reinterpret_cast<const std::byte*>(&value);
        types_.insert(types_.end(), bytes, bytes + sizeof(value));
    }
    [[nodiscard]] std::vector<std::byte> finish() const {
        btf_header header{};
        header.magic = kBtfMagic;
        header.version = BTF_VERSION;
        header.hdr_len = sizeof(header);
        header.type_off = 0;
        header.type_len = static_cast<std::uint32_t>(types_.size());
        header.str_off = header.type_len;
        header.str_len = static_cast<std::uint32_t>(strings_.size());
        // Appended, not memcpy'd: with no types, types_.data() may be null,
        // which memcpy may not be given even for 0 bytes.
        std::vector<std::byte> raw(sizeof(header));
        std::memcpy(raw.data(), &header, sizeof(header));
        raw.insert(raw.end(), types_.begin(), types_.end());
        const auto* strings = reinterpret_cast<const std::byte*>(strings_.data());
        raw.insert(raw.end(), strings, strings + strings_.size());
        return raw;
    }

private:
    std::vector<std::byte> types_;
    std::string strings_;
    // Keys view the source BTF's strings, which outlive the writer.
    std::unordered_map<std::string_view, std::uint32_t> string_offsets_;
};
}  // namespace

std::optional<BtfIndex::Layout> BtfIndex::layout(std::span<const std::byte> raw) {
    if (raw.size() < sizeof(btf_header)) return std::nullopt;
    const auto header = load<btf_header>(raw, 0);
    if (header.magic != kBtfMagic || header.version != BTF_VERSION || header.hdr_len < sizeof(header))
        return std::nullopt;
    const std::uint64_t types_begin = std::uint64_t{header.hdr_len} + header.type_off;
    const std::uint64_t strings_begin = std::uint64_t{header.hdr_len} + header.str_off;
    if (types_begin + header.type_len > raw.size() || strings_begin + header.str_len > raw.size() ||
        header.str_len == 0)
        return std::nullopt;
    const std::string_view strings(reinterpret_cast<const char*>(raw.data()) + strings_begin, header.str_len);
    if (strings.back() != '\0') return std::nullopt;
    return Layout{raw.subspan(types_begin, header.type_len), strings};
}

btf_type BtfIndex::type(std::uint32_t id) const { return load<btf_type>(types_, offsets_[id]); }

std::span<const std::byte> BtfIndex::trailing(std::uint32_t id) const {
    const std::size_t begin = offsets_[id] + sizeof(btf_type);
    const std::size_t end = id + 1 < offsets_.size() ? offsets_[id + 1] : types_.size();
    return types_.subspan(begin, end - begin);
}

std::string_view BtfIndex::string(std::uint32_t offset) const {
    if (offset >= strings_.size()) return {};
    return strings_.data() + offset;  // the section ends with a NUL
}

std::size_t core_essential_name_length(std::string_view name) {
    // The last "X___Y" with X and Y not '_': the name ends before its "___".
    for (std::size_t i = name.size() >= 5 ? name.size() - 5 + 1 : 0; i-- > 0;) {
        if (name[i] != '_' && name.compare(i + 1, 3, "___") == 0 && name[i + 4] != '_') return i + 1;
    }
    return name.size();
}

std::optional<std::vector<CoreRoot>> core_relocation_roots(std::span<const std::byte> elf_object) {
    constexpr std::string_view kSections[] = {".BTF", ".BTF.ext"};
    const auto sections = elf_sections(elf_object, kSections);
    if (!sections) return std::nullopt;
    const auto local = BtfIndex::build((*sections)[0]);
    if (!local) return std::nullopt;
    const auto ext = (*sections)[1];
    std::vector<CoreRoot> roots;
    if (ext.size() < 8) return roots;  // no .BTF.ext: nothing to relocate
    const auto header_len = load<std::uint32_t>(ext, 4);
    if (load<std::uint16_t>(ext, 0) != kBtfMagic || header_len > ext.size()) return std::nullopt;
    if (header_len < sizeof(BtfExtHeader)) return roots;  // written before CO-RE
    const auto header = load<BtfExtHeader>(ext, 0);
    const std::uint64_t begin = std::uint64_t{header_len} + header.core_relo_off;
    const std::uint64_t end = begin + header.core_relo_len;
    if (header.core_relo_len == 0) return roots;
    if (end > ext.size() || header.core_relo_len < sizeof(std::uint32_t)) return std::nullopt;
    const auto record_size = load<std::uint32_t>(ext, begin);
    if (record_size < sizeof(CoreRelo)) return std::nullopt;
    for (std::uint64_t at = begin + sizeof(std::uint32_t); at < end;) {
        if (end - at < 2 * sizeof(std::uint32_t)) return std::nullopt;
        const auto count = load<std::uint32_t>(ext, at + sizeof(std::uint32_t));
        at += 2 * sizeof(std::uint32_t);
        if ((end - at) / record_size < count) return std::nullopt;
        for (std::uint32_t i = 0; i < count; ++i, at += record_size) {
            const auto relo = load<CoreRelo>(ext, at);
            if (relo.kind == BPF_CORE_TYPE_ID_LOCAL) continue;  // the object's own BTF: no kernel type asked
            if (relo.type_id == 0 || relo.type_id >= local->type_count()) return std::nullopt;
            const auto type = local->type(relo.type_id);
            const std::uint32_t kind = BTF_INFO_KIND(type.info);
            const bool composite_or_enum = kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || is_any_enum(kind);
            switch (relo.kind) {
                case BPF_CORE_TYPE_EXISTS:
                case BPF_CORE_TYPE_SIZE:
                case BPF_CORE_ENUMVAL_EXISTS:
                case BPF_CORE_ENUMVAL_VALUE:
                    // Compatible by kind alone (struct, union, enum); anything
                    // else libbpf would compare through its pointers.
                    if (!composite_or_enum) return std::nullopt;
                    break;
                default:
                    if (relo.kind > BPF_CORE_FIELD_RSHIFT_U64) return std::nullopt;  // type IDs, type_matches, unknown
            }
            const auto name = local->string(type.name_off);
            if (name.empty()) return std::nullopt;  // libbpf refuses anonymous roots itself
            CoreRoot root{std::string(name.substr(0, core_essential_name_length(name))), kind};
            if (std::find(roots.begin(), roots.end(), root) == roots.end()) roots.push_back(std::move(root));
        }
    }
    return roots;
}

CoreCandidates::CoreCandidates(std::span<const CoreRoot> roots)
    : roots_(roots.begin(), roots.end()),
      by_first_char_(256),
      root_matched_(roots.size(), false),
      unmatched_roots_(roots.size()) {
    for (std::size_t i = 0; i < roots_.size(); ++i) {
        const auto& root = roots_[i];
        kinds_ |= 1U << root.kind;
        if (is_any_enum(root.kind)) kinds_ |= (1U << BTF_KIND_ENUM) | (1U << BTF_KIND_ENUM64);
        if (!root.name.empty()) by_first_char_[static_cast<unsigned char>(root.name[0])].push_back(i);
    }
}

void CoreCandidates::match(std::uint32_t id, std::uint32_t kind, const char* name) {
    for (const std::size_t i : by_first_char_[static_cast<unsigned char>(name[0])]) {
        const auto& root = roots_[i];
        if (!kinds_core_compatible(root.kind, kind)) continue;
        if (std::strncmp(name, root.name.c_str(), root.name.size()) != 0) continue;
        // "name" itself, or "name___flavour" whose essential part it is.
        if (name[root.name.size()] != '\0' && core_essential_name_length(name) != root.name.size()) continue;
        ids_.push_back(id);
        if (!root_matched_[i]) {
            root_matched_[i] = true;
            --unmatched_roots_;
        }
        return;
    }
}

std::optional<std::vector<std::byte>> minimal_core_btf(const BtfIndex& kernel,
                                                       std::span<const std::uint32_t> candidates) {
    const std::uint32_t count = kernel.type_count();
    // Which types go in: the candidates and, through everything but
    // pointers, what they are made of.
    std::vector<std::uint8_t> kept(count, 0);
    std::vector<std::uint32_t> pending(candidates.begin(), candidates.end());
    bool any_pointer = false;
    const auto follow = [&](std::uint32_t id) {
        if (id != 0) pending.push_back(id);
    };
    while (!pending.empty()) {
        const std::uint32_t id = pending.back();
        pending.pop_back();
        if (id >= count) return std::nullopt;
        if (kept[id] != 0) continue;
        kept[id] = 1;
        const auto type = kernel.type(id);
        const auto trailing = kernel.trailing(id);
        const std::uint32_t vlen = BTF_INFO_VLEN(type.info);
        switch (BTF_INFO_KIND(type.info)) {
            case BTF_KIND_PTR:
                any_pointer = true;
                break;
            case BTF_KIND_INT:
            case BTF_KIND_ENUM:
            case BTF_KIND_ENUM64:
            case BTF_KIND_FWD:
            case BTF_KIND_FLOAT:
                break;
            case BTF_KIND_TYPEDEF:
            case BTF_KIND_VOLATILE:
            case BTF_KIND_CONST:
            case BTF_KIND_RESTRICT:
            case BTF_KIND_TYPE_TAG:
                follow(type.type);
                break;
            case BTF_KIND_ARRAY: {
                const auto array = load<btf_array>(trailing, 0);
                follow(array.type);
                follow(array.index_type);
                break;
            }
            case BTF_KIND_STRUCT:
            case BTF_KIND_UNION:
                for (std::uint32_t i = 0; i < vlen; ++i)
                    follow(load<btf_member>(trailing, i * sizeof(btf_member)).type);
                break;
            case BTF_KIND_FUNC_PROTO:
                follow(type.type);
                for (std::uint32_t i = 0; i < vlen; ++i) follow(load<btf_param>(trailing, i * sizeof(btf_param)).type);
                break;
            default:  // functions, variables, sections, tags: no relocation walks through them
                return std::nullopt;
        }
    }

    // New IDs in the kernel's order (candidates keep theirs relative to each
    // other); every pointer is the one `void *`, ID 1.
    const std::uint32_t void_pointer = any_pointer ? 1 : 0;
    std::vector<std::uint32_t> order;
    std::unordered_map<std::uint32_t, std::uint32_t> new_id;
    std::uint32_t next = void_pointer + 1;
    for (std::uint32_t id = 1; id < count; ++id) {
        if (kept[id] == 0) continue;
        if (BTF_INFO_KIND(kernel.type(id).info) == BTF_KIND_PTR) {
            new_id.emplace(id, void_pointer);
            continue;
        }
        new_id.emplace(id, next++);
        order.push_back(id);
    }
    const auto renumber = [&](std::uint32_t id) { return id == 0 ? 0 : new_id.at(id); };

    BtfWriter out;
    if (any_pointer) out.add(btf_type{0, std::uint32_t{BTF_KIND_PTR} << 24, {0}});  // void *
    for (const std::uint32_t id : order) {
        auto type = kernel.type(id);
        const auto trailing = kernel.trailing(id);
        const std::uint32_t kind = BTF_INFO_KIND(type.info);
        const std::uint32_t vlen = BTF_INFO_VLEN(type.info);
        type.name_off = out.add_string(kernel.string(type.name_off));
        switch (kind) {
            case BTF_KIND_TYPEDEF:
            case BTF_KIND_VOLATILE:
            case BTF_KIND_CONST:
            case BTF_KIND_RESTRICT:
            case BTF_KIND_TYPE_TAG:
            case BTF_KIND_FUNC_PROTO:
                type.type = renumber(type.type);
                break;
            default:  // the union holds a size, or nothing
                break;
        }
        out.add(type);
        // The records after a struct, union, enum or prototype: each name
        // moved to the small BTF's strings, each type (where one) renumbered.
        const auto copy_records = [&](auto record_kind) {
            using Record = decltype(record_kind);
            for (std::uint32_t i = 0; i < vlen; ++i) {
                auto record = load<Record>(trailing, i * sizeof(Record));
                record.name_off = out.add_string(kernel.string(record.name_off));
                if constexpr (requires { record.type; }) record.type = renumber(record.type);
                out.add(record);
            }
        };
        switch (kind) {
            case BTF_KIND_INT:
                out.add(load<std::uint32_t>(trailing, 0));
                break;
            case BTF_KIND_ARRAY: {
                auto array = load<btf_array>(trailing, 0);
                array.type = renumber(array.type);
                array.index_type = renumber(array.index_type);
                out.add(array);
                break;
            }
            case BTF_KIND_STRUCT:
            case BTF_KIND_UNION:
                copy_records(btf_member{});
                break;
            case BTF_KIND_ENUM:
                copy_records(btf_enum{});
                break;
            case BTF_KIND_ENUM64:
                copy_records(btf_enum64{});
                break;
            case BTF_KIND_FUNC_PROTO:
                copy_records(btf_param{});
                break;
            default:
                break;
        }
    }
    return out.finish();
}

std::optional<std::vector<std::byte>> minimal_core_btf(std::span<const std::byte> kernel_btf,
                                                       std::span<const CoreRoot> roots) {
    CoreCandidates candidates(roots);
    const auto index = BtfIndex::build(
        kernel_btf,
        [&](std::uint32_t id, const btf_type& type, std::string_view strings) { candidates.visit(id, type, strings); });
    if (!index || !candidates.every_root_matched()) return std::nullopt;
    return minimal_core_btf(*index, candidates.ids());
}

Result<UniqueFd> memory_file(const char* name, std::span<const std::byte> bytes) {
    UniqueFd fd(::memfd_create(name, MFD_CLOEXEC));
    if (!fd.valid()) return Error{std::string("memfd_create ") + name + ": " + std::strerror(errno), "", errno};
    for (std::size_t written = 0; written < bytes.size();) {
        const ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Error{std::string("writing ") + name + ": " + std::strerror(errno), "", errno};
        written += static_cast<std::size_t>(n);
    }
    return fd;
}

}  // namespace connsnoop
