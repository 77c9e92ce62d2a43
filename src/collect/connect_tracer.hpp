// Collection layer: loads the embedded BPF object, installs the filters,
// attaches, and turns ring-buffer records into ConnectEvents.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/http_request_event.hpp"
#include "collect/libbpf_support.hpp"
#include "collect/linklocal_counters.hpp"
#include "collect/record_decoder.hpp"
#include "collect/trace_config.hpp"
#include "util/result.hpp"

struct connsnoop_bpf;  // the skeleton (connsnoop.skel.h)

namespace connsnoop {

// Receives each event; returns false to stop delivery (e.g. --count reached).
// With outcome tracking, connect() calls that failed before any SYN arrive
// here too, with their outcome set.
using ConnectHandler = std::function<bool(ConnectEvent&&)>;
// Receives the fate of a followed attempt (outcome tracking only).
using OutcomeHandler = std::function<bool(OutcomeEvent&&)>;
// Receives each request head sent on a watched connection (HTTP capture only).
using HttpHandler = std::function<bool(HttpRequestEvent&&)>;
// Receives each query sent to a resolver (DNS capture only).
using DnsHandler = std::function<bool(DnsQueryEvent&&)>;

// The one BPF object, opened and loaded with the parts `config` asks for and,
// with `track_execs`, the exec tracker's program too: one read of the
// kernel's BTF and one CO-RE pass serve both (ProcessTracker::start).
// `object_name` names what failed to load when no one program did.
Result<std::shared_ptr<connsnoop_bpf>> load_tracer_object(const TracerConfig& config, bool track_execs,
                                                          const std::string& object_name = "the BPF object");
// The same with CO-RE relocated against `core_btf` instead of the small BTF
// start-up cuts from the kernel's, and the same fall-back to the kernel's
// whole BTF should libbpf refuse it: for the tests of that fall-back.
Result<std::shared_ptr<connsnoop_bpf>> load_tracer_object_with_core_btf(const TracerConfig& config, bool track_execs,
                                                                        std::span<const std::byte> core_btf);

class ConnectTracer {
public:
    // Loads, configures and attaches. On success the hook is live.
    // `loaded`: the object load_tracer_object made for this same `config`
    // (shared with the exec tracker); without it, start loads its own.
    static Result<std::unique_ptr<ConnectTracer>> start(const TracerConfig& config, ConnectHandler handler,
                                                        OutcomeHandler outcome_handler = {},
                                                        HttpHandler http_handler = {}, DnsHandler dns_handler = {},
                                                        std::shared_ptr<connsnoop_bpf> loaded = {});

    ConnectTracer(const ConnectTracer&) = delete;
    ConnectTracer& operator=(const ConnectTracer&) = delete;
    ~ConnectTracer();

    // Waits up to `timeout` for records and delivers a batch of those ready
    // (at most about a thousand, so a flood cannot keep the caller from its
    // own work). Returns how many were delivered; an interrupted wait delivers 0.
    // After a small batch the next poll first lets up to 20 ms pass since the
    // last one began, so records are read in batches, not a few per wake-up.
    Result<int> poll(std::chrono::milliseconds timeout);
    // Delivers one batch of what is already in the ring buffer, without waiting.
    Result<int> drain();
    // Delivers everything in the ring buffer now (at the end of a run).
    Status drain_all();

    // Records the kernel dropped because the ring buffer was full (one bpf()
    // call: see loss_possible_since_last_ask for when it is worth making).
    [[nodiscard]] std::uint64_t lost_events() const;
    // True when the ring may have been full since the last call: a batch had
    // to stop at its size, or the polls since then read at least a quarter of
    // the ring. Only then can the kernel have dropped a record, so a reader
    // that asks this first skips the lookup of the loss counter on most
    // wake-ups (a full ring is still there, unread, at the next poll).
    bool loss_possible_since_last_ask();
    // Attempts whose outcome the kernel could not follow (in-flight map full).
    [[nodiscard]] std::uint64_t untracked_outcomes() const;
    // connect() calls whose failure before a SYN would be missed (pending-call map full).
    [[nodiscard]] std::uint64_t unwatched_connect_calls() const;
    // Records that could not be decoded (never expected; counted, not hidden).
    [[nodiscard]] std::uint64_t malformed_records() const { return malformed_records_; }
    // BPF programs attached now (one per link held): the state hook, and the
    // syscall and HTTP hooks when those are on.
    [[nodiscard]] std::uint32_t programs_attached() const;
    // The link-local counters (linklocal view), summed over the CPUs: what
    // each owner sent to and received from each service since connsnoop started.
    [[nodiscard]] Result<std::vector<LinklocalCounter>> read_linklocal_counters() const;
    // Packets not counted because the counter map was full, since the start.
    [[nodiscard]] std::uint64_t linklocal_uncounted_packets() const;
    // Deletes counters that went idle (their owners are gone, most likely).
    void forget_linklocal_counters(const std::vector<LinklocalCounter>& counters);
    // Which attachment was used (hook_name: "tp_btf" or "raw_tp").
    [[nodiscard]] TracepointHook hook() const { return hook_; }

private:
    struct Handles;
    ConnectTracer(std::unique_ptr<Handles> handles, ConnectHandler handler, OutcomeHandler outcome_handler,
                  HttpHandler http_handler, DnsHandler dns_handler, TracepointHook hook);
    static int on_record(void* context, void* data, std::size_t size);
    [[nodiscard]] std::uint64_t stat_total(std::uint32_t which) const;

    std::unique_ptr<Handles> handles_;
    ConnectHandler handler_;
    OutcomeHandler outcome_handler_;
    HttpHandler http_handler_;
    DnsHandler dns_handler_;
    TracepointHook hook_;
    std::uint64_t malformed_records_ = 0;
    bool stop_requested_ = false;
    std::uint32_t batch_delivered_ = 0;  // records delivered in the current batch
    bool batch_paused_ = false;          // the last batch ended at its size, not at an empty ring
    std::chrono::steady_clock::time_point batch_started_{};
    std::chrono::steady_clock::time_point next_read_{};  // after a small batch: not before this
    std::uint32_t ringbuf_bytes_ = 0;
    ConnectEvent connect_event_;              // decoded into for each connect record, its buffers reused
    ArgvMemo argv_memo_;                      // the last connect record's arguments, split
    HttpRequestEvent http_request_;           // the same for each HTTP record (--http)
    std::uint64_t bytes_since_loss_ask_ = 0;  // record bytes delivered since loss_possible_since_last_ask
    bool paused_since_loss_ask_ = false;
};

}  // namespace connsnoop
