// libFuzzer target: the command line and every option value parser.
// The input is split at NUL bytes into arguments (after "connsnoop"), and is
// also given whole to each value parser. Invariants: nothing crashes or throws,
// a usage error is one printable line, and accepted options are in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.hpp"
#include "cli/value_parsers.hpp"
#include "output_checks.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

void require_printable_line(const std::string& message) {
    require(!message.empty());
    require(connsnoop::testing::terminal_hazard(message).empty());
}

template <typename T>
void check_value_parser(connsnoop::Result<T> (*parse)(std::string_view), std::string_view text) {
    auto result = parse(text);
    if (!result) require_printable_line(result.error().message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace connsnoop;
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    check_value_parser(
        +[](std::string_view text) { return parse_destination(text); }, input);
    check_value_parser(
        +[](std::string_view text) { return parse_port(text); }, input);
    check_value_parser(parse_port_range, input);
    check_value_parser(parse_pid, input);
    check_value_parser(
        +[](std::string_view text) { return parse_comm(text); }, input);
    check_value_parser(parse_unit_name, input);
    check_value_parser(parse_count, input);
    check_value_parser(parse_duration, input);
    check_value_parser(parse_ringbuf_size, input);
    check_value_parser(parse_argv_max, input);
    // parse_uid looks names up in the user database: only short inputs, to keep runs fast.
    if (size <= 32) check_value_parser(parse_uid, input);

    std::vector<std::string> arguments{"connsnoop"};
    std::size_t start = 0;
    while (start <= input.size() && arguments.size() < 64) {
        const auto nul = input.find('\0', start);
        arguments.emplace_back(input.substr(start, nul - start));
        if (nul == std::string_view::npos) break;
        start = nul + 1;
    }
    std::vector<const char*> argv;
    for (const auto& argument : arguments) argv.push_back(argument.c_str());
    const auto parsed = parse_command_line(static_cast<int>(argv.size()), argv.data());
    if (const auto* usage = std::get_if<UsageError>(&parsed)) require_printable_line(usage->message);
    if (const auto* options = std::get_if<Options>(&parsed)) {
        require(options->tracer.argv_max <= 8192);
        const auto ringbuf = options->tracer.ringbuf_bytes;
        require(ringbuf >= 4096 && (ringbuf & (ringbuf - 1)) == 0);
        require(!options->max_events || *options->max_events > 0);
        require(!options->duration || options->duration->count() > 0);
        for (auto ports : options->tracer.filters.destination_ports)
            require(ports.first != 0 && ports.first <= ports.last);
        for (const auto& comm : options->tracer.filters.comms) require(comm.size() <= 15);
    }
    return 0;
}
