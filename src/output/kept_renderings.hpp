// Text a writer rendered from fields that stay the same from event to event
// of a process (its arguments, names, ancestry), kept with those fields so
// the next event that has them copies the text instead of escaping it again.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace connsnoop {

// The last few renderings of `Fields`: a few processes interleave in a burst,
// and a miss costs a compare with every entry. `Fields` holds what the text
// was rendered from: `matches(args...)` says whether the text is the one
// `args` would render, `assign(args...)` keeps them (copies, or a shared_ptr
// to immutable data, never a pointer that may dangle or be reused).
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
    // Replaces the entry kept longest.
    template <typename... Args>
    void keep(std::string_view rendered, const Args&... args) {
        auto& entry = entries_[next_];
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
};

}  // namespace connsnoop
