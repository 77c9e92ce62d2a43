// Root tests of `connsnoop linklocal`: two private network namespaces joined
// by a veth pair, stand-in link-local services on the far side, clients on
// the near side; every process's packets and bytes, both ways, must equal
// what tcpdump captured on the near end of the veth.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::vector<std::string> kServiceAddresses = {"169.254.169.254", "169.254.169.253", "169.254.169.123",
                                                    "fd00:ec2::254",   "fd00:ec2::253",   "fd00:ec2::123"};

struct Flow {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    bool operator==(const Flow&) const = default;
};
struct Traffic {
    Flow sent;
    Flow received;
    bool operator==(const Traffic&) const = default;
};
std::ostream& operator<<(std::ostream& out, const Traffic& traffic) {
    return out << "sent " << traffic.sent.packets << " packets/" << traffic.sent.bytes << " bytes, received "
               << traffic.received.packets << " packets/" << traffic.received.bytes << " bytes";
}

// (family 4|6, IP protocol, local port): what ties a captured packet to the client that used the port.
using LocalEndpoint = std::tuple<int, int, std::uint16_t>;

// Every IP packet to or from a service address in a pcap file (Ethernet
// link type), credited to the local endpoint it belongs to; bytes are IP
// packet lengths, as connsnoop counts them.
std::map<LocalEndpoint, Traffic> read_capture(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::map<LocalEndpoint, Traffic> traffic;
    if (data.size() < 24) {
        ADD_FAILURE() << "no pcap in " << path;
        return traffic;
    }
    std::set<std::string> services;
    for (const auto& address : kServiceAddresses) {
        std::array<unsigned char, 16> bytes{};
        const bool v6 = address.find(':') != std::string::npos;
        inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), bytes.data());
        services.insert(std::string(reinterpret_cast<const char*>(bytes.data()), v6 ? 16 : 4));
    }
    const auto u16 = [](const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); };
    std::size_t offset = 24;
    while (offset + 16 <= data.size()) {
        std::uint32_t captured = 0;
        std::memcpy(&captured, data.data() + offset + 8, 4);
        const auto* packet = reinterpret_cast<const unsigned char*>(data.data() + offset + 16);
        offset += 16 + captured;
        if (offset > data.size() || captured < 14 + 40) continue;
        const std::uint16_t ethertype = u16(packet + 12);
        const unsigned char* ip = packet + 14;
        int family = 0;
        int protocol = 0;
        std::uint64_t length = 0;
        std::string source;
        std::string destination;
        const unsigned char* transport = nullptr;
        if (ethertype == 0x0800) {
            family = 4;
            protocol = ip[9];
            length = u16(ip + 2);
            source.assign(reinterpret_cast<const char*>(ip + 12), 4);
            destination.assign(reinterpret_cast<const char*>(ip + 16), 4);
            transport = ip + (ip[0] & 0x0f) * 4;
        } else if (ethertype == 0x86dd) {
            family = 6;
            protocol = ip[6];
            length = u16(ip + 4) + 40ULL;
            source.assign(reinterpret_cast<const char*>(ip + 8), 16);
            destination.assign(reinterpret_cast<const char*>(ip + 24), 16);
            transport = ip + 40;
        } else {
            continue;
        }
        if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) continue;
        if (services.contains(destination)) {
            auto& flow = traffic[{family, protocol, u16(transport)}].sent;
            ++flow.packets;
            flow.bytes += length;
        } else if (services.contains(source)) {
            auto& flow = traffic[{family, protocol, u16(transport + 2)}].received;
            ++flow.packets;
            flow.bytes += length;
        }
    }
    return traffic;
}

// One client of the workload and what it is.
struct Client {
    std::string role;  // dns-flood, poll, ntp
    int count;
    std::string address;
    int protocol;
    std::unique_ptr<ChildProcess> process;
    std::vector<std::uint16_t> ports;
};

class LinklocalTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        near_ = std::make_unique<NetworkNamespace>("connsnoop-llnear");
        far_ = std::make_unique<NetworkNamespace>("connsnoop-llfar");
        const std::string id = std::to_string(getpid());
        near_veth_ = "cll" + id + "a";
        const std::string far_veth = "cll" + id + "b";
        near_->run({"ip", "link", "add", near_veth_, "type", "veth", "peer", "name", far_veth, "netns", far_->name()});
        // The near side reaches the services through the veth, never its own loopback.
        for (const auto& address : {"169.254.169.254/32", "169.254.169.253/32"})
            near_->run({"ip", "addr", "del", address, "dev", "lo"});
        near_->run({"ip", "-6", "addr", "del", "fd00:ec2::254/128", "dev", "lo"});
        near_->run({"ip", "addr", "add", "10.254.0.1/24", "dev", near_veth_});
        near_->run({"ip", "-6", "addr", "add", "fd00:77::1/64", "dev", near_veth_, "nodad"});
        near_->run({"ip", "link", "set", near_veth_, "up"});
        near_->run({"ip", "route", "add", "169.254.169.0/24", "via", "10.254.0.2"});
        near_->run({"ip", "-6", "route", "add", "fd00:ec2::/64", "via", "fd00:77::2"});
        far_->run({"ip", "addr", "add", "10.254.0.2/24", "dev", far_veth});
        far_->run({"ip", "-6", "addr", "add", "fd00:77::2/64", "dev", far_veth, "nodad"});
        far_->run({"ip", "link", "set", far_veth, "up"});
        far_->run({"ip", "addr", "add", "169.254.169.123/32", "dev", "lo"});
        for (const auto& address : {"fd00:ec2::253/128", "fd00:ec2::123/128"})
            far_->run({"ip", "-6", "addr", "add", address, "dev", "lo", "nodad"});
        std::vector<std::string> peer{"python3", support_dir() + "/linklocal_peer.py"};
        peer.insert(peer.end(), kServiceAddresses.begin(), kServiceAddresses.end());
        peer_ = std::make_unique<ChildProcess>(far_->exec(peer));
        EXPECT_TRUE(peer_->wait_for_stdout("ready", 10s)) << peer_->err();
        // Neighbour discovery before anything is measured: its packets are not to a service, but take no chances.
        run_client("poll", 1, "169.254.169.254");
        run_client("poll", 1, "fd00:ec2::254");
    }
    static void TearDownTestSuite() {
        peer_.reset();
        far_.reset();
        near_.reset();
    }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates network namespaces)";
    }

    // `names`: dns-flood's query names, in turn (else one name per query).
    static Client run_client(const std::string& role, int count, const std::string& address,
                             const std::vector<std::string>& names = {}) {
        Client client{role, count, address, role == "poll" ? IPPROTO_TCP : IPPROTO_UDP, nullptr, {}};
        std::vector<std::string> command{"python3", support_dir() + "/linklocal_client.py", role, std::to_string(count),
                                         address};
        command.insert(command.end(), names.begin(), names.end());
        client.process = std::make_unique<ChildProcess>(near_->exec(command));
        EXPECT_EQ(client.process->wait(60s), 0) << client.process->err();
        std::istringstream out(client.process->out());
        std::string word;
        out >> word;
        EXPECT_EQ(word, "ports") << client.process->out();
        for (int port = 0; out >> word && word != "done";) {
            port = std::stoi(word);
            client.ports.push_back(static_cast<std::uint16_t>(port));
        }
        return client;
    }

    static ChildProcess start_linklocal(std::vector<std::string> args) {
        args.insert(args.begin(), "linklocal");
        ChildProcess tracer(connsnoop_command(args));
        EXPECT_TRUE(tracer.wait_for_stderr("counting link-local packets", 10s)) << tracer.err();
        return tracer;
    }

    static std::unique_ptr<NetworkNamespace> near_;
    static std::unique_ptr<NetworkNamespace> far_;
    static std::unique_ptr<ChildProcess> peer_;
    static std::string near_veth_;
};

std::unique_ptr<NetworkNamespace> LinklocalTest::near_;
std::unique_ptr<NetworkNamespace> LinklocalTest::far_;
std::unique_ptr<ChildProcess> LinklocalTest::peer_;
std::string LinklocalTest::near_veth_;

// Per process, summed over every interval record: sent and received packets and bytes.
std::map<std::uint32_t, Traffic> counted_per_pid(const std::vector<json>& records, std::uint64_t* unknown_packets) {
    std::map<std::uint32_t, Traffic> counted;
    for (const auto& record : records) {
        if (record.value("type", "") != "linklocal") continue;
        for (const auto& row : record["rows"]) {
            if (!row["owner_known"].get<bool>()) {
                *unknown_packets +=
                    row["sent_packets"].get<std::uint64_t>() + row["received_packets"].get<std::uint64_t>();
                continue;
            }
            auto& traffic = counted[row["pid"].get<std::uint32_t>()];
            traffic.sent.packets += row["sent_packets"].get<std::uint64_t>();
            traffic.sent.bytes += row["sent_bytes"].get<std::uint64_t>();
            traffic.received.packets += row["received_packets"].get<std::uint64_t>();
            traffic.received.bytes += row["received_bytes"].get<std::uint64_t>();
        }
    }
    return counted;
}

// The workload of the issue: a DNS flooder, metadata pollers (IPv4 and
// IPv6), an NTP-style client, a small IPv6 resolver client; counted per
// process against tcpdump, and --alert names the flooder alone.
TEST_F(LinklocalTest, CountsEachProcessExactlyAsTcpdumpSawIt) {
    char capture_path[] = "/tmp/connsnoop-linklocal-XXXXXX";
    const int capture_fd = mkstemp(capture_path);
    ASSERT_GE(capture_fd, 0);
    close(capture_fd);
    ChildProcess tcpdump(
        near_->exec({"tcpdump", "-i", near_veth_, "-n", "-U", "-s", "256", "-w", capture_path, "ip or ip6"}));
    ASSERT_TRUE(tcpdump.wait_for_stderr("listening on", 10s)) << tcpdump.err();

    // Budget 1024 pps, alert at 25%: 256 packets sent in one second.
    auto tracer = start_linklocal({"-o", "json", "--interval", "1", "--alert", "25"});

    // The small clients first, together far below the alert line ...
    std::vector<Client> clients;
    clients.push_back(run_client("poll", 5, "169.254.169.254"));
    clients.push_back(run_client("poll", 5, "fd00:ec2::254"));
    clients.push_back(run_client("ntp", 20, "fd00:ec2::123"));
    clients.push_back(run_client("ntp", 10, "169.254.169.123"));
    clients.push_back(run_client("dns-flood", 20, "fd00:ec2::253"));
    std::this_thread::sleep_for(1500ms);
    // ... then the flood: thousands of queries as fast as answers come.
    clients.push_back(run_client("dns-flood", 3000, "169.254.169.253"));
    std::this_thread::sleep_for(1500ms);

    tcpdump.send_signal(SIGINT);
    EXPECT_EQ(tcpdump.wait(10s), 0) << tcpdump.err();
    const auto records = stop_and_parse(tracer);
    const auto captured = read_capture(capture_path);
    std::remove(capture_path);

    std::uint64_t unknown_packets = 0;
    const auto counted = counted_per_pid(records, &unknown_packets);
    EXPECT_EQ(unknown_packets, 0U) << "every socket was opened while connsnoop ran";
    std::set<std::uint32_t> client_pids;
    for (const auto& client : clients) {
        const auto pid = static_cast<std::uint32_t>(client.process->pid());
        client_pids.insert(pid);
        Traffic expected;
        for (auto port : client.ports) {
            const LocalEndpoint endpoint{client.address.find(':') != std::string::npos ? 6 : 4, client.protocol, port};
            if (auto found = captured.find(endpoint); found != captured.end()) {
                expected.sent.packets += found->second.sent.packets;
                expected.sent.bytes += found->second.sent.bytes;
                expected.received.packets += found->second.received.packets;
                expected.received.bytes += found->second.received.bytes;
            }
        }
        ASSERT_GT(expected.sent.packets, 0U) << client.role << " " << client.address << ": nothing captured";
        const auto found = counted.find(pid);
        ASSERT_NE(found, counted.end()) << client.role << " " << client.address << " (pid " << pid
                                        << ") was not counted";
        EXPECT_EQ(found->second, expected) << client.role << " " << client.count << " to " << client.address;
    }
    for (const auto& [pid, traffic] : counted)
        EXPECT_TRUE(client_pids.contains(pid)) << "pid " << pid << " counted but not a client: " << traffic;

    // The alert fired, and named the flooder and no one else.
    const auto flooder = static_cast<std::uint32_t>(clients.back().process->pid());
    int firing = 0;
    for (const auto& record : records) {
        if (record.value("type", "") != "linklocal_alert" || record["state"] != "firing") continue;
        ++firing;
        ASSERT_EQ(record["spenders"].size(), 1U) << record.dump();
        EXPECT_EQ(record["spenders"][0]["key"].get<std::uint32_t>(), flooder) << record.dump();
        EXPECT_EQ(record["spenders"][0]["comm"], "python3") << record.dump();
    }
    EXPECT_EQ(firing, 1) << tracer.out();
}

// --by qname: the flooder's and a second client's queries, by name, exactly
// as sent, with an untrusted name in zone-file form (escaped once), beside
// the packet counters' host total (one datagram per query).
TEST_F(LinklocalTest, ByQnameCountsEachNameExactly) {
    auto tracer = start_linklocal({"--by", "qname", "-o", "json", "--interval", "1", "--alert", "25"});
    const std::string odd = "we\\ird x";  // a backslash and a space inside one label
    std::vector<Client> clients;
    clients.push_back(run_client("dns-flood", 900, "169.254.169.253", {"flood.example", "api.example", odd + ".test"}));
    clients.push_back(run_client("dns-flood", 40, "fd00:ec2::253", {"api.example"}));
    std::this_thread::sleep_for(1500ms);
    const auto records = stop_and_parse(tracer);

    std::map<std::string, std::uint64_t> counted;
    std::map<std::string, std::map<std::string, std::uint64_t>> by_service;
    std::uint64_t query_total = 0;
    std::uint64_t sent_packets = 0;
    for (const auto& record : records) {
        if (record.value("type", "") != "linklocal") continue;
        EXPECT_EQ(record["group_by"], "qname") << record.dump();
        EXPECT_TRUE(record["rows"].empty()) << record.dump();
        query_total += record["query_total"].get<std::uint64_t>();
        sent_packets += record["total"]["sent_packets"].get<std::uint64_t>();
        for (const auto& row : record["queries"]) {
            const auto name = row["qname"].get<std::string>();
            counted[name] += row["queries"].get<std::uint64_t>();
            for (const auto& service : row["services"])
                by_service[name][service["service"].get<std::string>()] += service["queries"].get<std::uint64_t>();
        }
    }
    const std::string odd_text = R"(we\\ird\032x.test)";  // zone-file form: \\ and \032, no more
    const std::map<std::string, std::uint64_t> expected = {
        {"flood.example", 300}, {"api.example", 340}, {odd_text, 300}};
    EXPECT_EQ(counted, expected) << tracer.out();
    EXPECT_EQ(query_total, 940U);
    EXPECT_EQ(sent_packets, 940U) << "each query is one packet of the budget, and nothing else was sent";
    const std::map<std::string, std::uint64_t> api_services = {{"dns", 340}};
    EXPECT_EQ(by_service["api.example"], api_services) << "both resolver addresses are the dns service";
    // The JSON text carries the name with JSON's escaping alone.
    EXPECT_NE(tracer.out().find(R"("qname":"we\\\\ird\\032x.test")"), std::string::npos) << tracer.out();

    // The alert names the query names that spent the budget.
    int firing = 0;
    for (const auto& record : records) {
        if (record.value("type", "") != "linklocal_alert" || record["state"] != "firing") continue;
        ++firing;
        ASSERT_FALSE(record["spenders"].empty()) << record.dump();
        EXPECT_TRUE(expected.contains(record["spenders"][0]["key"].get<std::string>())) << record.dump();
        EXPECT_GT(record["spenders"][0]["queries"].get<std::uint64_t>(), 0U) << record.dump();
    }
    EXPECT_EQ(firing, 1) << tracer.out();
}

// A tmux server of our own (its own socket), killed with everything in it at the end.
class Tmux {
public:
    Tmux() : socket_("connsnoop-ll-" + std::to_string(getpid())) {}
    Tmux(const Tmux&) = delete;
    Tmux& operator=(const Tmux&) = delete;
    ~Tmux() { run_command({"tmux", "-L", socket_, "kill-server"}); }

    CommandResult operator()(std::vector<std::string> args) const {
        args.insert(args.begin(), {"tmux", "-L", socket_});
        return run_command(std::move(args));
    }
    [[nodiscard]] std::string screen() const { return (*this)({"capture-pane", "-p", "-t", "view"}).out; }
    template <typename Test>
    std::string wait_for_screen(Test test, std::chrono::milliseconds timeout) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto text = screen();
        while (!test(text) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(100ms);
            text = screen();
        }
        return text;
    }

private:
    std::string socket_;
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// The view at 80x24: the flooder on the top row with its service, the budget
// line, `g` to group by comm, `q` to end with the terminal restored.
TEST_F(LinklocalTest, TerminalViewAt80ColumnsShowsTheFlooderFirst) {
    if (run_command({"tmux", "-V"}).status != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    Tmux tmux;
    std::string command = "LANG=C.UTF-8 " + connsnoop_binary() + " linklocal --interval 0.5";
    for (const auto& word : own_namespace_filter()) command += " " + word;
    command +=
        " 2>/dev/null; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon | tr '\\n' ' ';"
        " echo; sleep 60";
    ASSERT_EQ(tmux({"new-session", "-d", "-s", "view", "-x", "80", "-y", "24", command}).status, 0);
    std::this_thread::sleep_for(1500ms);  // attached
    ChildProcess flooder(
        near_->exec({"python3", support_dir() + "/linklocal_client.py", "dns-flood", "1000000", "169.254.169.253"}));
    const std::string pid = std::to_string(flooder.pid());
    auto text = tmux.wait_for_screen(
        [&](const std::string& screen) {
            const auto lines = lines_of(screen);
            return lines.size() > 4 && lines[4].find(" " + pid + " python3") != std::string::npos;
        },
        15s);
    auto lines = lines_of(text);
    ASSERT_GT(lines.size(), 4U) << text;
    EXPECT_NE(lines[0].find("link-local sent"), std::string::npos) << text;
    EXPECT_NE(lines[0].find("of 1024 budget"), std::string::npos) << text;
    EXPECT_NE(lines[1].find("by pid"), std::string::npos) << text;
    EXPECT_NE(lines[3].find("SENT/s"), std::string::npos) << text;
    EXPECT_NE(lines[4].find("dns/udp"), std::string::npos) << text;
    EXPECT_NE(lines[4].find(" " + pid + " python3"), std::string::npos) << text;
    for (const auto& line : lines) EXPECT_LE(line.size(), 80U) << line;

    tmux({"send-keys", "-t", "view", "g"});
    text =
        tmux.wait_for_screen([](const std::string& screen) { return screen.find("by comm") != std::string::npos; }, 5s);
    lines = lines_of(text);
    ASSERT_GT(lines.size(), 4U) << text;
    EXPECT_NE(lines[4].find("python3  (1 process)"), std::string::npos) << text;

    tmux({"send-keys", "-t", "view", "q"});
    text =
        tmux.wait_for_screen([](const std::string& screen) { return screen.find("icanon") != std::string::npos; }, 20s);
    EXPECT_NE(text.find("EXIT=0"), std::string::npos) << text;
    EXPECT_NE(text.find("icanon"), std::string::npos) << text;
    EXPECT_EQ(text.find("-icanon"), std::string::npos) << text;
    EXPECT_EQ(tmux({"display-message", "-p", "-t", "view", "#{alternate_on} #{cursor_flag}"}).out, "0 1\n");
    EXPECT_LT(text.find("SENT/s"), text.find("EXIT=0")) << "the last picture stays printed: " << text;
    flooder.send_signal(SIGKILL);
}

// --by qname on the screen at 80x24: the name rows under the host total,
// the untrusted name in zone-file form, escaped once.
TEST_F(LinklocalTest, TerminalViewByQnameShowsTheNames) {
    if (run_command({"tmux", "-V"}).status != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    Tmux tmux;
    std::string command = "LANG=C.UTF-8 " + connsnoop_binary() + " linklocal --by qname --interval 0.5";
    for (const auto& word : own_namespace_filter()) command += " " + word;
    command += " 2>/dev/null; echo EXIT=$?; sleep 60";
    ASSERT_EQ(tmux({"new-session", "-d", "-s", "view", "-x", "80", "-y", "24", command}).status, 0);
    std::this_thread::sleep_for(1500ms);  // attached
    ChildProcess flooder(near_->exec({"python3", support_dir() + "/linklocal_client.py", "dns-flood", "1000000",
                                      "169.254.169.253", "flood.example", "we\\ird x.test"}));
    const std::string odd_text = R"(we\\ird\032x.test)";
    auto text = tmux.wait_for_screen(
        [&](const std::string& screen) {
            return screen.find(" flood.example") != std::string::npos && screen.find(odd_text) != std::string::npos;
        },
        15s);
    const auto lines = lines_of(text);
    ASSERT_GT(lines.size(), 5U) << text;
    EXPECT_NE(lines[0].find("link-local sent"), std::string::npos) << text;
    EXPECT_NE(lines[1].find("by qname"), std::string::npos) << text;
    EXPECT_NE(lines[3].find("QUERIES/s"), std::string::npos) << text;
    EXPECT_NE(text.find(" " + odd_text), std::string::npos) << text;
    EXPECT_EQ(text.find(R"(we\\\\ird)"), std::string::npos) << "escaped twice: " << text;
    for (const auto& line : lines) EXPECT_LE(line.size(), 80U) << line;
    flooder.send_signal(SIGKILL);
    tmux({"send-keys", "-t", "view", "q"});
    text =
        tmux.wait_for_screen([](const std::string& screen) { return screen.find("EXIT=") != std::string::npos; }, 20s);
    EXPECT_NE(text.find("EXIT=0"), std::string::npos) << text;
}

}  // namespace
}  // namespace connsnoop::testing
