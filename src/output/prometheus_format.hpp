// Prometheus text exposition (format 0.0.4) of a metrics snapshot: pure.
#pragma once

#include <string>
#include <string_view>

#include "aggregate/connect_metrics.hpp"

namespace connsnoop {

// A label value with \, " and newline escaped; invalid UTF-8 made valid.
std::string escape_label_value(std::string_view value);

std::string format_prometheus(const MetricsSnapshot& snapshot, std::string_view version);

}  // namespace connsnoop
