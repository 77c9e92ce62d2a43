// "1 event", "2 events": counts in messages read as English.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace connsnoop {

// `singular` takes an "s" for every count but 1 (all the nouns used take one).
inline std::string count_of(std::uint64_t count, std::string_view singular) {
    return std::to_string(count) + " " + std::string(singular) + (count == 1 ? "" : "s");
}

}  // namespace connsnoop
