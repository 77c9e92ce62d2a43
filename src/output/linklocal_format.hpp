// Pure formatting of the link-local view: the screen/text block, the JSON
// interval record ("type":"linklocal") and the alert ("type":"linklocal_alert").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aggregate/linklocal_report.hpp"

namespace connsnoop {

// The block shown each interval: status lines, column titles, one line per
// row, each fit to `width` columns (every name escaped for the terminal).
std::vector<std::string> format_linklocal_block(const LinklocalReport& report, std::size_t width,
                                                const std::string& notice = {});
// "ALERT: link-local traffic 1500.0 pkt/s > 512.0 (50% of 1024): spent by 4242 (dnsflood)"
std::string format_linklocal_alert(const LinklocalAlert& alert, const LinklocalReport& report);

nlohmann::ordered_json linklocal_to_json(const LinklocalReport& report);
nlohmann::ordered_json linklocal_alert_to_json(const LinklocalAlert& alert, const LinklocalReport& report);

}  // namespace connsnoop
