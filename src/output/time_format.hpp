#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace connsnoop {

// 2026-11-28T22:40:46.123456Z
std::string format_iso8601_utc(std::chrono::system_clock::time_point time);
// The same, appended to `out`: plain arithmetic for the years 1970-9999
// (no gmtime_r, no format string), so it can run once per event.
void append_iso8601_utc(std::string& out, std::chrono::system_clock::time_point time);
// The fast case of it, written at `out` (kIso8601Length bytes); false, and
// nothing written, for a year outside 1970-9999.
inline constexpr std::size_t kIso8601Length = 27;
bool write_iso8601_utc(char* out, std::chrono::system_clock::time_point time);
// 22:40:46 in the local time zone
std::string format_local_time(std::chrono::system_clock::time_point time);

}  // namespace connsnoop
