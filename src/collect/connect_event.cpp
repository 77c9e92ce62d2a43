#include "collect/connect_event.hpp"

namespace connsnoop {

std::string_view protocol_name(Protocol protocol) { return protocol == Protocol::udp ? "udp" : "tcp"; }

std::string join_arguments(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& argument : argv) {
        if (!line.empty()) line += ' ';
        line += argument;
    }
    return line;
}

std::string command_line(const ConnectEvent& event) {
    if (event.argv.empty()) return "[" + event.comm + "]";
    return join_arguments(event.argv);
}

}  // namespace connsnoop
