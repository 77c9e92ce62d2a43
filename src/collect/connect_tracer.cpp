#include "collect/connect_tracer.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <variant>
#include <vector>

#include "collect/bpf_handles.hpp"
#include "collect/cgroup_path.hpp"
#include "collect/core_btf.hpp"
#include "collect/libbpf_support.hpp"
#include "collect/record_decoder.hpp"
#include "util/unique_fd.hpp"

extern "C" {
#include "connsnoop_abi.h"
}

namespace connsnoop {

static_assert(kArgvCapacity == CS_ARGV_CAPACITY);

std::span<const std::byte> embedded_bpf_object() {
    std::size_t size = 0;
    const auto* bytes = static_cast<const std::byte*>(connsnoop_bpf::elf_bytes(&size));
    return {bytes, size};
}

namespace {

// Returned from the ring-buffer callback to stop consuming; not an error.
constexpr int kStopDelivery = -ECANCELED;
// Returned after a batch of records, so that libbpf's consume loop, which
// goes on while records keep arriving, hands control back under a flood:
// loss reports, flushing and stop conditions run between batches.
constexpr int kPauseDelivery = -EAGAIN;
constexpr std::uint32_t kRecordsPerBatch = 1024;
// ... or after this long, for a slow reader that never gets that far.
constexpr auto kBatchTime = std::chrono::milliseconds(50);
// The least time from one read of a small batch to the next: WAKEUP_INTERVAL_NS
// of bpf/lib/events.bpf.h, the latency an event may already wait for there.
constexpr auto kSmallBatchInterval = std::chrono::milliseconds(20);

template <typename Key>
Status insert_all(bpf_map* map, const std::vector<Key>& keys, const char* what) {
    const std::uint8_t present = 1;
    for (const auto& key : keys) {
        if (bpf_map_update_elem(bpf_map__fd(map), &key, &present, BPF_ANY) != 0) {
            return libbpf_error(std::string("installing the ") + what + " filter", errno);
        }
    }
    return Ok{};
}

// Sets the bit of every wanted port; the kernel tests one bit per attempt.
Status install_port_bitmap(bpf_map* map, const std::vector<PortRange>& ranges) {
    std::vector<std::uint64_t> words(CS_PORT_BITMAP_WORDS, 0);
    for (const auto& range : ranges) {
        for (std::uint32_t port = range.first; port <= range.last; ++port) words[port / 64] |= 1ULL << (port % 64);
    }
    for (std::uint32_t index = 0; index < words.size(); ++index) {
        if (words[index] == 0) continue;
        if (bpf_map_update_elem(bpf_map__fd(map), &index, &words[index], BPF_ANY) != 0) {
            return libbpf_error("installing the port filter", errno);
        }
    }
    return Ok{};
}

// connect() calls between the cgroup hook and their SYN (an instant), and
// sockets whose call failed before one until they are closed: not bounded by
// --max-in-flight, which is about attempts.
constexpr std::size_t kPendingConnectCalls = 16384;
// (owner, service, protocol, direction) counters of the linklocal view. A
// preallocated per-CPU hash: at this size, a third of a start-up's CPU when
// made for a mode that never counts.
constexpr std::size_t kLinklocalCounters = 16384;
// Execs the exec tracker remembers (an LRU map: the oldest go first).
constexpr std::size_t kExecsRemembered = 4096;

std::uint32_t map_size_for(std::size_t entries) {
    return static_cast<std::uint32_t>(std::max<std::size_t>(entries, 1));
}

std::size_t count_v4_services(const std::vector<LinklocalService>& services) {
    return static_cast<std::size_t>(std::count_if(
        services.begin(), services.end(),
        [](const LinklocalService& service) { return service.address.network.family == AddressFamily::ipv4; }));
}

// Every resizable map and what it holds; a map of a part that is off keeps
// one entry, so it costs nothing.
Status size_maps(connsnoop_bpf& skeleton, const TracerConfig& config, bool track_execs) {
    const auto& filters = config.filters;
    const auto count_v4 = [](const std::vector<Cidr>& cidrs) {
        return static_cast<std::size_t>(std::count_if(
            cidrs.begin(), cidrs.end(), [](const Cidr& cidr) { return cidr.network.family == AddressFamily::ipv4; }));
    };
    const std::size_t v4_count = count_v4(filters.destinations);
    const std::size_t excluded_v4_count = count_v4(filters.excluded_destinations);
    const auto& maps = skeleton.maps;
    const struct {
        bpf_map* map;
        std::size_t entries;
    } sizes[] = {
        {maps.events, config.ringbuf_bytes},
        {maps.dst_v4, v4_count},
        {maps.dst_v6, filters.destinations.size() - v4_count},
        {maps.comms, filters.comms.size()},
        {maps.not_dst_v4, excluded_v4_count},
        {maps.not_dst_v6, filters.excluded_destinations.size() - excluded_v4_count},
        {maps.not_comms, filters.excluded_comms.size()},
        {maps.pids, filters.pids.size()},
        {maps.uids, filters.uids.size()},
        {maps.netns_filter, filters.netns_inodes.size()},
        {maps.inflight, config.track_outcomes ? config.max_in_flight : 0},
        {maps.pending_connects, config.track_outcomes ? kPendingConnectCalls : 0},
        {maps.http_streams, config.http_capture ? kHttpWatchedConnections : 0},
        {maps.http_ports, config.http_ports.size()},
        {maps.udp_reported, config.udp_sends ? kUdpReportedDestinations : 0},
        {maps.linklocal_v4, count_v4_services(config.linklocal_services)},
        {maps.linklocal_v6, config.linklocal_services.size() - count_v4_services(config.linklocal_services)},
        {maps.linklocal_counts, config.linklocal_services.empty() ? 0 : kLinklocalCounters},
        {maps.execs, track_execs ? kExecsRemembered : 0},
    };
    for (const auto& [map, entries] : sizes) {
        if (int err = bpf_map__set_max_entries(map, map_size_for(entries)); err != 0)
            return libbpf_error(std::string("sizing the BPF map ") + bpf_map__name(map), err);
    }
    return Ok{};
}

// The parts of the object, each loaded only when asked for; a refused load
// names the part whose program the kernel did not take, by what it is for.
struct ProgramPart {
    std::string what;
    bpf_program* program;
};

bpf_program* set_loaded(bpf_program* program, bool wanted) {
    bpf_program__set_autoload(program, wanted);
    return program;
}

// The part libbpf stopped at, by what it is for and its program's name.
std::string refused_part(const std::vector<ProgramPart>& parts, const std::string& object_name) {
    const std::string name = refused_program_name();
    if (name.empty()) return object_name;
    for (const auto& part : parts) {
        if (name == bpf_program__name(part.program)) return part.what + " (" + name + ")";
    }
    return "program " + name;
}

// Opens the embedded object with the filters baked into its read-only data,
// and loads the parts asked for, each in the variant `hook` names, with CO-RE
// relocated against the BTF at `core_btf_path` (nullptr: the kernel's own).
Result<SkeletonPtr> open_and_load_against(const TracerConfig& config, TracepointHook hook, bool track_execs,
                                          const std::string& object_name, const char* core_btf_path) {
    bpf_object_open_opts options{};
    options.sz = sizeof(options);
    options.btf_custom_path = core_btf_path;
    const auto& kernel_btf = vmlinux_facts();

    SkeletonPtr skeleton(connsnoop_bpf::open(&options));
    if (!skeleton) return libbpf_error("opening the embedded BPF object", errno);

    const auto& filters = config.filters;
    auto* rodata = skeleton->rodata;
    rodata->filter_daddr = !filters.destinations.empty();
    rodata->filter_dport = !filters.destination_ports.empty();
    rodata->filter_pid = !filters.pids.empty();
    rodata->filter_uid = !filters.uids.empty();
    rodata->filter_cgroup = !filters.cgroup_paths.empty();
    rodata->cgroup_filter_count = static_cast<std::uint32_t>(filters.cgroup_paths.size());
    rodata->filter_comm = !filters.comms.empty();
    rodata->filter_netns = !filters.netns_inodes.empty();
    rodata->exclude_daddr = !filters.excluded_destinations.empty();
    rodata->exclude_comm = !filters.excluded_comms.empty();
    rodata->argv_max = std::min(config.argv_max, kArgvCapacity);
    rodata->cast_typed_pointers = cast_typed_pointers(hook);
    rodata->task_struct_btf_id = kernel_btf.task_struct_btf_id;
    rodata->sock_btf_id = kernel_btf.sock_btf_id;
    rodata->wakeup_fill_bytes = config.ringbuf_bytes / 4;
    rodata->track_outcomes = config.track_outcomes;
    rodata->http_capture = config.http_capture;
    rodata->udp_sends = config.udp_sends;
    rodata->dns_capture = config.dns_capture;
    if (auto sized = size_maps(*skeleton, config, track_execs); !sized) return sized.error();

    auto& progs = skeleton->progs;
    // The cgroup connect hooks take sockets on for both: outcome tracking
    // (calls that fail before a SYN) and HTTP capture (the sockets watched).
    const bool watch_connects = config.track_outcomes || config.http_capture;
    const std::string connect_watch_for = config.track_outcomes && config.http_capture
                                              ? "outcome tracking and HTTP capture"
                                          : config.track_outcomes ? "outcome tracking"
                                                                  : "HTTP capture";
    const bool counting = !config.linklocal_services.empty();
    const bool udp = config.udp_sends || config.dns_capture;
    const char* udp_part = config.udp_sends ? "UDP send tracking" : "DNS capture";
    const std::vector<ProgramPart> parts = {
        {"connection tracing", choose_variant(progs.connect_tp_btf, progs.connect_raw_tp, hook, config.trace_connects)},
        {connect_watch_for, set_loaded(progs.connect4_watch, watch_connects)},
        {connect_watch_for, set_loaded(progs.connect6_watch, watch_connects)},
        // connect() calls that fail before a SYN, at the socket's destruction.
        {"outcome tracking",
         choose_variant(progs.connect_failure_tp_btf, progs.connect_failure_raw_tp, hook, config.track_outcomes)},
        // The packets of watched sockets (cgroup_skb/egress).
        {"HTTP capture", set_loaded(progs.http_egress, config.http_capture)},
        // UDP senders (connect and addressed sends) and their datagrams.
        {udp_part, set_loaded(progs.udp_connect4, udp)},
        {udp_part, set_loaded(progs.udp_connect6, udp)},
        {udp_part, set_loaded(progs.udp_sendmsg4, udp)},
        {udp_part, set_loaded(progs.udp_sendmsg6, udp)},
        {udp_part, set_loaded(progs.udp_egress, udp)},
        // The link-local counters: owners recorded at connect/sendmsg, packets
        // counted on the cgroup_skb hooks. Needs no tracepoint at all.
        {"the link-local counters", set_loaded(progs.linklocal_connect4, counting)},
        {"the link-local counters", set_loaded(progs.linklocal_connect6, counting)},
        {"the link-local counters", set_loaded(progs.linklocal_sendmsg4, counting)},
        {"the link-local counters", set_loaded(progs.linklocal_sendmsg6, counting)},
        {"the link-local counters", set_loaded(progs.linklocal_egress, counting)},
        {"the link-local counters", set_loaded(progs.linklocal_ingress, counting)},
        // Every exec, for ancestry (ProcessTracker).
        {"the exec tracker", choose_variant(progs.exec_tp_btf, progs.exec_raw_tp, hook, track_execs)},
    };
    if (int err = connsnoop_bpf::load(skeleton.get()); err != 0)
        return libbpf_load_error("loading " + refused_part(parts, object_name), err);
    return skeleton;
}

// open_and_load_against `core_btf` (a small BTF, core_btf.hpp) through a
// memory file: the same answers as the kernel's whole BTF without libbpf's
// search of all of it for every root type. Should libbpf ever refuse the
// small one, the load is tried once more against the kernel's whole BTF, so
// that cutting it can cost time, never the trace.
Result<SkeletonPtr> open_and_load_with_core_btf(const TracerConfig& config, TracepointHook hook, bool track_execs,
                                                const std::string& object_name, std::span<const std::byte> core_btf) {
    auto file = memory_file("connsnoop-core-btf", core_btf);
    // libbpf opens the path when it loads; the descriptor lives until then.
    const std::string path = file ? "/proc/self/fd/" + std::to_string(file->get()) : std::string();
    if (!file || ::access(path.c_str(), R_OK) != 0) {
        if (config.verbose)
            std::fprintf(stderr, "connsnoop: no small BTF for CO-RE (%s): libbpf searches all of the kernel's\n",
                         file ? (path + ": " + std::strerror(errno)).c_str() : file.error().message.c_str());
        return open_and_load_against(config, hook, track_execs, object_name, nullptr);
    }
    if (config.verbose)
        std::fprintf(stderr, "connsnoop: CO-RE relocations against a %zu-byte BTF cut from the kernel's\n",
                     core_btf.size());
    auto loaded = open_and_load_against(config, hook, track_execs, object_name, path.c_str());
    const int err = loaded ? 0 : loaded.error().errno_value;
    if (loaded || err == EPERM || err == EACCES) return loaded;  // no BTF gives a privilege
    std::fprintf(stderr, "connsnoop: %s; once more with CO-RE against the kernel's whole BTF\n",
                 loaded.error().message.c_str());
    return open_and_load_against(config, hook, track_execs, object_name, nullptr);
}

// open_and_load_against the --btf file as given, else the small BTF cut from
// the kernel's (open_and_load_with_core_btf).
Result<SkeletonPtr> open_and_load(const TracerConfig& config, TracepointHook hook, bool track_execs,
                                  const std::string& object_name) {
    if (!config.btf_path.empty())
        return open_and_load_against(config, hook, track_execs, object_name, config.btf_path.c_str());
    const auto& kernel_btf = vmlinux_facts();
    if (!kernel_btf.core_btf) {
        if (config.verbose)
            std::fprintf(stderr,
                         "connsnoop: no small BTF for CO-RE (the kernel's BTF has a root it lacks, or "
                         "could not be walked): libbpf searches all of it\n");
        return open_and_load_against(config, hook, track_execs, object_name, nullptr);
    }
    return open_and_load_with_core_btf(config, hook, track_execs, object_name, *kernel_btf.core_btf);
}

// CIDRs as the keys of an IPv4 and an IPv6 LPM trie.
Status insert_cidrs(bpf_map* v4_map, bpf_map* v6_map, const std::vector<Cidr>& cidrs, const char* what) {
    std::vector<cs_lpm_v4_key> v4_keys;
    std::vector<cs_lpm_v6_key> v6_keys;
    for (const auto& cidr : cidrs) {
        if (cidr.network.family == AddressFamily::ipv4) {
            cs_lpm_v4_key key{static_cast<std::uint32_t>(cidr.prefix_len), {}};
            std::memcpy(key.addr, cidr.network.bytes.data(), sizeof(key.addr));
            v4_keys.push_back(key);
        } else {
            cs_lpm_v6_key key{static_cast<std::uint32_t>(cidr.prefix_len), {}};
            std::memcpy(key.addr, cidr.network.bytes.data(), sizeof(key.addr));
            v6_keys.push_back(key);
        }
    }
    if (auto s = insert_all(v4_map, v4_keys, what); !s) return s;
    return insert_all(v6_map, v6_keys, what);
}

// Task names NUL-padded to the kernel's 16 bytes, as the kernel side pads them.
Status insert_comms(bpf_map* map, const std::vector<std::string>& comms, const char* what) {
    std::vector<std::array<char, CS_COMM_LEN>> keys;
    for (const auto& comm : comms) {
        std::array<char, CS_COMM_LEN> key{};
        std::memcpy(key.data(), comm.data(), std::min(comm.size(), key.size() - 1));
        keys.push_back(key);
    }
    return insert_all(map, keys, what);
}

// Each service address, with its index, in the service tries.
Status install_linklocal_services(connsnoop_bpf& skeleton, const std::vector<LinklocalService>& services) {
    for (std::uint32_t index = 0; index < services.size(); ++index) {
        const auto& cidr = services[index].address;
        const cs_linklocal_service value{index};
        int result = 0;
        if (cidr.network.family == AddressFamily::ipv4) {
            cs_lpm_v4_key key{static_cast<std::uint32_t>(cidr.prefix_len), {}};
            std::memcpy(key.addr, cidr.network.bytes.data(), sizeof(key.addr));
            result = bpf_map_update_elem(bpf_map__fd(skeleton.maps.linklocal_v4), &key, &value, BPF_ANY);
        } else {
            cs_lpm_v6_key key{static_cast<std::uint32_t>(cidr.prefix_len), {}};
            std::memcpy(key.addr, cidr.network.bytes.data(), sizeof(key.addr));
            result = bpf_map_update_elem(bpf_map__fd(skeleton.maps.linklocal_v6), &key, &value, BPF_ANY);
        }
        if (result != 0) return libbpf_error("installing the link-local service " + services[index].name, errno);
    }
    return Ok{};
}

Status install_filters(connsnoop_bpf& skeleton, const TraceFilters& filters,
                       const std::vector<std::uint16_t>& http_ports) {
    auto& maps = skeleton.maps;
    if (auto s = insert_cidrs(maps.dst_v4, maps.dst_v6, filters.destinations, "destination"); !s) return s;
    if (auto s = insert_cidrs(maps.not_dst_v4, maps.not_dst_v6, filters.excluded_destinations, "--not-dst"); !s) {
        return s;
    }
    if (auto s = install_port_bitmap(maps.dst_port_bits, filters.destination_ports); !s) return s;
    if (auto s = insert_comms(maps.comms, filters.comms, "comm"); !s) return s;
    if (auto s = insert_comms(maps.not_comms, filters.excluded_comms, "--not-comm"); !s) return s;
    if (auto s = insert_all(maps.pids, filters.pids, "PID"); !s) return s;
    if (auto s = insert_all(maps.uids, filters.uids, "UID"); !s) return s;
    if (auto s = insert_all(maps.netns_filter, filters.netns_inodes, "network namespace"); !s) return s;
    if (auto s = insert_all(maps.http_ports, http_ports, "HTTP port"); !s) return s;

    for (std::uint32_t index = 0; index < filters.cgroup_paths.size(); ++index) {
        auto dir = resolve_cgroup_dir(filters.cgroup_paths[index]);
        if (!dir) return dir.error();
        UniqueFd cgroup_fd(::open(dir->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!cgroup_fd.valid()) return libbpf_error("--cgroup: opening " + *dir, errno);
        const int fd = cgroup_fd.get();
        if (bpf_map_update_elem(bpf_map__fd(maps.cgroup_filter), &index, &fd, BPF_ANY) != 0) {
            return libbpf_error("installing the cgroup filter for " + *dir, errno);
        }
    }
    return Ok{};
}

}  // namespace

struct ConnectTracer::Handles {
    std::shared_ptr<connsnoop_bpf> skeleton;  // shared with the exec tracker, when it runs
    LinkPtr link;
    // connect() calls on the cgroup2 root (outcome tracking or HTTP capture)
    // and the socket's destruction (outcome tracking); links go away when
    // connsnoop exits
    LinkPtr connect4_link;
    LinkPtr connect6_link;
    LinkPtr destroy_link;
    LinkPtr http_link;  // packets of watched connections, on the cgroup2 root, with HTTP capture only
    // --udp/--dns: UDP connect() and addressed sends, and the datagrams of
    // the sockets they own, on the cgroup2 root
    std::array<LinkPtr, 5> udp_links;
    // the link-local counters (linklocal view): owners at connect/sendmsg, packets both ways
    std::array<LinkPtr, 6> linklocal_links;
    RingBufferPtr ring;
    ClockConverter clock;
    int possible_cpus = 1;
};

namespace {

// The cgroup2 root, where cgroup hooks see every process (attached as links:
// BPF_F_ALLOW_MULTI, beside whatever else is attached there, and gone when
// connsnoop exits).
Result<UniqueFd> open_cgroup2_root(const std::string& option) {
    auto root = cgroup2_root();
    if (!root) return root.error().with_context(option + ": finding the cgroup2 root");
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::stringstream text;
    text << mountinfo.rdbuf();
    if (has_v1_socket_controllers(text.str())) {
        std::fprintf(stderr,
                     "connsnoop: warning: a cgroup v1 net_cls/net_prio hierarchy is mounted; on kernels before 5.15, "
                     "once it is used the kernel stops tying sockets to cgroup v2, and what %s sees through "
                     "cgroup hooks may be missed\n",
                     option.c_str());
    }
    UniqueFd root_fd(::open(root->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd.valid()) return libbpf_error(option + ": opening the cgroup2 root " + *root, errno);
    return root_fd;
}

struct CgroupLinks {
    LinkPtr& connect4;
    LinkPtr& connect6;
    LinkPtr& http;
};

// The programs on the cgroup2 root: the connect hooks (--outcome, --http)
// and the packets of watched sockets (--http).
Status attach_to_cgroup_root(connsnoop_bpf& skeleton, const TracerConfig& config, CgroupLinks links) {
    const std::string option = config.track_outcomes ? "--outcome" : "--http";
    auto root_fd = open_cgroup2_root(option);
    if (!root_fd) return root_fd.error();
    auto& progs = skeleton.progs;
    links.connect4.reset(bpf_program__attach_cgroup(progs.connect4_watch, root_fd->get()));
    if (!links.connect4) return libbpf_error(option + ": attaching cgroup/connect4 to the cgroup2 root", errno);
    links.connect6.reset(bpf_program__attach_cgroup(progs.connect6_watch, root_fd->get()));
    if (!links.connect6) return libbpf_error(option + ": attaching cgroup/connect6 to the cgroup2 root", errno);
    if (config.http_capture) {
        links.http.reset(bpf_program__attach_cgroup(progs.http_egress, root_fd->get()));
        if (!links.http) return libbpf_error("--http: attaching cgroup_skb/egress to the cgroup2 root", errno);
    }
    return Ok{};
}

// --udp/--dns: the UDP hooks, each on the cgroup2 root.
Status attach_udp_hooks(connsnoop_bpf& skeleton, std::array<LinkPtr, 5>& links, const char* option) {
    auto root_fd = open_cgroup2_root(option);
    if (!root_fd) return root_fd.error();
    auto& progs = skeleton.progs;
    const struct {
        bpf_program* program;
        const char* hook;
    } hooks[] = {
        {progs.udp_connect4, "cgroup/connect4"}, {progs.udp_connect6, "cgroup/connect6"},
        {progs.udp_sendmsg4, "cgroup/sendmsg4"}, {progs.udp_sendmsg6, "cgroup/sendmsg6"},
        {progs.udp_egress, "cgroup_skb/egress"},
    };
    static_assert(std::size(hooks) == 5, "one link per UDP hook");
    for (std::size_t i = 0; i < links.size(); ++i) {
        links[i].reset(bpf_program__attach_cgroup(hooks[i].program, root_fd->get()));
        if (!links[i]) {
            return libbpf_error(std::string(option) + ": attaching " + hooks[i].hook + " to the cgroup2 root", errno);
        }
    }
    return Ok{};
}

}  // namespace

std::uint32_t ConnectTracer::programs_attached() const {
    std::uint32_t count = 0;
    for (const auto* link : {&handles_->link, &handles_->connect4_link, &handles_->connect6_link,
                             &handles_->destroy_link, &handles_->http_link}) {
        count += *link ? 1 : 0;
    }
    for (const auto& link : handles_->udp_links) count += link ? 1 : 0;
    for (const auto& link : handles_->linklocal_links) count += link ? 1 : 0;
    return count;
}

ConnectTracer::ConnectTracer(std::unique_ptr<Handles> handles, ConnectHandler handler, OutcomeHandler outcome_handler,
                             HttpHandler http_handler, DnsHandler dns_handler, TracepointHook hook)
    : handles_(std::move(handles)),
      handler_(std::move(handler)),
      outcome_handler_(std::move(outcome_handler)),
      http_handler_(std::move(http_handler)),
      dns_handler_(std::move(dns_handler)),
      hook_(hook) {}

ConnectTracer::~ConnectTracer() = default;

Result<std::shared_ptr<connsnoop_bpf>> load_tracer_object(const TracerConfig& config, bool track_execs,
                                                          const std::string& object_name) {
    configure_libbpf_logging(config.verbose);
    if (auto btf = check_kernel_btf(config.btf_path); !btf) return btf.error();
    auto skeleton = open_and_load(config, tracepoint_hook(config.hook, config.verbose), track_execs, object_name);
    if (!skeleton) return skeleton.error();
    return std::shared_ptr<connsnoop_bpf>(std::move(skeleton).value());
}

Result<std::shared_ptr<connsnoop_bpf>> load_tracer_object_with_core_btf(const TracerConfig& config, bool track_execs,
                                                                        std::span<const std::byte> core_btf) {
    configure_libbpf_logging(config.verbose);
    auto skeleton = open_and_load_with_core_btf(config, tracepoint_hook(config.hook, config.verbose), track_execs,
                                                "the BPF object", core_btf);
    if (!skeleton) return skeleton.error();
    return std::shared_ptr<connsnoop_bpf>(std::move(skeleton).value());
}

Result<std::unique_ptr<ConnectTracer>> ConnectTracer::start(const TracerConfig& config, ConnectHandler handler,
                                                            OutcomeHandler outcome_handler, HttpHandler http_handler,
                                                            DnsHandler dns_handler,
                                                            std::shared_ptr<connsnoop_bpf> loaded) {
    if (!loaded) {
        auto own = load_tracer_object(config, false);
        if (!own) return own.error();
        loaded = std::move(own).value();
    }
    const TracepointHook hook = tracepoint_hook(config.hook, config.verbose);  // as load_tracer_object chose

    auto handles = std::make_unique<Handles>();
    handles->skeleton = std::move(loaded);
    handles->possible_cpus = std::max(libbpf_num_possible_cpus(), 1);
    if (auto filters = install_filters(*handles->skeleton, config.filters, config.http_ports); !filters)
        return filters.error();

    const std::string variant = std::string(" (") + hook_name(hook) + ")";
    const auto attach = [&](LinkPtr& link, bpf_program* tp_btf, bpf_program* raw_tp, const std::string& what) {
        link.reset(bpf_program__attach(hook == TracepointHook::tp_btf ? tp_btf : raw_tp));
        return link ? Status(Ok{}) : Status(libbpf_error("attaching " + what + variant, errno));
    };
    auto& progs = handles->skeleton->progs;
    if (config.trace_connects) {
        if (auto s = attach(handles->link, progs.connect_tp_btf, progs.connect_raw_tp, "to sock:inet_sock_set_state");
            !s)
            return s.error();
    }
    if (!config.linklocal_services.empty()) {
        if (auto s = install_linklocal_services(*handles->skeleton, config.linklocal_services); !s) return s.error();
        auto root = open_cgroup2_root("linklocal");
        if (!root) return root.error();
        const std::pair<bpf_program*, const char*> programs[] = {
            {progs.linklocal_connect4, "cgroup/connect4"}, {progs.linklocal_connect6, "cgroup/connect6"},
            {progs.linklocal_sendmsg4, "cgroup/sendmsg4"}, {progs.linklocal_sendmsg6, "cgroup/sendmsg6"},
            {progs.linklocal_egress, "cgroup_skb/egress"}, {progs.linklocal_ingress, "cgroup_skb/ingress"},
        };
        for (std::size_t i = 0; i < handles->linklocal_links.size(); ++i) {
            handles->linklocal_links[i].reset(bpf_program__attach_cgroup(programs[i].first, root->get()));
            if (!handles->linklocal_links[i])
                return libbpf_error(std::string("linklocal: attaching ") + programs[i].second + " to the cgroup2 root",
                                    errno);
        }
    }
    if (config.track_outcomes || config.http_capture) {
        auto attached = attach_to_cgroup_root(*handles->skeleton, config,
                                              {handles->connect4_link, handles->connect6_link, handles->http_link});
        if (!attached) return attached.error();
    }
    if (config.track_outcomes) {
        if (auto s = attach(handles->destroy_link, progs.connect_failure_tp_btf, progs.connect_failure_raw_tp,
                            "to tcp:tcp_destroy_sock");
            !s)
            return s.error();
    }
    if (config.udp_sends || config.dns_capture) {
        auto attached = attach_udp_hooks(*handles->skeleton, handles->udp_links, config.udp_sends ? "--udp" : "--dns");
        if (!attached) return attached.error();
    }

    std::unique_ptr<ConnectTracer> tracer(new ConnectTracer(std::move(handles), std::move(handler),
                                                            std::move(outcome_handler), std::move(http_handler),
                                                            std::move(dns_handler), hook));
    tracer->ringbuf_bytes_ = config.ringbuf_bytes;
    auto& owned = *tracer->handles_;
    owned.ring.reset(
        ring_buffer__new(bpf_map__fd(owned.skeleton->maps.events), &ConnectTracer::on_record, tracer.get(), nullptr));
    if (!owned.ring) return libbpf_error("setting up the ring buffer", errno);
    // Sample the clocks last: the conversion is then freshest for the first events.
    owned.clock = ClockConverter::from_system_clocks();
    return tracer;
}

int ConnectTracer::on_record(void* context, void* data, std::size_t size) {
    auto* self = static_cast<ConnectTracer*>(context);
    if (self->stop_requested_) return kStopDelivery;
    self->bytes_since_loss_ask_ += size;
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(data), size);
    bool keep_going = true;
    std::uint32_t kind = 0;
    if (size >= sizeof(kind)) std::memcpy(&kind, data, sizeof(kind));
    if (kind == CS_RECORD_CONNECT || kind == CS_RECORD_CONNECT_FAILED || kind == CS_RECORD_UDP_SEND) {
        // The most frequent record, decoded into the tracer's own event: no
        // allocation once its buffers have grown, and no move through a variant.
        if (!decode_connect_record_into(bytes, self->handles_->clock, self->connect_event_, &self->argv_memo_)) {
            ++self->malformed_records_;
            return 0;
        }
        keep_going = self->handler_(std::move(self->connect_event_));
    } else if (kind == CS_RECORD_OUTCOME) {
        // The other record of every attempt under --outcome: not through the variant either.
        auto outcome = decode_outcome_record(bytes, self->handles_->clock);
        if (!outcome) {
            ++self->malformed_records_;
            return 0;
        }
        if (self->outcome_handler_) keep_going = self->outcome_handler_(std::move(outcome).value());
    } else if (kind == CS_RECORD_HTTP) {
        if (!decode_http_record_into(bytes, self->handles_->clock, self->http_request_)) {
            ++self->malformed_records_;
            return 0;
        }
        if (self->http_handler_) keep_going = self->http_handler_(std::move(self->http_request_));
    } else if (auto record = decode_record(bytes, self->handles_->clock); !record) {
        ++self->malformed_records_;
        return 0;
    } else if (auto* outcome = std::get_if<OutcomeEvent>(&record.value())) {
        if (self->outcome_handler_) keep_going = self->outcome_handler_(OutcomeEvent(*outcome));
    } else if (auto* event = std::get_if<ConnectEvent>(&record.value())) {
        keep_going = self->handler_(std::move(*event));
    } else if (auto* request = std::get_if<HttpRequestEvent>(&record.value())) {
        if (self->http_handler_) keep_going = self->http_handler_(std::move(*request));
    } else if (self->dns_handler_) {
        keep_going = self->dns_handler_(std::get<DnsQueryEvent>(std::move(record).value()));
    }
    if (!keep_going) {
        self->stop_requested_ = true;
        return kStopDelivery;
    }
    ++self->batch_delivered_;
    const bool batch_full =
        self->batch_delivered_ >= kRecordsPerBatch ||
        ((self->batch_delivered_ % 16) == 0 && std::chrono::steady_clock::now() - self->batch_started_ >= kBatchTime);
    if (batch_full) {
        self->batch_paused_ = true;
        self->paused_since_loss_ask_ = true;
        return kPauseDelivery;  // this record is consumed; the next batch starts with the next one
    }
    return 0;
}

namespace {
// ring_buffer__poll/consume return a count, or a negative errno.
Result<int> delivered_or_error(int result) {
    if (result == -EINTR || result == kStopDelivery || result == kPauseDelivery) return 0;
    if (result < 0) return libbpf_error("reading the ring buffer", result);
    return result;
}
}  // namespace

Result<int> ConnectTracer::poll(std::chrono::milliseconds timeout) {
    if (stop_requested_) return 0;
    // The ring buffer polls readable while any record is unread, so a reader
    // that keeps up went back to epoll_wait and woke at once for the few
    // records written meanwhile: at 5,000 connects/s, 770 wake-ups a second
    // of 6.5 records each, every one paying epoll_wait, a write and the loop.
    // After a small batch, the next read waits for the rest of the kernel
    // side's own wake-up interval; a batch that used more than a 64th of the
    // ring reads on at once, so a burst never waits.
    const auto bytes_before = bytes_since_loss_ask_;
    int delivered = 0;
    if (const auto now = std::chrono::steady_clock::now(); now < next_read_) {
        const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next_read_ - now).count();
        const timespec pause{0, static_cast<long>(wait_ns)};
        if (::nanosleep(&pause, nullptr) != 0) return 0;  // a signal: the caller checks why
        // Records gathered during the pause are read at once: the ring needs
        // no epoll_wait to be read (a system call per batch, ~80 ns per event
        // of a storm), only to wait when it is empty.
        auto gathered = drain();
        if (!gathered) return gathered;
        delivered = *gathered;
    }
    if (delivered == 0) {
        batch_delivered_ = 0;
        batch_started_ = std::chrono::steady_clock::now();
        // The kernel side wakes the reader only while reader_waiting is set
        // (see wake_reader_if_due in bpf/lib/events.bpf.h): set it, then (a
        // full barrier, as the kernel side has one between its commit and
        // reading the flag) look for records once more before sleeping, so
        // that either we see a record or its writer sees us waiting.
        std::atomic_ref<std::uint32_t> waiting(handles_->skeleton->bss->reader_waiting);
        waiting.store(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        int result = 0;
        if (ring__avail_data_size(ring_buffer__ring(handles_->ring.get(), 0)) == 0)
            result = ring_buffer__poll(handles_->ring.get(), static_cast<int>(timeout.count()));
        waiting.store(0, std::memory_order_relaxed);
        auto woken = delivered_or_error(result);
        if (!woken) return woken;
        // The kernel side wakes us only now and then (see wake_reader_if_due in
        // bpf/lib/events.bpf.h), and ring_buffer__poll reads only after a wake-up:
        // collect what was written without one.
        auto unannounced = drain();
        if (!unannounced) return unannounced;
        delivered = *woken + *unannounced;
    }
    const bool small_batch = !batch_paused_ && bytes_since_loss_ask_ - bytes_before < ringbuf_bytes_ / 64;
    next_read_ =
        small_batch && delivered > 0 ? batch_started_ + kSmallBatchInterval : std::chrono::steady_clock::time_point{};
    return delivered;
}

Result<int> ConnectTracer::drain() {
    if (stop_requested_) return 0;
    batch_delivered_ = 0;
    batch_paused_ = false;
    batch_started_ = std::chrono::steady_clock::now();
    return delivered_or_error(ring_buffer__consume(handles_->ring.get()));
}

Status ConnectTracer::drain_all() {
    // Bounded: what the ring can hold at the smallest record size, so a flood
    // that goes on while we stop cannot keep us here.
    const std::size_t max_batches = ringbuf_bytes_ / (sizeof(cs_outcome_record) * kRecordsPerBatch) + 2;
    for (std::size_t batch = 0; batch < max_batches && !stop_requested_; ++batch) {
        if (auto drained = drain(); !drained) return drained.error();
        if (!batch_paused_) break;
    }
    return Ok{};
}

Result<std::vector<LinklocalCounter>> ConnectTracer::read_linklocal_counters() const {
    std::vector<LinklocalCounter> counters;
    const int fd = bpf_map__fd(handles_->skeleton->maps.linklocal_counts);
    std::vector<cs_linklocal_count> per_cpu(static_cast<std::size_t>(handles_->possible_cpus));
    cs_linklocal_key key{};
    cs_linklocal_key next{};
    const void* previous = nullptr;
    while (bpf_map_get_next_key(fd, previous, &next) == 0) {
        key = next;
        previous = &key;
        if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;  // deleted meanwhile
        LinklocalCounter counter;
        counter.owner.pid = key.tgid;
        counter.owner.uid = key.uid;
        counter.owner.gid = key.gid;
        counter.owner.cgroup_id = key.cgroup_id;
        counter.owner.comm.assign(key.comm, strnlen(key.comm, sizeof(key.comm)));
        counter.service = key.service;
        counter.protocol = static_cast<LinklocalProtocol>(key.protocol);
        counter.direction = static_cast<LinklocalDirection>(key.direction);
        for (const auto& count : per_cpu) {
            counter.packets += count.packets;
            counter.bytes += count.bytes;
        }
        counters.push_back(std::move(counter));
    }
    if (errno != ENOENT) return libbpf_error("reading the link-local counters", errno);
    return counters;
}

std::uint64_t ConnectTracer::linklocal_uncounted_packets() const {
    std::vector<cs_linklocal_count> per_cpu(static_cast<std::size_t>(handles_->possible_cpus));
    const std::uint32_t index = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(handles_->skeleton->maps.linklocal_uncounted), &index, per_cpu.data()) != 0)
        return 0;
    std::uint64_t total = 0;
    for (const auto& count : per_cpu) total += count.packets;
    return total;
}

void ConnectTracer::forget_linklocal_counters(const std::vector<LinklocalCounter>& counters) {
    const int fd = bpf_map__fd(handles_->skeleton->maps.linklocal_counts);
    for (const auto& counter : counters) {
        cs_linklocal_key key{};
        key.tgid = counter.owner.pid;
        key.uid = counter.owner.uid;
        key.gid = counter.owner.gid;
        key.cgroup_id = counter.owner.cgroup_id;
        std::memcpy(key.comm, counter.owner.comm.data(), std::min(counter.owner.comm.size(), sizeof(key.comm)));
        key.service = counter.service;
        key.protocol = static_cast<std::uint8_t>(counter.protocol);
        key.direction = static_cast<std::uint8_t>(counter.direction);
        (void)bpf_map_delete_elem(fd, &key);  // gone already: nothing to forget
    }
}

std::uint64_t ConnectTracer::lost_events() const { return stat_total(CS_STAT_LOST_EVENTS); }

bool ConnectTracer::loss_possible_since_last_ask() {
    // Each record also takes an 8-byte header in the ring: a quarter of its
    // bytes in records is well below "it was full".
    const bool possible = paused_since_loss_ask_ || bytes_since_loss_ask_ >= ringbuf_bytes_ / 4;
    paused_since_loss_ask_ = false;
    bytes_since_loss_ask_ = 0;
    return possible;
}

std::uint64_t ConnectTracer::untracked_outcomes() const { return stat_total(CS_STAT_UNTRACKED_OUTCOMES); }

std::uint64_t ConnectTracer::unwatched_connect_calls() const { return stat_total(CS_STAT_UNWATCHED_CALLS); }

std::uint64_t ConnectTracer::stat_total(std::uint32_t which) const {
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(handles_->possible_cpus));
    const std::uint32_t key = which;
    if (bpf_map_lookup_elem(bpf_map__fd(handles_->skeleton->maps.stats), &key, per_cpu.data()) != 0) return 0;
    std::uint64_t total = 0;
    for (auto value : per_cpu) total += value;
    return total;
}

}  // namespace connsnoop
