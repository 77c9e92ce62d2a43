#include "output/time_format.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace connsnoop {

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;
// 10000-01-01T00:00:00Z: from there on the year has five digits.
constexpr std::int64_t kYear10000Micros = 253'402'300'800LL * kMicrosPerSecond;

std::string format_with_gmtime(std::int64_t micros) {
    const auto seconds = static_cast<std::time_t>(micros / kMicrosPerSecond);
    const auto fraction = micros % kMicrosPerSecond;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z", utc, fraction);
}

struct CivilDate {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
// civil_from_days, for days >= 0).
CivilDate civil_from_days(std::int64_t days) {
    days += 719'468;
    const std::int64_t era = days / 146'097;
    const auto day_of_era = static_cast<unsigned>(days - era * 146'097);
    const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
    const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned shifted_month = (5 * day_of_year + 2) / 153;  // March is 0
    const unsigned day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    const unsigned month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
    return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// Writes `value` as exactly `width` decimal digits ending just before `end`.
void put_digits(char* end, std::uint64_t value, int width) {
    for (int i = 0; i < width; ++i) {
        *--end = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

bool write_iso8601_utc(char* out, std::chrono::system_clock::time_point time) {
    const std::int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
    if (micros < 0 || micros >= kYear10000Micros) return false;
    const std::int64_t seconds = micros / kMicrosPerSecond;
    // Events come in bursts within one second: its date and time of day
    // are worked out once, then only the microseconds change.
    constexpr std::size_t kSecondsLength = 20;  // YYYY-MM-DDTHH:MM:SS.
    thread_local std::int64_t cached_seconds = -1;
    thread_local std::array<char, kSecondsLength> cached_text{};
    if (seconds != cached_seconds) {
        const auto second_of_day = static_cast<std::uint64_t>(seconds % kSecondsPerDay);
        const CivilDate date = civil_from_days(seconds / kSecondsPerDay);
        char* const text = cached_text.data();
        std::memcpy(text, "0000-00-00T00:00:00.", kSecondsLength);
        put_digits(text + 4, static_cast<std::uint64_t>(date.year), 4);
        put_digits(text + 7, date.month, 2);
        put_digits(text + 10, date.day, 2);
        put_digits(text + 13, second_of_day / 3600, 2);
        put_digits(text + 16, second_of_day / 60 % 60, 2);
        put_digits(text + 19, second_of_day % 60, 2);
        cached_seconds = seconds;
    }
    std::memcpy(out, cached_text.data(), kSecondsLength);
    put_digits(out + 26, static_cast<std::uint64_t>(micros % kMicrosPerSecond), 6);
    out[26] = 'Z';
    return true;
}

void append_iso8601_utc(std::string& out, std::chrono::system_clock::time_point time) {
    char text[kIso8601Length];
    if (write_iso8601_utc(text, time)) {
        out.append(text, sizeof(text));
    } else {
        out +=
            format_with_gmtime(std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
    }
}

std::string format_iso8601_utc(std::chrono::system_clock::time_point time) {
    std::string text;
    append_iso8601_utc(text, time);
    return text;
}

std::string format_local_time(std::chrono::system_clock::time_point time) {
    const auto seconds = std::chrono::system_clock::to_time_t(time);
    std::tm local{};
    localtime_r(&seconds, &local);
    return fmt::format("{:%H:%M:%S}", local);
}

}  // namespace connsnoop
