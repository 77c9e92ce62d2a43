// Root integration tests for "who exactly": ancestry captured while the
// parents still ran, container/pod/unit from cgroup v2 paths of real
// processes placed in cgroups this test creates.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kContainerId = "3f4e2b8c9d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829304";
const std::string kOtherId = "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9";
const std::string kPodUid = "7f2c4b1e-9a3d-4c5e-8f6a-0b1c2d3e4f50";
const std::string kPodUidUnderscores = "7f2c4b1e_9a3d_4c5e_8f6a_0b1c2d3e4f50";

class IdentityTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates cgroups and a network namespace)";
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-who");
        server_ = start_standin_server(*namespace_, {"169.254.169.254:80"});
    }
    void TearDown() override {
        server_.reset();
        namespace_.reset();
        // Deepest first: a cgroup directory is removed with rmdir once empty.
        for (auto it = created_cgroups_.rbegin(); it != created_cgroups_.rend(); ++it) ::rmdir(it->c_str());
    }

    // The connect records of the run (the shared stop_and_parse gives every record).
    static std::vector<json> stop_and_parse_connects(ChildProcess& tracer) {
        std::vector<json> connects;
        for (auto& record : stop_and_parse(tracer)) {
            if (record["type"] == "connect") connects.push_back(std::move(record));
        }
        return connects;
    }

    // Creates <cgroup2 mount>/connsnoop-test-PID/<relative> and its parents.
    fs::path make_cgroup(const std::string& relative) {
        const auto mount = run_command({"findmnt", "-n", "-t", "cgroup2", "-o", "TARGET"});
        std::string root = mount.out.substr(0, mount.out.find('\n'));
        fs::path path = fs::path(root) / ("connsnoop-test-" + std::to_string(getpid()));
        if (created_cgroups_.empty()) {
            fs::create_directory(path);
            created_cgroups_.push_back(path);
        }
        for (const auto& part : fs::path(relative)) {
            path /= part;
            if (fs::create_directory(path)) created_cgroups_.push_back(path);
        }
        return path;
    }
    // A curl in the namespace that first moves itself into `cgroup`. The move
    // happens outside the namespace: `ip netns exec` mounts a fresh /sys,
    // which hides the cgroup2 mount.
    pid_t curl_in_cgroup(const fs::path& cgroup) {
        ChildProcess client({"sh", "-c",
                             "echo $$ > " + (cgroup / "cgroup.procs").string() + " && exec ip netns exec " +
                                 namespace_->name() +
                                 " curl -s -o /dev/null --max-time 5 http://169.254.169.254/latest/meta-data/"});
        const pid_t pid = client.pid();
        EXPECT_EQ(client.wait(15s), 0) << client.err();
        return pid;
    }

    std::unique_ptr<NetworkNamespace> namespace_;
    std::unique_ptr<ChildProcess> server_;
    std::vector<fs::path> created_cgroups_;
};

TEST_F(IdentityTest, AncestryNamesEveryLevelAlsoWhenTheyExitedBeforeTheEventWasRead) {
    auto tracer = start_connsnoop({"--imds", "-o", "json", "--ancestry", "3"});
    // Freeze connsnoop: the chain runs and exits completely before user space reads the event.
    tracer.send_signal(SIGSTOP);
    const std::string python_code =
        "import subprocess; subprocess.run(['curl', '-s', '-o', '/dev/null', "
        "'http://169.254.169.254/latest/meta-data/'])";
    const std::string shell_script = "/usr/bin/python3 -c \"" + python_code + "\"; exit $?";
    ChildProcess shell(namespace_->exec({"sh", "-c", shell_script}));
    ASSERT_EQ(shell.wait(15s), 0) << shell.err();
    tracer.send_signal(SIGCONT);

    const auto connects = stop_and_parse_connects(tracer);
    ASSERT_EQ(connects.size(), 1U) << tracer.out();
    const auto& event = connects[0];
    EXPECT_EQ(event["comm"], "curl");
    const auto& ancestry = event["ancestry"];
    ASSERT_EQ(ancestry.size(), 3U) << event.dump(2);
    EXPECT_EQ(ancestry[0]["pid"], event["ppid"]);
    EXPECT_EQ(ancestry[0]["comm"], "python3");
    EXPECT_EQ(ancestry[0]["cmdline"], "/usr/bin/python3 -c " + python_code);
    EXPECT_EQ(ancestry[0]["exited"], true);
    EXPECT_EQ(ancestry[1]["pid"], shell.pid());
    EXPECT_EQ(ancestry[1]["comm"], "sh");
    EXPECT_EQ(ancestry[1]["cmdline"], "sh -c " + shell_script);
    EXPECT_EQ(ancestry[1]["exited"], true);
    EXPECT_EQ(ancestry[2]["pid"], getpid());  // this test binary, still running
    EXPECT_EQ(ancestry[2]["exited"], false);
}

// exe is read from /proc after the event: a process that connected and then
// exec'd another program (a shell's last command, a dropper turning into
// something innocent) must not be named by that program.
TEST_F(IdentityTest, ExeNamesTheProgramThatConnectedNeverOneExecedLater) {
    auto tracer = start_connsnoop({"--imds", "-o", "json"});
    // Frozen: bash has connected and become sleep before its event is read.
    tracer.send_signal(SIGSTOP);
    ChildProcess bash(namespace_->exec({"bash", "-c", "exec 3<>/dev/tcp/169.254.169.254/80; exec sleep 2"}));
    ChildProcess python(namespace_->exec(
        {"/usr/bin/python3", "-c",
         "import socket, time; s = socket.create_connection(('169.254.169.254', 80)); time.sleep(2)"}));
    std::this_thread::sleep_for(800ms);
    tracer.send_signal(SIGCONT);

    const auto connects = stop_and_parse_connects(tracer);
    ASSERT_EQ(connects.size(), 2U) << tracer.out();
    for (const auto& event : connects) {
        if (event["pid"] == bash.pid()) {
            EXPECT_EQ(event["comm"], "bash");
            EXPECT_EQ(event["exe"], "") << "named after the program it exec'd into: " << event.dump();
        } else {
            EXPECT_EQ(event["pid"], python.pid());
            EXPECT_EQ(event["exe"], fs::canonical("/usr/bin/python3").string()) << event.dump();
        }
    }
    EXPECT_EQ(bash.wait(10s), 0);
    EXPECT_EQ(python.wait(10s), 0);
}

// --ancestry 2,short: two levels, each as pid and comm only.
TEST_F(IdentityTest, ShortAncestryWritesPidAndCommOnly) {
    auto tracer = start_connsnoop({"--imds", "-o", "json", "--ancestry", "2,short"});
    ChildProcess shell(namespace_->exec({"sh", "-c", "curl -s -o /dev/null http://169.254.169.254/; exit $?"}));
    ASSERT_EQ(shell.wait(15s), 0) << shell.err();
    const auto connects = stop_and_parse_connects(tracer);
    ASSERT_EQ(connects.size(), 1U) << tracer.out();
    const auto& ancestry = connects[0]["ancestry"];
    ASSERT_EQ(ancestry.size(), 2U) << connects[0].dump(2);
    EXPECT_EQ(ancestry[0], (nlohmann::json{{"pid", shell.pid()}, {"comm", "sh"}})) << ancestry.dump();
    std::string own_comm;
    std::getline(std::ifstream("/proc/self/comm"), own_comm);
    EXPECT_EQ(ancestry[1], (nlohmann::json{{"pid", getpid()}, {"comm", own_comm}})) << ancestry.dump();
}

TEST_F(IdentityTest, PidNamespaceShowsHostPidAndNamespacePid) {
    auto tracer = start_connsnoop({"--imds", "-o", "json"});
    // unshare forks: its child is PID 1 of a new PID namespace and execs curl.
    ChildProcess unshare(namespace_->exec(
        {"unshare", "--pid", "--fork", "curl", "-s", "-o", "/dev/null", "http://169.254.169.254/latest/meta-data/"}));
    ASSERT_EQ(unshare.wait(15s), 0) << unshare.err();
    const auto connects = stop_and_parse_connects(tracer);
    ASSERT_EQ(connects.size(), 1U) << tracer.out();
    const auto& event = connects[0];
    EXPECT_EQ(event["comm"], "curl");
    EXPECT_EQ(event["ppid"], unshare.pid());
    EXPECT_NE(event["pid"], 1);  // the host's view
    EXPECT_EQ(event["ns_pid"], 1);
    struct stat own_pidns {};
    ASSERT_EQ(::stat("/proc/self/ns/pid", &own_pidns), 0);
    EXPECT_NE(event["pidns"], static_cast<std::uint32_t>(own_pidns.st_ino));
    ASSERT_FALSE(event["ancestry"].empty());
    EXPECT_EQ(event["ancestry"][0]["pid"], unshare.pid());
    EXPECT_EQ(event["ancestry"][0]["comm"], "unshare");
}

TEST_F(IdentityTest, ProcessesOutsideContainersHaveTheSameNamespacePid) {
    auto tracer = start_connsnoop({"--imds", "-o", "json"});
    ChildProcess curl(namespace_->exec({"curl", "-s", "-o", "/dev/null", "http://169.254.169.254/latest/meta-data/"}));
    ASSERT_EQ(curl.wait(15s), 0);
    const auto connects = stop_and_parse_connects(tracer);
    ASSERT_EQ(connects.size(), 1U) << tracer.out();
    EXPECT_EQ(connects[0]["pid"], curl.pid());
    EXPECT_EQ(connects[0]["ns_pid"], curl.pid());
    struct stat own_pidns {};
    ASSERT_EQ(::stat("/proc/self/ns/pid", &own_pidns), 0);
    EXPECT_EQ(connects[0]["pidns"], static_cast<std::uint32_t>(own_pidns.st_ino));
}

TEST_F(IdentityTest, ContainerPodAndUnitComeFromTheCgroupPath) {
    const auto docker = make_cgroup("system.slice/docker-" + kContainerId + ".scope");
    const auto containerd = make_cgroup("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                                        kPodUidUnderscores + ".slice/cri-containerd-" + kOtherId + ".scope");
    const auto crio = make_cgroup("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
                                  kPodUidUnderscores + ".slice/crio-" + kContainerId + ".scope");
    const auto podman = make_cgroup("machine.slice/libpod-" + kOtherId + ".scope");
    const auto service = make_cgroup("system.slice/nginx.service");

    auto tracer = start_connsnoop({"--imds", "-o", "json"});
    std::map<pid_t, std::string> shape;
    shape[curl_in_cgroup(docker)] = "docker";
    shape[curl_in_cgroup(containerd)] = "containerd";
    shape[curl_in_cgroup(crio)] = "cri-o";
    shape[curl_in_cgroup(podman)] = "podman";
    shape[curl_in_cgroup(service)] = "service";
    const auto connects = stop_and_parse_connects(tracer);
    ASSERT_EQ(connects.size(), 5U) << tracer.out();

    const std::string prefix = "/connsnoop-test-" + std::to_string(getpid()) + "/";
    for (const auto& event : connects) {
        const auto& kind = shape.at(event["pid"].get<pid_t>());
        SCOPED_TRACE(kind);
        EXPECT_EQ(event["cgroup"].get<std::string>().rfind(prefix, 0), 0U) << event["cgroup"];
        if (kind == "docker") {
            EXPECT_EQ(event["container_id"], kContainerId);
            EXPECT_EQ(event["container_runtime"], "docker");
            EXPECT_EQ(event["unit"], "docker-" + kContainerId + ".scope");
            EXPECT_EQ(event["pod_uid"], "");
        } else if (kind == "containerd") {
            EXPECT_EQ(event["container_id"], kOtherId);
            EXPECT_EQ(event["container_runtime"], "containerd");
            EXPECT_EQ(event["pod_uid"], kPodUid);
            EXPECT_EQ(event["qos_class"], "burstable");
        } else if (kind == "cri-o") {
            EXPECT_EQ(event["container_id"], kContainerId);
            EXPECT_EQ(event["container_runtime"], "cri-o");
            EXPECT_EQ(event["pod_uid"], kPodUid);
            EXPECT_EQ(event["qos_class"], "besteffort");
        } else if (kind == "podman") {
            EXPECT_EQ(event["container_id"], kOtherId);
            EXPECT_EQ(event["container_runtime"], "podman");
        } else {
            EXPECT_EQ(event["container_id"], "");
            EXPECT_EQ(event["unit"], "nginx.service");
        }
    }

    // The user-space filters pick out exactly the matching processes.
    auto by_container = start_connsnoop({"--imds", "-o", "json", "--container", kOtherId.substr(0, 12)});
    const pid_t in_containerd = curl_in_cgroup(containerd);
    curl_in_cgroup(docker);
    const pid_t in_podman = curl_in_cgroup(podman);
    const auto filtered = stop_and_parse_connects(by_container);
    ASSERT_EQ(filtered.size(), 2U) << by_container.out();
    EXPECT_EQ(filtered[0]["pid"], in_containerd);
    EXPECT_EQ(filtered[1]["pid"], in_podman);

    auto by_unit = start_connsnoop({"--imds", "-o", "json", "--unit", "nginx.service"});
    curl_in_cgroup(docker);
    const pid_t in_service = curl_in_cgroup(service);
    const auto unit_filtered = stop_and_parse_connects(by_unit);
    ASSERT_EQ(unit_filtered.size(), 1U) << by_unit.out();
    EXPECT_EQ(unit_filtered[0]["pid"], in_service);
}

}  // namespace
}  // namespace connsnoop::testing
