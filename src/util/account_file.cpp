#include "util/account_file.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace connsnoop {

namespace {

struct AccountEntry {
    std::string_view name;
    std::uint32_t id = 0;
};

// "name:password:ID[:...]" -> name and ID; nullopt for anything else.
std::optional<AccountEntry> parse_account_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-') return std::nullopt;
    const auto name_end = line.find(':');
    if (name_end == 0 || name_end == std::string_view::npos) return std::nullopt;
    const auto password_end = line.find(':', name_end + 1);
    if (password_end == std::string_view::npos) return std::nullopt;
    auto id_end = line.find(':', password_end + 1);
    if (id_end == std::string_view::npos) id_end = line.size();
    const std::string_view id_text = line.substr(password_end + 1, id_end - password_end - 1);
    AccountEntry entry{line.substr(0, name_end)};
    const auto* last = id_text.data() + id_text.size();
    const auto [end, error] = std::from_chars(id_text.data(), last, entry.id);
    if (id_text.empty() || error != std::errc() || end != last) return std::nullopt;
    return entry;
}

// Calls visit(entry) for each well-formed line until it returns true.
template <typename Visit>
void for_each_account(std::string_view text, Visit visit) {
    while (!text.empty()) {
        const auto line_end = text.find('\n');
        const std::string_view line = text.substr(0, line_end);
        text = line_end == std::string_view::npos ? std::string_view{} : text.substr(line_end + 1);
        if (const auto entry = parse_account_line(line); entry && visit(*entry)) return;
    }
}

}  // namespace

std::unordered_map<std::uint32_t, std::string> parse_account_names(std::string_view text) {
    std::unordered_map<std::uint32_t, std::string> names;
    for_each_account(text, [&](const AccountEntry& entry) {
        names.try_emplace(entry.id, entry.name);
        return false;
    });
    return names;
}

std::optional<std::uint32_t> find_account_id(std::string_view text, std::string_view name) {
    std::optional<std::uint32_t> id;
    for_each_account(text, [&](const AccountEntry& entry) {
        if (entry.name == name) id = entry.id;
        return id.has_value();
    });
    return id;
}

std::optional<std::string> read_account_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    return std::move(text).str();
}

}  // namespace connsnoop
