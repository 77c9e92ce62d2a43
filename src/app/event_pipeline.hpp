// One event pipeline for every view: user-space filters (--container,
// --unit) -> enrichment -> outcome join -> sinks. A session (the event
// stream, top) only chooses its sinks; the stages exist once, here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aggregate/clock.hpp"
#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/http_request_event.hpp"
#include "collect/linklocal_counters.hpp"
#include "collect/outcome_joiner.hpp"
#include "output/event_writer.hpp"

namespace connsnoop {

class ConnectTracer;
class EventEnricher;

// A consumer of the pipeline: one virtual per record kind, as bpftrace's
// Output. Every method has a do-nothing default, so a sink names only what
// it consumes.
class EventSink {
public:
    EventSink() = default;
    EventSink(const EventSink&) = delete;
    EventSink& operator=(const EventSink&) = delete;
    virtual ~EventSink() = default;

    // The tracer is attached (its counters can be read from now on).
    virtual void on_attached(const ConnectTracer& /*tracer*/) {}
    // Tracing has started: a sink writes its header or opens its screen.
    virtual void on_start() {}
    // A connection attempt that passed the filters, enriched, at once.
    virtual void on_connect(const ConnectEvent& /*event*/) {}
    // With --outcome/--failed: an attempt joined to its fate (event.outcome
    // is set; pending for attempts still connecting at the end of the run).
    virtual void on_outcome(const ConnectEvent& /*event*/) {}
    // With --outcome/--failed: an attempt still connecting a second after it
    // began, shown at once as pending (a dropped SYN takes minutes to time
    // out); its fate follows through on_outcome with the same attempt_id.
    // Not a fate: not counted.
    virtual void on_overdue(const ConnectEvent& /*event*/) {}
    // An HTTP request head (--http) that passed the filters, enriched.
    virtual void on_http(const HttpRequestEvent& /*request*/) {}
    // A DNS query (--dns) that passed the filters, enriched.
    virtual void on_dns(const DnsQueryEvent& /*query*/) {}
    // The link-local view: the traffic of one interval, each owner enriched.
    virtual void on_linklocal(const LinklocalSample& /*sample*/) {}
    // The kernel dropped records since the last report.
    virtual void on_loss(const LossReport& /*report*/) {}
    // After every poll (about every 100 ms): flushing, timers, keys. False ends the run.
    // Attempts that became overdue are given to on_overdue first.
    virtual bool on_tick(MonoTime /*now*/) { return true; }
    // The sink's own stop condition (--count reached, reader gone). When one
    // holds, the ring buffer is not drained at the end.
    [[nodiscard]] virtual bool finished() const { return false; }
};

struct PipelineConfig {
    std::string container_prefix;  // --container: only containers whose ID starts so
    std::string unit;              // --unit: only this systemd unit
    bool join_outcomes = false;    // --outcome/--failed
    bool imds_v1_only = false;     // --imds-v1: only requests without a token
    bool connects = true;          // false: requests only (top --by path|imds)
    // Loss is also reported on stderr, unless stderr is the terminal a
    // full-screen view is drawn on.
    bool loss_on_stderr = true;
};

class EventPipeline {
public:
    EventPipeline(PipelineConfig config, EventEnricher& enricher) : config_(std::move(config)), enricher_(enricher) {}

    void add_sink(EventSink& sink) { sinks_.push_back(&sink); }

    // The tracer's handlers: false stops delivery (a sink is finished).
    bool connect(ConnectEvent&& event);
    bool outcome(const OutcomeEvent& outcome);
    bool http(HttpRequestEvent&& request);
    bool dns(DnsQueryEvent&& query);
    // One interval of link-local counters: owners enriched (cached by owner),
    // --container/--unit applied, then given to the sinks.
    void linklocal(LinklocalSample&& sample);

    void attached(const ConnectTracer& tracer);
    void start();
    void loss(const LossReport& report);
    bool tick(MonoTime now);
    [[nodiscard]] bool finished() const;
    // The end of the run: attempts still connecting go to the sinks as pending.
    void finish();

    [[nodiscard]] const PipelineConfig& config() const { return config_; }
    // Attempts and requests that passed the filters.
    [[nodiscard]] std::uint64_t passed() const { return passed_; }

private:
    [[nodiscard]] bool wanted(const ConnectEvent& event) const;

    PipelineConfig config_;
    EventEnricher& enricher_;
    OutcomeJoiner joiner_;
    std::vector<EventSink*> sinks_;
    std::uint64_t passed_ = 0;
    // Enriched link-local owners: one /proc look-up per owner, not per interval.
    std::map<LinklocalOwner, ConnectEvent> linklocal_owners_;
};

}  // namespace connsnoop
