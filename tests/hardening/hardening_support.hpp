// Support for the hardening tests: output invariants, a cgroup that isolates
// a load generator, RSS samples, and the BPF objects the kernel holds.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "output_checks.hpp"

namespace connsnoop::testing {

// Parses JSON Lines strictly (valid UTF-8 too); each record that does not parse
// is a test failure naming the line.
std::vector<nlohmann::json> parse_json_lines(const std::vector<std::string>& lines);

// A second opinion from another parser (Python's json, strict UTF-8 decoding):
// empty when every line of `text` is one JSON object, else what is wrong.
std::string independent_json_lines_check(const std::string& text);

// The records of one type ("connect", "lost", "summary").
std::vector<nlohmann::json> records_of_type(const std::vector<nlohmann::json>& records, const std::string& type);

// A cgroup v2 directory created for one test and removed at its end; a
// process started through `exec` runs inside it, which connsnoop --cgroup
// matches exactly.
class ScopedCgroup {
public:
    explicit ScopedCgroup(const std::string& prefix);
    ScopedCgroup(const ScopedCgroup&) = delete;
    ScopedCgroup& operator=(const ScopedCgroup&) = delete;
    ~ScopedCgroup();

    // The path relative to the cgroup2 mount: what --cgroup takes.
    [[nodiscard]] const std::string& relative_path() const { return relative_; }
    // `command` wrapped to join this cgroup first.
    [[nodiscard]] std::vector<std::string> exec(const std::vector<std::string>& command) const;

private:
    std::string relative_;
    std::string absolute_;
};

// VmRSS of a process in KiB, from /proc/PID/status.
std::optional<std::uint64_t> resident_kib(pid_t pid);

// The BPF programs, maps and links loaded in the kernel, by ID (bpftool -j).
struct BpfObjects {
    std::set<std::uint32_t> programs;
    std::set<std::uint32_t> maps;
    std::set<std::uint32_t> links;
};
BpfObjects loaded_bpf_objects();
// Objects of connsnoop's BPF object in `now` and not in `before`: programs
// using a map named "connsno.*" (the skeleton's .rodata/.bss), their maps,
// and the links to them.
BpfObjects connsnoop_objects_since(const BpfObjects& before);
// Polls until none of `objects` is loaded any more (the kernel frees them
// shortly after the last descriptor closes); returns those still there.
BpfObjects still_loaded_after(const BpfObjects& objects, std::chrono::milliseconds timeout);

// Path of the connect-storm load generator.
std::string connect_storm_binary();

}  // namespace connsnoop::testing
