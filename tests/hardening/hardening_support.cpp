#include "hardening_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "collect/cgroup_path.hpp"
#include "process.hpp"

namespace connsnoop::testing {

namespace {

nlohmann::json bpftool_list(const std::string& kind) {
    const auto result = run_command({"bpftool", kind, "show", "-j"});
    if (result.status != 0) throw std::runtime_error("bpftool " + kind + " show failed: " + result.err);
    auto list = nlohmann::json::parse(result.out, nullptr, false);
    if (list.is_discarded() || !list.is_array()) throw std::runtime_error("bpftool " + kind + ": not a JSON list");
    return list;
}

// The cgroup2 mount, found the way connsnoop finds it.
std::string cgroup2_mount() {
    std::ifstream file("/proc/self/mountinfo");
    const std::string mountinfo((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto mount = find_cgroup2_mount(mountinfo);
    if (!mount) throw std::runtime_error(mount.error().message);
    return *mount;
}

}  // namespace

std::vector<nlohmann::json> parse_json_lines(const std::vector<std::string>& lines) {
    std::vector<nlohmann::json> records;
    for (const auto& line : lines) {
        auto record = nlohmann::json::parse(line, nullptr, false);
        EXPECT_FALSE(record.is_discarded()) << "not a JSON line: " << line;
        EXPECT_TRUE(record.is_object()) << line;
        if (!record.is_discarded()) records.push_back(std::move(record));
    }
    return records;
}

std::string independent_json_lines_check(const std::string& text) {
    char path[] = "/tmp/connsnoop-json-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) return "mkstemp failed";
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    const auto result = run_command({"python3", "-c",
                                     "import json, sys\n"
                                     "text = open(sys.argv[1], 'rb').read().decode('utf-8', 'strict')\n"
                                     "assert text.endswith('\\n'), 'last line not ended'\n"
                                     "for line in text[:-1].split('\\n'):\n"
                                     "    assert isinstance(json.loads(line), dict), line\n",
                                     path});
    unlink(path);
    if (!written) return "could not write " + std::string(path);
    return result.status == 0 ? "" : result.err;
}

std::vector<nlohmann::json> records_of_type(const std::vector<nlohmann::json>& records, const std::string& type) {
    std::vector<nlohmann::json> matching;
    for (const auto& record : records) {
        if (record.value("type", "") == type) matching.push_back(record);
    }
    return matching;
}

ScopedCgroup::ScopedCgroup(const std::string& prefix)
    : relative_(prefix + "-" + std::to_string(getpid())), absolute_(cgroup2_mount() + "/" + relative_) {
    if (mkdir(absolute_.c_str(), 0755) != 0 && errno != EEXIST) {
        throw std::runtime_error("mkdir " + absolute_ + ": " + std::strerror(errno));
    }
}

ScopedCgroup::~ScopedCgroup() {
    // The processes in it have exited by now (ChildProcess reaps); an empty cgroup can go.
    for (int attempt = 0; attempt < 50 && rmdir(absolute_.c_str()) != 0 && errno == EBUSY; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::vector<std::string> ScopedCgroup::exec(const std::vector<std::string>& command) const {
    std::vector<std::string> wrapped{"sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", absolute_ + "/cgroup.procs"};
    wrapped.insert(wrapped.end(), command.begin(), command.end());
    return wrapped;
}

std::optional<std::uint64_t> resident_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return std::nullopt;
}

BpfObjects loaded_bpf_objects() {
    BpfObjects objects;
    for (const auto& program : bpftool_list("prog")) objects.programs.insert(program["id"].get<std::uint32_t>());
    for (const auto& map : bpftool_list("map")) objects.maps.insert(map["id"].get<std::uint32_t>());
    for (const auto& link : bpftool_list("link")) objects.links.insert(link["id"].get<std::uint32_t>());
    return objects;
}

BpfObjects connsnoop_objects_since(const BpfObjects& before) {
    std::set<std::uint32_t> connsnoop_maps;
    for (const auto& map : bpftool_list("map")) {
        const auto id = map["id"].get<std::uint32_t>();
        const std::string name = map.value("name", "");
        if (!before.maps.contains(id) && (name.rfind("connsno", 0) == 0 || name == "events")) connsnoop_maps.insert(id);
    }
    BpfObjects objects;
    for (const auto& program : bpftool_list("prog")) {
        const auto id = program["id"].get<std::uint32_t>();
        if (before.programs.contains(id) || !program.contains("map_ids")) continue;
        const auto map_ids = program["map_ids"].get<std::vector<std::uint32_t>>();
        bool ours = false;
        for (auto map_id : map_ids) ours = ours || connsnoop_maps.contains(map_id);
        if (!ours) continue;
        objects.programs.insert(id);
        objects.maps.insert(map_ids.begin(), map_ids.end());
    }
    for (const auto& link : bpftool_list("link")) {
        if (link.contains("prog_id") && objects.programs.contains(link["prog_id"].get<std::uint32_t>())) {
            objects.links.insert(link["id"].get<std::uint32_t>());
        }
    }
    return objects;
}

BpfObjects still_loaded_after(const BpfObjects& objects, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto now = loaded_bpf_objects();
        BpfObjects remaining;
        for (auto id : objects.programs)
            if (now.programs.contains(id)) remaining.programs.insert(id);
        for (auto id : objects.maps)
            if (now.maps.contains(id)) remaining.maps.insert(id);
        for (auto id : objects.links)
            if (now.links.contains(id)) remaining.links.insert(id);
        const bool empty = remaining.programs.empty() && remaining.maps.empty() && remaining.links.empty();
        if (empty || std::chrono::steady_clock::now() >= deadline) return remaining;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::string connect_storm_binary() { return CONNECT_STORM_BINARY; }

}  // namespace connsnoop::testing
