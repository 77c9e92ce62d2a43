// --alert in any session: compares each group's rate over the last second
// with the threshold and hands every firing/resolved transition on.
#pragma once

#include <chrono>
#include <functional>

#include "aggregate/rate_alerts.hpp"
#include "aggregate/talker_table.hpp"
#include "output/line_output.hpp"
#include "output/output_options.hpp"
#include "output/top_format.hpp"

namespace connsnoop {

class AlertWatch {
public:
    using Sink = std::function<void(const AlertNotice&)>;
    AlertWatch(double threshold, GroupBy group_by, Sink sink);

    void check(const TalkerTable& table, MonoTime now);
    [[nodiscard]] const RateAlerts& alerts() const { return alerts_; }
    [[nodiscard]] GroupBy group_by() const { return group_by_; }

private:
    RateAlerts alerts_;
    GroupBy group_by_;
    Sink sink_;
};

// A sink that writes each notice as one line (table) or one object (JSON);
// a line with no byte above 0x7F unless the terminal is UTF-8 (`utf8`).
AlertWatch::Sink alert_line_sink(LineOutput& out, OutputFormat format, bool utf8);

}  // namespace connsnoop
