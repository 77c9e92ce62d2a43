// Root integration tests for running connsnoop on a fleet: a real Prometheus
// scraping it, log rotation of --output, and the deploy/ files checked by
// the tools that consume them.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// A port nobody listens on right now (bind to 0, read it, close).
std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), length);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

class FleetTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-fleet");
        server_ = start_standin_server(*namespace_, {"169.254.169.254:80", "[fd00:ec2::254]:80"});
        work_dir_ = fs::temp_directory_path() / ("connsnoop-fleet-" + std::to_string(getpid()));
        fs::create_directories(work_dir_);
    }
    void TearDown() override {
        server_.reset();
        namespace_.reset();
        if (!work_dir_.empty()) fs::remove_all(work_dir_);
    }

    void run_in_namespace(std::vector<std::string> command) const {
        const auto result = run_command(namespace_->exec(std::move(command)));
        EXPECT_EQ(result.status, 0) << result.err;
    }

    std::unique_ptr<NetworkNamespace> namespace_;
    std::unique_ptr<ChildProcess> server_;
    fs::path work_dir_;
};

TEST_F(FleetTest, PrometheusScrapesCountersEqualToTheConnectionsMade) {
    auto tracer = start_connsnoop({"--imds", "--quiet", "--metrics", "127.0.0.1:0"});
    ASSERT_TRUE(tracer.wait_for_stderr("/metrics\n", 5s)) << tracer.err();
    std::smatch match;
    const std::string stderr_text = tracer.err();
    ASSERT_TRUE(std::regex_search(stderr_text, match, std::regex(R"(metrics at http://127\.0\.0\.1:(\d+)/metrics)")));
    const std::string metrics_port = match[1];

    // The workload: 2 curl processes, one Python process with 3 connections, one Perl with 5.
    run_in_namespace({"curl", "-s", "-o", "/dev/null", "http://169.254.169.254/latest/meta-data/"});
    run_in_namespace({"curl", "-s", "-g", "-o", "/dev/null", "http://[fd00:ec2::254]/latest/meta-data/"});
    run_in_namespace({"/usr/bin/python3", "-c",
                      "import socket\nfor _ in range(3): socket.create_connection(('169.254.169.254', 80)).close()"});
    run_in_namespace({"perl", "-MIO::Socket::INET", "-e",
                      "IO::Socket::INET->new(PeerAddr => '169.254.169.254', PeerPort => 80) or die for 1..5"});

    // The exposition itself passes promtool.
    const auto scraped = run_command({"curl", "-s", "http://127.0.0.1:" + metrics_port + "/metrics"});
    ASSERT_EQ(scraped.status, 0);
    const fs::path exposition = work_dir_ / "exposition.txt";
    std::ofstream(exposition) << scraped.out;
    const auto check = run_command({"sh", "-c", "promtool check metrics < " + exposition.string()});
    EXPECT_EQ(check.status, 0) << check.out << check.err << scraped.out;

    // A real Prometheus, on loopback only, scraping every second.
    const auto prometheus_port = std::to_string(free_loopback_port());
    std::ofstream(work_dir_ / "prometheus.yml") << "global:\n  scrape_interval: 1s\nscrape_configs:\n"
                                                   "  - job_name: connsnoop\n    static_configs:\n"
                                                   "      - targets: ['127.0.0.1:"
                                                << metrics_port << "']\n";
    ChildProcess prometheus({"prometheus", "--config.file=" + (work_dir_ / "prometheus.yml").string(),
                             "--storage.tsdb.path=" + (work_dir_ / "tsdb").string(),
                             "--web.listen-address=127.0.0.1:" + prometheus_port});
    const std::map<std::string, double> expected{{"curl", 2}, {"perl", 5}, {"python3", 3}};
    std::map<std::string, double> by_comm;
    const std::string query = "http://127.0.0.1:" + prometheus_port +
                              "/api/v1/query?query=sum%20by%20(comm)%20(connsnoop_connect_attempts_total)";
    for (int attempt = 0; attempt < 120 && by_comm != expected; ++attempt) {
        std::this_thread::sleep_for(500ms);
        const auto answer = run_command({"curl", "-s", query});
        const auto parsed = json::parse(answer.out, nullptr, false);
        if (parsed.is_discarded() || parsed.value("status", "") != "success") continue;
        by_comm.clear();
        for (const auto& sample : parsed["data"]["result"]) {
            by_comm[sample["metric"].value("comm", "")] = std::stod(sample["value"][1].get<std::string>());
        }
    }
    // Scrapes every second; a loaded machine may need a while before the first one lands.
    EXPECT_EQ(by_comm, expected);

    tracer.send_signal(SIGTERM);
    EXPECT_EQ(tracer.wait(10s), 0) << tracer.err();
    EXPECT_EQ(tracer.out(), "") << "--quiet writes no events";
}

TEST_F(FleetTest, ImdsRequestsAreCountedByVersion) {
    auto tracer = start_connsnoop({"--imds", "--http", "--quiet", "--metrics", "127.0.0.1:0"});
    ASSERT_TRUE(tracer.wait_for_stderr("/metrics\n", 5s)) << tracer.err();
    std::smatch match;
    const std::string stderr_text = tracer.err();
    ASSERT_TRUE(std::regex_search(stderr_text, match, std::regex(R"(metrics at (http://127\.0\.0\.1:\d+/metrics))")));
    const std::string base = "http://169.254.169.254/latest";
    run_in_namespace({"curl", "-s", "-o", "/dev/null", base + "/meta-data/"});  // v1
    run_in_namespace({"sh", "-c",
                      "t=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' " + base +
                          "/api/token) && echo \"X-aws-ec2-metadata-token: $t\" | curl -s -o /dev/null -H @- " + base +
                          "/meta-data/"});  // v2: token, then a GET with it
    std::this_thread::sleep_for(500ms);
    const auto scraped = run_command({"curl", "-s", match[1].str()});
    ASSERT_EQ(scraped.status, 0);
    for (
        const char* line :
        {R"(connsnoop_imds_requests_total{comm="curl",daddr="169.254.169.254/32",dport="80",version="imdsv1"} 1)",
         R"(connsnoop_imds_requests_total{comm="curl",daddr="169.254.169.254/32",dport="80",version="imdsv2-token"} 1)",
         R"(connsnoop_imds_requests_total{comm="curl",daddr="169.254.169.254/32",dport="80",version="imdsv2"} 1)"}) {
        EXPECT_NE(scraped.out.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << scraped.out;
    }
    tracer.send_signal(SIGTERM);
    EXPECT_EQ(tracer.wait(10s), 0) << tracer.err();
}

// The URL connsnoop printed on stderr for its /metrics.
std::string metrics_url(ChildProcess& tracer) {
    EXPECT_TRUE(tracer.wait_for_stderr("/metrics\n", 5s)) << tracer.err();
    std::smatch match;
    const std::string stderr_text = tracer.err();
    if (!std::regex_search(stderr_text, match, std::regex(R"(metrics at (http://127\.0\.0\.1:\d+/metrics))")))
        return "";
    return match[1];
}

TEST_F(FleetTest, SecondExporterOnTheSamePortFailsAtStart) {
    const auto port = std::to_string(free_loopback_port());
    auto first = start_connsnoop({"--imds", "--quiet", "--metrics", "127.0.0.1:" + port});
    const auto url = metrics_url(first);
    const auto second =
        run_command({connsnoop_binary(), "--imds", "--quiet", "--metrics", "127.0.0.1:" + port, "--duration", "3"});
    EXPECT_EQ(second.status, 1) << second.err;
    EXPECT_NE(second.err.find("connsnoop: error: --metrics: cannot listen on 127.0.0.1:" + port +
                              ": address already in use\n"),
              std::string::npos)
        << second.err;
    EXPECT_EQ(run_command({"curl", "-s", "-o", "/dev/null", url}).status, 0) << "the first one still serves";
    first.send_signal(SIGTERM);
    EXPECT_EQ(first.wait(10s), 0) << first.err();
}

TEST_F(FleetTest, ProgramsAttachedCountsEveryHook) {
    // The state hook; cgroup/connect4, connect6 and tcp_destroy_sock for
    // outcomes; cgroup_skb/egress for HTTP; the exec hook of ancestry.
    auto all = start_connsnoop({"--imds", "--http", "--outcome", "--quiet", "--metrics", "127.0.0.1:0"});
    const auto all_scrape = run_command({"curl", "-s", metrics_url(all)});
    EXPECT_NE(all_scrape.out.find("\nconnsnoop_programs_attached 6\n"), std::string::npos) << all_scrape.out;
    all.send_signal(SIGTERM);
    EXPECT_EQ(all.wait(10s), 0) << all.err();

    auto one = start_connsnoop({"--imds", "--ancestry", "0", "--quiet", "--metrics", "127.0.0.1:0"});
    const auto one_scrape = run_command({"curl", "-s", metrics_url(one)});
    EXPECT_NE(one_scrape.out.find("\nconnsnoop_programs_attached 1\n"), std::string::npos) << one_scrape.out;
    one.send_signal(SIGTERM);
    EXPECT_EQ(one.wait(10s), 0) << one.err();
}

// top's exporter reports the same health as the stream's: the exec hook of
// ancestry is one of the programs attached.
TEST_F(FleetTest, ProgramsAttachedInTopCountsTheExecHookToo) {
    auto top = start_connsnoop({"top", "--imds", "--outcome", "--quiet", "--metrics", "127.0.0.1:0"});
    const auto scrape = run_command({"curl", "-s", metrics_url(top)});
    // the state hook, cgroup/connect4 and connect6, tcp_destroy_sock, the exec hook
    EXPECT_NE(scrape.out.find("\nconnsnoop_programs_attached 5\n"), std::string::npos) << scrape.out;
    top.send_signal(SIGTERM);
    EXPECT_EQ(top.wait(10s), 0) << top.err();
}

TEST_F(FleetTest, HostileCommReachesNoScrapeRaw) {
    auto tracer = start_connsnoop({"--imds", "--quiet", "--metrics", "127.0.0.1:0"});
    const auto url = metrics_url(tracer);
    // Perl sets the comm from $0 too: a quote, a backslash, a newline, ESC and an invalid byte.
    run_in_namespace({"perl", "-MIO::Socket::INET", "-e",
                      "$0 = qq(q\"b\\\\c\\nx\\e[31m\\xff); IO::Socket::INET->new('169.254.169.254:80') or die"});
    std::this_thread::sleep_for(500ms);
    const auto scraped = run_command({"curl", "-s", url});
    EXPECT_EQ(scraped.out.find('\x1b'), std::string::npos) << scraped.out;
    EXPECT_NE(scraped.out.find(R"(connsnoop_connect_attempts_total{comm="q\"b\\\\c\\x0ax\\x1b[31m\\xff",)"),
              std::string::npos)
        << scraped.out;
    const fs::path exposition = work_dir_ / "exposition.txt";
    std::ofstream(exposition) << scraped.out;
    const auto check = run_command({"sh", "-c", "promtool check metrics < " + exposition.string()});
    EXPECT_EQ(check.status, 0) << check.out << check.err << scraped.out;
    tracer.send_signal(SIGTERM);
    EXPECT_EQ(tracer.wait(10s), 0) << tracer.err();
}

// --output on a full disk: lines that do not fit are dropped whole and
// counted, tracing and metrics go on, and writing resumes with a
// `lost_output` record once space returns.
TEST_F(FleetTest, FullDiskDropsWholeLinesCountsThemAndResumes) {
    const fs::path mount_point = work_dir_ / "small";
    fs::create_directories(mount_point);
    ASSERT_EQ(run_command({"mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount_point.string()}).status, 0);
    struct Unmount {
        fs::path path;
        ~Unmount() { run_command({"umount", "-l", path.string()}); }
    } unmount{mount_point};
    const fs::path log = mount_point / "events.json";

    auto tracer = start_connsnoop({"--imds", "--output", log.string(), "--metrics", "127.0.0.1:0"});
    const auto url = metrics_url(tracer);
    const auto connect = [&](int count) {
        run_in_namespace({CONNECT_STORM_BINARY, "--connect", "169.254.169.254:80", "--count", std::to_string(count),
                          "--rate", "200"});
        std::this_thread::sleep_for(500ms);
    };
    connect(3);
    // Fill what is left; the events file keeps whatever page it already has.
    run_command({"dd", "if=/dev/zero", "of=" + (mount_point / "fill").string(), "bs=4k"});
    connect(40);  // far more than the file's last page can take
    const auto scraped = run_command({"curl", "-s", url});
    ASSERT_EQ(scraped.status, 0) << "metrics still served on a full disk";
    std::smatch lost_metric;
    ASSERT_TRUE(
        std::regex_search(scraped.out, lost_metric, std::regex(R"(\nconnsnoop_output_lines_lost_total (\d+)\n)")))
        << scraped.out;
    const auto lost_while_full = std::stoull(lost_metric[1]);
    EXPECT_GT(lost_while_full, 0U);

    fs::remove(mount_point / "fill");
    connect(5);
    tracer.send_signal(SIGTERM);
    ASSERT_EQ(tracer.wait(10s), 0) << tracer.err();

    std::size_t connects = 0;
    std::uint64_t reported_lost = 0;
    json summary;
    std::istringstream lines(read_file(log));
    for (std::string line; std::getline(lines, line);) {
        const auto record = json::parse(line, nullptr, false);
        ASSERT_FALSE(record.is_discarded()) << "a partial line: " << line;
        if (record["type"] == "connect") ++connects;
        if (record["type"] == "lost_output") {
            reported_lost += record["count"].get<std::uint64_t>();
            EXPECT_EQ(record["error"], "No space left on device");
        }
        if (record["type"] == "summary") summary = record;
    }
    EXPECT_EQ(read_file(log).back(), '\n');
    EXPECT_EQ(reported_lost, lost_while_full);
    EXPECT_EQ(connects + reported_lost, 48U) << "every connection is written or counted";
    EXPECT_EQ(summary["events"], 48);
    EXPECT_EQ(summary["lost_output"], lost_while_full);
    EXPECT_NE(tracer.err().find(std::to_string(lost_while_full) + " lines not written to --output"), std::string::npos)
        << tracer.err();
}

TEST_F(FleetTest, SighupReopensOutputWithoutLosingOrDuplicatingEvents) {
    const fs::path log = work_dir_ / "events.json";
    auto tracer = start_connsnoop({"--imds", "--output", log.string()});
    ChildProcess load(
        namespace_->exec({CONNECT_STORM_BINARY, "--connect", "169.254.169.254:80", "--count", "60", "--rate", "30"}));
    std::this_thread::sleep_for(1s);
    fs::rename(log, work_dir_ / "events.json.1");  // what logrotate does
    tracer.send_signal(SIGHUP);
    ASSERT_EQ(load.wait(20s), 0) << load.err();
    std::this_thread::sleep_for(300ms);
    tracer.send_signal(SIGINT);
    ASSERT_EQ(tracer.wait(10s), 0) << tracer.err();

    std::vector<std::string> times;
    std::set<std::uint32_t> worker_pids;
    std::size_t rotated_events = 0;
    for (const auto& file : {work_dir_ / "events.json.1", log}) {
        std::istringstream lines(read_file(file));
        for (std::string line; std::getline(lines, line);) {
            const auto record = json::parse(line);
            if (record["type"] != "connect") continue;
            EXPECT_EQ(record["ppid"], load.pid()) << "events come from connect-storm's worker";
            worker_pids.insert(record["pid"].get<std::uint32_t>());
            times.push_back(record["time"]);
            if (file != log) ++rotated_events;
        }
    }
    EXPECT_EQ(times.size(), 60U);
    EXPECT_EQ(worker_pids.size(), 1U);
    EXPECT_GT(rotated_events, 0U);
    EXPECT_LT(rotated_events, 60U);
    EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
    EXPECT_EQ(std::adjacent_find(times.begin(), times.end()), times.end()) << "a duplicated event";
    EXPECT_NE(read_file(log).find("\"type\":\"summary\""), std::string::npos);
}

TEST(DeployFiles, AlertRuleAndSystemdUnitPassTheirCheckers) {
    const fs::path deploy = fs::path(CONNSNOOP_SOURCE_DIR) / "deploy";
    const auto rules =
        run_command({"promtool", "check", "rules", (deploy / "prometheus/connsnoop-alerts.yml").string()});
    EXPECT_EQ(rules.status, 0) << rules.out << rules.err;
    EXPECT_NE(rules.out.find("SUCCESS: 2 rules found"), std::string::npos) << rules.out;
    const auto config = run_command({"promtool", "check", "config", (deploy / "prometheus/scrape.yml").string()});
    EXPECT_EQ(config.status, 0) << config.out << config.err;

    // The unit as installed, pointed at the binary under test.
    const fs::path unit = fs::temp_directory_path() / ("connsnoop-" + std::to_string(getpid()) + ".service");
    std::string text = read_file(deploy / "systemd/connsnoop.service");
    text = std::regex_replace(text, std::regex("/usr/local/bin/connsnoop"), connsnoop_binary());
    std::ofstream(unit) << text;
    const auto verify = run_command({"systemd-analyze", "verify", unit.string()});
    fs::remove(unit);
    EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
}

TEST(DeployFiles, DaemonSetHasWhatConnsnoopNeeds) {
    const auto manifest = (fs::path(CONNSNOOP_SOURCE_DIR) / "deploy/kubernetes/daemonset.yaml").string();
    // Parsed with a real YAML parser, checked field by field.
    const auto result = run_command({"/usr/bin/python3", "-c",
                                     "import sys, yaml\n"
                                     "d = yaml.safe_load(open(sys.argv[1]))\n"
                                     "assert d['kind'] == 'DaemonSet' and d['apiVersion'] == 'apps/v1'\n"
                                     "spec = d['spec']['template']['spec']\n"
                                     "assert spec['hostPID'] is True\n"
                                     "c = spec['containers'][0]\n"
                                     "assert set(c['securityContext']['capabilities']['add']) == {'BPF', 'PERFMON'}\n"
                                     "assert any(p['containerPort'] == 9464 for p in c['ports'])\n"
                                     "assert '--metrics' in c['args']\n"
                                     "mounts = {m['mountPath'] for m in c['volumeMounts']}\n"
                                     "assert {'/sys/fs/cgroup', '/sys/kernel/btf'} <= mounts\n"
                                     "print('ok')\n",
                                     manifest});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "ok\n");
}

TEST(DeployFiles, UnitCapabilitiesAreEnoughToTrace) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to drop to an unprivileged user";
    const std::string unit = read_file(fs::path(CONNSNOOP_SOURCE_DIR) / "deploy/systemd/connsnoop.service");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(unit, match, std::regex("AmbientCapabilities=(.*)\n")));
    std::string caps = "-all";
    std::istringstream names(match[1].str());
    for (std::string name; names >> name;) caps += ",+" + name.substr(4);  // CAP_BPF -> +bpf
    std::transform(caps.begin(), caps.end(), caps.begin(), [](unsigned char c) { return std::tolower(c); });
    // An unprivileged user holding exactly the unit's capabilities starts tracing.
    const auto result = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                     "--inh-caps=" + caps, "--ambient-caps=" + caps, "--bounding-set=" + caps,
                                     connsnoop_binary(), "--imds", "--duration", "0.5"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_NE(result.err.find("tracing TCP connects"), std::string::npos) << result.err;
    // Without CAP_SYS_PTRACE, /proc/PID/exe of others cannot be read: said once where exe is shown.
    const auto json_run = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                       "--inh-caps=" + caps, "--ambient-caps=" + caps, "--bounding-set=" + caps,
                                       connsnoop_binary(), "--imds", "-o", "json", "--duration", "0.5"});
    EXPECT_EQ(json_run.status, 0) << json_run.err;
    EXPECT_NE(json_run.err.find("connsnoop: warning: exe will be empty for processes of other users: reading "
                                "/proc/PID/exe needs CAP_SYS_PTRACE"),
              std::string::npos)
        << json_run.err;
    EXPECT_EQ(result.err.find("warning: exe"), std::string::npos) << "the table does not show exe";
}

}  // namespace
}  // namespace connsnoop::testing
