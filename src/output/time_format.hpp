#pragma once

#include <chrono>
#include <string>

namespace connsnoop {

// 2026-11-28T22:40:46.123456Z
std::string format_iso8601_utc(std::chrono::system_clock::time_point time);
// 22:40:46 in the local time zone
std::string format_local_time(std::chrono::system_clock::time_point time);

}  // namespace connsnoop
