// What `top` groups connection attempts by. To add a grouping: a value here,
// its name in kGroupings, and a case in group_key().
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/http_request_event.hpp"

namespace connsnoop {

// path and imds group HTTP requests (--http), qname DNS queries (--dns), not
// connection attempts.
enum class GroupBy { command, pid, comm, user, cgroup, container, unit, dest, port, path, imds, qname };

// Groupings of connection attempts (the view's `g` cycles through these).
inline constexpr std::array<GroupBy, 9> kGroupings = {GroupBy::command, GroupBy::pid,    GroupBy::comm,
                                                      GroupBy::user,    GroupBy::cgroup, GroupBy::container,
                                                      GroupBy::unit,    GroupBy::dest,   GroupBy::port};
// Groupings of HTTP requests (`g` cycles through these when one is shown).
inline constexpr std::array<GroupBy, 2> kRequestGroupings = {GroupBy::path, GroupBy::imds};
bool is_request_grouping(GroupBy by);
// Groupings of DNS queries.
inline constexpr std::array<GroupBy, 1> kQueryGroupings = {GroupBy::qname};
bool is_query_grouping(GroupBy by);
// Groupings of connection attempts (neither requests nor queries).
bool groups_connections(GroupBy by);

// "command", "pid", ... as accepted by --by and shown in the view.
std::string_view group_by_name(GroupBy by);
std::optional<GroupBy> parse_group_by(std::string_view name);
// The grouping after `by` in kGroupings, wrapping around (the view's `g` key).
GroupBy next_grouping(GroupBy by);

// The group an event belongs to, as raw (unescaped) text. `cmdline` is
// command_line(event), computed once per event by the caller.
std::string group_key(const ConnectEvent& event, std::string_view cmdline, GroupBy by);
// The group of an HTTP request under a request grouping: its path, or its
// IMDS version ("imdsv1", ..., "other" outside the metadata API).
std::string request_group_key(const HttpRequestEvent& request, GroupBy by);

}  // namespace connsnoop
