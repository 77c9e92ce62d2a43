#include "aggregate/linklocal_report.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace connsnoop {

LinklocalReport build_linklocal_report(const LinklocalSample& sample, GroupBy group_by,
                                       const std::vector<LinklocalService>& services, double budget_pps) {
    LinklocalReport report;
    report.time = sample.time;
    report.interval_seconds = sample.interval_seconds;
    report.group_by = group_by;
    report.budget_pps = budget_pps;
    report.services = services;
    report.uncounted_packets = sample.uncounted_packets;

    if (group_by == GroupBy::qname) {
        // Packets cannot be told apart by query name: the counters give the
        // host total only, and the rows come from the queries.
        for (const auto& traffic : sample.traffic) {
            const LinklocalFlow flow{traffic.packets, traffic.bytes};
            (traffic.direction == LinklocalDirection::sent ? report.sent : report.received) += flow;
        }
        return report;
    }

    std::map<std::string, std::size_t> index_of;
    std::map<std::string, std::set<std::pair<std::uint32_t, std::string>>> owners_of;
    for (const auto& traffic : sample.traffic) {
        const std::string key = traffic.owner_known
                                    ? group_key(traffic.process, command_line(traffic.process), group_by)
                                    : std::string(kUnknownOwnerKey);
        auto [found, added] = index_of.emplace(key, report.rows.size());
        if (added) {
            LinklocalRow row;
            row.key = key;
            row.process = traffic.process;
            row.owner_known = traffic.owner_known;
            report.rows.push_back(std::move(row));
        }
        auto& row = report.rows[found->second];
        owners_of[key].emplace(traffic.process.pid, traffic.process.comm);
        auto service = std::find_if(row.services.begin(), row.services.end(), [&](const LinklocalServiceFlow& flow) {
            return flow.service == traffic.service && flow.protocol == traffic.protocol;
        });
        if (service == row.services.end()) {
            row.services.push_back({traffic.service, traffic.protocol, {}, {}});
            service = std::prev(row.services.end());
        }
        const LinklocalFlow flow{traffic.packets, traffic.bytes};
        const bool sent = traffic.direction == LinklocalDirection::sent;
        (sent ? service->sent : service->received) += flow;
        (sent ? row.sent : row.received) += flow;
        (sent ? report.sent : report.received) += flow;
    }
    for (auto& row : report.rows) {
        row.processes = static_cast<std::uint32_t>(owners_of[row.key].size());
        std::sort(row.services.begin(), row.services.end(), [](const auto& a, const auto& b) {
            return std::tie(a.service, a.protocol) < std::tie(b.service, b.protocol);
        });
    }
    std::sort(report.rows.begin(), report.rows.end(), [](const LinklocalRow& a, const LinklocalRow& b) {
        return std::make_tuple(b.sent.packets, b.received.packets, a.key) <
               std::make_tuple(a.sent.packets, a.received.packets, b.key);
    });
    return report;
}

bool LinklocalQueryCounter::record(const DnsQueryEvent& query) {
    for (std::size_t index = 0; index < services_.size(); ++index) {
        if (!services_[index].address.contains(query.sender.destination)) continue;
        auto& count = counts_[query.name];
        ++count.queries;
        count.senders.insert(query.sender.pid);
        ++count.by_service[static_cast<std::uint16_t>(index)];
        return true;
    }
    return false;
}

std::vector<LinklocalQueryRow> LinklocalQueryCounter::take() {
    std::vector<LinklocalQueryRow> rows;
    rows.reserve(counts_.size());
    for (auto& [qname, count] : counts_) {
        rows.push_back({qname,
                        count.queries,
                        static_cast<std::uint32_t>(count.senders.size()),
                        {count.by_service.begin(), count.by_service.end()}});
    }
    counts_.clear();
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.queries > b.queries; });
    return rows;
}

std::optional<LinklocalAlert> LinklocalAlertWatch::check(LinklocalReport& report) {
    LinklocalAlert alert;
    alert.threshold_pps = report.budget_pps * percent_ / 100;
    alert.total_pps = report.rate(report.sent.packets);
    report.alert_percent = percent_;
    const bool crossing = alert.total_pps > alert.threshold_pps;
    report.alert_firing = crossing;
    if (crossing == firing_) return std::nullopt;
    firing_ = crossing;
    alert.firing = crossing;
    if (crossing) {
        // Largest senders first, until what they sent alone crosses the line.
        double named_pps = 0;
        for (const auto& row : report.queries) {  // --by qname: the names that spent it
            if (named_pps > alert.threshold_pps) break;
            alert.spenders.push_back(row.qname);
            named_pps += report.rate(row.queries);
        }
        for (const auto& row : report.rows) {
            if (named_pps > alert.threshold_pps || row.sent.packets == 0) break;
            alert.spenders.push_back(row.key);
            named_pps += report.rate(row.sent.packets);
        }
    }
    return alert;
}

}  // namespace connsnoop
