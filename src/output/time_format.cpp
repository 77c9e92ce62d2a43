#include "output/time_format.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace connsnoop {

std::string format_iso8601_utc(std::chrono::system_clock::time_point time) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
    const auto seconds = static_cast<std::time_t>(micros / 1'000'000);
    const auto fraction = micros % 1'000'000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z", utc, fraction);
}

std::string format_local_time(std::chrono::system_clock::time_point time) {
    const auto seconds = std::chrono::system_clock::to_time_t(time);
    std::tm local{};
    localtime_r(&seconds, &local);
    return fmt::format("{:%H:%M:%S}", local);
}

}  // namespace connsnoop
