#include "output/event_writer.hpp"

#include <fmt/format.h>

#include <cstring>
#include <utility>

#include "output/json_format.hpp"
#include "output/table_format.hpp"

namespace connsnoop {

namespace {

// Human-readable rows on stdout; loss and the summary go to stderr from the
// session, so the table stays clean for grep.
class TableWriter final : public EventWriter {
public:
    TableWriter(LineOutput& out, TableLayout layout) : out_(out), layout_(std::move(layout)) {}
    void begin() override {
        if (layout_.header) out_.write_line(format_table_header(layout_));
    }
    // Formatted straight into the output's buffer: no string per row.
    void write_connect(const ConnectEvent& event) override {
        out_.write_line_with([&](std::string& buffer) { append_table_row(buffer, event, layout_); });
    }
    void write_http(const HttpRequestEvent& request) override {
        out_.write_line_with([&](std::string& buffer) { append_http_row(buffer, request, layout_); });
    }
    void write_dns(const DnsQueryEvent& query) override {
        out_.write_line_with([&](std::string& buffer) { append_dns_row(buffer, query, layout_); });
    }
    void write_lost(const LossReport& /*report*/) override {}
    void write_summary(const RunSummary& /*summary*/) override {}
    [[nodiscard]] bool closed() const override { return out_.closed(); }

private:
    LineOutput& out_;
    TableLayout layout_;
};

// JSON Lines: every record, the tool's own included, is one object with a type.
class JsonWriter final : public EventWriter {
public:
    JsonWriter(LineOutput& out, AncestorDetail ancestors) : out_(out), ancestors_(ancestors) {}
    void begin() override {}
    // Formatted straight into the output's buffer: no string, no document per event.
    void write_connect(const ConnectEvent& event) override {
        out_.write_line_with([&](std::string& buffer) { append_connect_json(buffer, event, ancestors_); });
    }
    void write_dns(const DnsQueryEvent& query) override {
        out_.write_line_with([&query](std::string& buffer) { append_dns_json(buffer, query); });
    }
    void write_http(const HttpRequestEvent& request) override {
        out_.write_line_with([&](std::string& buffer) { append_http_json(buffer, request, ancestors_); });
    }
    void write_lost(const LossReport& report) override { out_.write_line(to_json_line(lost_to_json(report))); }
    void write_summary(const RunSummary& summary) override { out_.write_line(to_json_line(summary_to_json(summary))); }
    [[nodiscard]] bool closed() const override { return out_.closed(); }

private:
    LineOutput& out_;
    AncestorDetail ancestors_;
};

}  // namespace

std::unique_ptr<EventWriter> make_table_writer(LineOutput& out, TableLayout layout) {
    out.set_lost_notice([](std::uint64_t newly_lost, std::uint64_t total_lost, int error) {
        return fmt::format("connsnoop: {} {} could not be written ({}); {} in all", newly_lost,
                           newly_lost == 1 ? "line" : "lines", std::strerror(error), total_lost);
    });
    return std::make_unique<TableWriter>(out, std::move(layout));
}

std::unique_ptr<EventWriter> make_json_writer(LineOutput& out, AncestorDetail ancestors) {
    out.set_lost_notice([](std::uint64_t newly_lost, std::uint64_t total_lost, int error) {
        return to_json_line(lost_output_to_json(std::chrono::system_clock::now(), newly_lost, total_lost, error));
    });
    return std::make_unique<JsonWriter>(out, ancestors);
}

}  // namespace connsnoop
