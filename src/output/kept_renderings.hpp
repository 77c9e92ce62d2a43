// Text a writer rendered from fields that stay the same from event to event
// of a process (its arguments, names, ancestry), kept with those fields so
// the next event that has them copies the text instead of escaping it again.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace connsnoop {

// The last few renderings of `Fields`: a few processes interleave in a burst,
// and a miss costs a compare with every entry. `Fields` holds what the text
// was rendered from: `matches(args...)` says whether the text is the one
// `args` would render, `assign(args...)` keeps them (copies, or a shared_ptr
// to immutable data, never a pointer that may dangle or be reused), and
// `fingerprint(args...)` is a cheap summary of them that may collide.
//
// Keeping costs copies, so a rendering is kept only when a recent miss had
// the same fingerprint: a process seen once (a stream of one-off commands)
// costs its render and the compares, and a process seen again is kept. A
// fingerprint only decides what is kept, never what is written.
template <typename Fields, std::size_t Entries = 4>
class KeptRenderings {
public:
    template <typename... Args>
    [[nodiscard]] const std::string* find(const Args&... args) const {
        for (const auto& entry : entries_) {
            if (entry.used && entry.fields.matches(args...)) return &entry.rendered;
        }
        return nullptr;
    }
    // After a miss: `rendered` is what `args` rendered.
    template <typename... Args>
    void missed(std::string_view rendered, const Args&... args) {
        const std::uint64_t fingerprint = Fields::fingerprint(args...);
        if (std::find(recent_misses_.begin(), recent_misses_.end(), fingerprint) == recent_misses_.end()) {
            recent_misses_[next_miss_] = fingerprint;
            next_miss_ = (next_miss_ + 1) % Entries;
            return;
        }
        auto& entry = entries_[next_];  // the one kept longest
        next_ = (next_ + 1) % Entries;
        entry.used = true;
        entry.fields.assign(args...);
        entry.rendered.assign(rendered);
    }

private:
    struct Entry {
        bool used = false;
        Fields fields;
        std::string rendered;
    };
    std::array<Entry, Entries> entries_;
    std::size_t next_ = 0;
    std::array<std::uint64_t, Entries> recent_misses_{};  // 0 too is a fingerprint: at worst one keep more
    std::size_t next_miss_ = 0;
};

// Pieces of a fingerprint.
constexpr std::uint64_t fingerprint_mix(std::uint64_t hash, std::uint64_t value) {
    return (hash ^ value) * 0x9E3779B97F4A7C15ULL;
}
// The last (at most) eight bytes: where two runs of a program, or two units,
// differ most often.
inline std::uint64_t fingerprint_tail(std::string_view text) {
    std::uint64_t tail = text.size();
    const std::size_t length = std::min<std::size_t>(text.size(), sizeof(tail) - 1);
    std::memcpy(&tail, text.data() + text.size() - length, length);
    return fingerprint_mix(tail, text.size());
}

}  // namespace connsnoop
