#include "collect/btf_scan.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "util/unique_fd.hpp"

namespace connsnoop {

namespace {
// A file mapped read-only, unmapped when it goes.
class MappedFile {
public:
    MappedFile(void* data, std::size_t size) : data_(data), size_(size) {}
    MappedFile(MappedFile&& other) noexcept : data_(std::exchange(other.data_, nullptr)), size_(other.size_) {}
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    MappedFile& operator=(MappedFile&&) = delete;
    ~MappedFile() {
        if (data_ != nullptr) ::munmap(data_, size_);
    }
    [[nodiscard]] std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(data_), size_}; }

private:
    void* data_;
    std::size_t size_;
};

std::optional<MappedFile> map_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::nullopt;
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0 || info.st_size <= 0) return std::nullopt;
    const auto size = static_cast<std::size_t>(info.st_size);
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (data == MAP_FAILED) return std::nullopt;
    return MappedFile(data, size);
}

// The whole file, or nothing.
std::optional<std::vector<std::byte>> read_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::nullopt;
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) return std::nullopt;
    // sysfs gives the exact size; a file that grows or shrinks while read is read to its end.
    std::vector<std::byte> data(static_cast<std::size_t>(info.st_size > 0 ? info.st_size : 0) + 1);
    std::size_t filled = 0;
    while (true) {
        if (filled == data.size()) data.resize(data.size() * 2);
        const ssize_t got = ::read(fd.get(), data.data() + filled, data.size() - filled);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return std::nullopt;
        if (got == 0) break;
        filled += static_cast<std::size_t>(got);
    }
    data.resize(filled);
    return data;
}

// Finds, during one BtfIndex walk, the first type of each name and kind.
class BtfNameLookup {
public:
    explicit BtfNameLookup(std::span<const BtfName> names) : names_(names), found_(names.size()) {
        for (const auto& name : names_) unfound_kinds_ |= 1U << name.kind;
    }

    void visit(std::uint32_t id, const btf_type& type, std::string_view strings) {
        // Most types are of a kind no name still looked for has.
        if ((unfound_kinds_ & (1U << BTF_INFO_KIND(type.info))) == 0) return;
        bool found_one = false;
        for (std::size_t i = 0; i < names_.size(); ++i) {
            const auto& name = names_[i].name;
            if (found_[i] || BTF_INFO_KIND(type.info) != names_[i].kind || type.name_off >= strings.size()) continue;
            const auto rest = strings.substr(type.name_off);  // BtfIndex: the section ends with a NUL
            if (rest.compare(0, name.size(), name) != 0 || rest.size() <= name.size() || rest[name.size()] != '\0')
                continue;
            found_[i] = id;
            found_one = true;
        }
        if (!found_one) return;
        unfound_kinds_ = 0;
        for (std::size_t i = 0; i < names_.size(); ++i) {
            if (!found_[i]) unfound_kinds_ |= 1U << names_[i].kind;
        }
    }

    // The answers; all empty unless the walk read every type.
    [[nodiscard]] std::vector<BtfScan> scans(bool complete) const {
        std::vector<BtfScan> scans(names_.size());
        if (!complete) return scans;
        for (std::size_t i = 0; i < scans.size(); ++i) scans[i] = BtfScan{true, found_[i]};
        return scans;
    }

private:
    std::span<const BtfName> names_;
    std::vector<std::optional<std::uint32_t>> found_;
    std::uint32_t unfound_kinds_ = 0;  // a bit per kind still looked for
};
}  // namespace

std::vector<BtfScan> find_btf_types(std::span<const std::byte> raw_btf, std::span<const BtfName> names) {
    BtfNameLookup lookup(names);
    const bool complete =
        BtfIndex::build(raw_btf, [&](std::uint32_t id, const btf_type& type, std::string_view strings) {
            lookup.visit(id, type, strings);
        }).has_value();
    return lookup.scans(complete);
}

BtfScan find_btf_type(std::span<const std::byte> raw_btf, std::string_view name, std::uint32_t kind) {
    const BtfName names[] = {{name, kind}};
    return find_btf_types(raw_btf, names).front();
}

VmlinuxFacts scan_vmlinux(const std::string& tracepoint, const std::string& path, BtfAccess access,
                          std::span<const CoreRoot> core_roots) {
    const std::string typedef_name = "btf_trace_" + tracepoint;
    const BtfName names[] = {{typedef_name, BTF_KIND_TYPEDEF},
                             {"bpf_rdonly_cast", BTF_KIND_FUNC},
                             {"task_struct", BTF_KIND_STRUCT},
                             {"sock", BTF_KIND_STRUCT}};
    // One walk over every type: the first of each name, the CO-RE
    // candidates, and the index the small BTF is cut with.
    const auto answer = [&](std::span<const std::byte> raw) -> std::optional<VmlinuxFacts> {
        BtfNameLookup lookup(names);
        CoreCandidates candidates(core_roots);
        const auto index = BtfIndex::build(raw, [&](std::uint32_t id, const btf_type& type, std::string_view strings) {
            candidates.visit(id, type, strings);
            lookup.visit(id, type, strings);
        });
        if (!index) return std::nullopt;
        const auto found = lookup.scans(true);
        VmlinuxFacts facts{found[0].type ? static_cast<int>(*found[0].type) : -ENOENT, found[1].type.has_value(),
                           found[2].type.value_or(0), found[3].type.value_or(0), std::nullopt};
        if (!core_roots.empty() && candidates.every_root_matched())
            facts.core_btf = minimal_core_btf(*index, candidates.ids());
        return facts;
    };
    // Kernels from 6.16 map their BTF read-only: no copy, and none of the
    // page-sized reads sysfs hands out (1,350 for 5.5 MB). Older ones read it.
    if (auto mapped = access == BtfAccess::map_or_read ? map_file(path) : std::nullopt) {
        if (auto facts = answer(mapped->bytes())) return std::move(*facts);
    } else if (auto raw = read_file(path)) {
        if (auto facts = answer(*raw)) return std::move(*facts);
    }
    // Unreadable or of a layout this scan does not know: libbpf answers for
    // the tracepoint; the kfunc is taken as absent, which costs only
    // verification time (see bpf/lib/kernel_read.bpf.h).
    return VmlinuxFacts{libbpf_find_vmlinux_btf_id(tracepoint.c_str(), BPF_TRACE_RAW_TP), false, 0, 0, std::nullopt};
}

int vmlinux_tracepoint_btf_id(const std::string& tracepoint, const std::string& path, BtfAccess access) {
    return scan_vmlinux(tracepoint, path, access).tracepoint_btf_id;
}

}  // namespace connsnoop
