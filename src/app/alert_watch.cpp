#include "app/alert_watch.hpp"

#include "output/escape.hpp"
#include "output/json_format.hpp"

namespace connsnoop {

AlertWatch::AlertWatch(double threshold, GroupBy group_by, Sink sink)
    : alerts_(threshold), group_by_(group_by), sink_(std::move(sink)) {}

void AlertWatch::check(const TalkerTable& table, MonoTime now) {
    // Rates over less than a full second would let a short burst at start-up look like a flood.
    if (table.observed(now) < std::chrono::seconds(1)) return;
    for (auto& transition : alerts_.update(table.rows(now))) {
        sink_(AlertNotice{std::chrono::system_clock::now(), group_by_, alerts_.threshold(), std::move(transition)});
    }
}

AlertWatch::Sink alert_line_sink(LineOutput& out, OutputFormat format, bool utf8) {
    return [&out, format, utf8](const AlertNotice& notice) {
        if (format == OutputFormat::json) {
            out.write_line(to_json_line(alert_to_json(notice)));
        } else {
            out.write_line(utf8 ? format_alert_line(notice) : escape_non_ascii(format_alert_line(notice)));
        }
    };
}

}  // namespace connsnoop
