// Root integration tests of --udp and --dns: real clients sending DNS queries
// over UDP every way resolvers do (sendto on an unconnected socket, connect
// then send, IPv6, v4-mapped IPv6) to a stand-in resolver inside a private
// network namespace. Asserted: one --udp record per (process, destination),
// whatever the number of sockets and datagrams, and one --dns record per
// query with its exact name and type.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kResolverV6 = "fd00:ec2::253";

struct ClientRun {
    pid_t pid;
    std::vector<std::string> argv;
};

class UdpDnsTraceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-udp");
        namespace_->run({"ip", "-6", "addr", "add", std::string(kResolverV6) + "/128", "dev", "lo", "nodad"});
        resolver_ = std::make_unique<ChildProcess>(
            namespace_->exec({"python3", support_dir() + "/dns_standin.py", kOtherLinkLocal, kImdsV4, kResolverV6}));
        EXPECT_TRUE(resolver_->wait_for_stdout("ready", 10s)) << resolver_->err();
    }
    static void TearDownTestSuite() {
        resolver_.reset();
        namespace_.reset();
    }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
    }

    // dns_client.py MODE ADDRESS SOCKETS QUERY..., run to its end.
    static ClientRun run_client(const std::string& mode, const std::string& address, int sockets,
                                const std::vector<std::string>& queries) {
        std::vector<std::string> argv = {"python3", support_dir() + "/dns_client.py", mode, address,
                                         std::to_string(sockets)};
        argv.insert(argv.end(), queries.begin(), queries.end());
        ChildProcess client(namespace_->exec(argv));
        const pid_t pid = client.pid();
        EXPECT_EQ(client.wait(30s), 0) << client.err();
        EXPECT_EQ(client.out(), "sent " + std::to_string(sockets * static_cast<int>(queries.size())) + "\n");
        return {pid, argv};
    }

    static inline std::unique_ptr<NetworkNamespace> namespace_;
    static inline std::unique_ptr<ChildProcess> resolver_;
};

std::vector<json> of_type_and_pid(const std::vector<json>& records, const std::string& type, pid_t pid) {
    std::vector<json> out;
    for (const auto& record : records) {
        if (record.value("type", "") == type && record["pid"] == pid) out.push_back(record);
    }
    return out;
}

std::string joined(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& arg : argv) line += (line.empty() ? "" : " ") + arg;
    return line;
}

// The client's arguments; the interpreter as whatever path `python3` resolved to.
void expect_client_argv(const json& record, const ClientRun& client) {
    const auto argv = record["argv"].get<std::vector<std::string>>();
    ASSERT_EQ(argv.size(), client.argv.size()) << record.dump();
    EXPECT_TRUE(argv[0].ends_with("python3")) << argv[0];
    EXPECT_EQ(std::vector<std::string>(argv.begin() + 1, argv.end()),
              std::vector<std::string>(client.argv.begin() + 1, client.argv.end()));
}

void expect_udp_send(const json& record, const ClientRun& client, const std::string& family, const std::string& daddr,
                     std::uint32_t netns) {
    SCOPED_TRACE(record.dump());
    EXPECT_EQ(record["proto"], "udp");
    EXPECT_EQ(record["comm"], "python3");
    expect_client_argv(record, client);
    EXPECT_EQ(record["family"], family);
    EXPECT_EQ(record["daddr"], daddr);
    EXPECT_EQ(record["dport"], 53);
    EXPECT_GT(record["sport"].get<int>(), 0);
    EXPECT_EQ(record["saddr"], daddr);  // on the namespace's loopback
    EXPECT_EQ(record["netns"], netns);
    EXPECT_EQ(record["ns_pid"], client.pid);
    EXPECT_EQ(record["user"], "root");
}

TEST_F(UdpDnsTraceTest, UdpReportsOneRecordPerProcessAndDestinationForEveryWayOfSending) {
    auto tracer = start_connsnoop({"--udp", "--port", "53", "-o", "json"});
    const std::vector<std::string> queries = {"A:example.com", "AAAA:example.com", "TXT:example.org"};
    // 2 sockets x 3 queries each: 6 datagrams, one record
    const auto unconnected = run_client("sendto", kOtherLinkLocal, 2, queries);
    const auto connected = run_client("connect", kImdsV4, 2, queries);
    const auto ipv6 = run_client("sendto", kResolverV6, 2, queries);
    const auto connected_v6 = run_client("connect", kResolverV6, 1, queries);
    const auto mapped = run_client("mapped", kOtherLinkLocal, 2, queries);
    const auto records = stop_and_parse(tracer);

    for (const auto& record : records) {
        if (record.value("type", "") == "connect") {
            EXPECT_EQ(record["proto"], "udp") << record.dump();
        }
    }
    const struct {
        const ClientRun& client;
        const char* family;
        const char* daddr;
    } expected[] = {
        {unconnected, "ipv4", kOtherLinkLocal}, {connected, "ipv4", kImdsV4},      {ipv6, "ipv6", kResolverV6},
        {connected_v6, "ipv6", kResolverV6},    {mapped, "ipv4", kOtherLinkLocal},
    };
    for (const auto& want : expected) {
        const auto sends = of_type_and_pid(records, "connect", want.client.pid);
        ASSERT_EQ(sends.size(), 1U) << joined(want.client.argv);
        expect_udp_send(sends[0], want.client, want.family, want.daddr, namespace_->inode());
    }
}

TEST_F(UdpDnsTraceTest, UdpFiltersAndExclusionsApplyAsForTcp) {
    auto tracer = start_connsnoop({"--udp", "--port", "53", "--comm", "python3", "--not-dst", kImdsV4, "-o", "json"});
    const auto wanted = run_client("sendto", kOtherLinkLocal, 1, {"A:example.com"});
    const auto excluded = run_client("sendto", kImdsV4, 1, {"A:example.com"});
    // Another task name: perl sends the same datagram to the same resolver.
    ChildProcess perl(namespace_->exec(
        {"perl", "-MIO::Socket::INET", "-e",
         "IO::Socket::INET->new(Proto => 'udp', PeerAddr => "
         "'169.254.169.253:53')->send(qq(\\x12\\x34\\x01\\0\\0\\x01\\0\\0\\0\\0\\0\\0\\0\\0\\x01\\0\\x01)) or die"}));
    EXPECT_EQ(perl.wait(15s), 0) << perl.err();
    const auto records = stop_and_parse(tracer);

    ASSERT_EQ(of_type_and_pid(records, "connect", wanted.pid).size(), 1U);
    EXPECT_TRUE(of_type_and_pid(records, "connect", excluded.pid).empty());
    EXPECT_TRUE(of_type_and_pid(records, "connect", perl.pid()).empty());
    std::size_t connects = 0;
    for (const auto& record : records) connects += record.value("type", "") == "connect" ? 1 : 0;
    EXPECT_EQ(connects, 1U);
}

struct Query {
    std::string qname;
    std::string qtype;
    bool compressed = false;
    bool malformed = false;
};

// The client's queries, in the order sent.
void expect_queries(const std::vector<json>& records, const ClientRun& client, const std::string& family,
                    const std::string& daddr, const std::vector<Query>& expected) {
    const auto queries = of_type_and_pid(records, "dns", client.pid);
    ASSERT_EQ(queries.size(), expected.size()) << joined(client.argv);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& record = queries[i];
        SCOPED_TRACE(record.dump());
        expect_client_argv(record, client);
        EXPECT_EQ(record["comm"], "python3");
        EXPECT_EQ(record["proto"], "udp");
        EXPECT_EQ(record["family"], family);
        EXPECT_EQ(record["daddr"], daddr);
        EXPECT_EQ(record["dport"], 53);
        EXPECT_EQ(record["dns"]["qname"], expected[i].qname);
        EXPECT_EQ(record["dns"]["qtype"], expected[i].qtype);
        EXPECT_EQ(record["dns"]["name_compressed"], expected[i].compressed);
        EXPECT_EQ(record["dns"]["name_malformed"], expected[i].malformed);
        EXPECT_EQ(record["dns"]["questions"], 1);
        EXPECT_EQ(record["dns"]["recursion_desired"], true);
    }
}

TEST_F(UdpDnsTraceTest, DnsReportsEveryQueryToTheResolverWithItsExactNameAndType) {
    auto tracer = start_connsnoop({"--dns", "--dst", kOtherLinkLocal, "--dst", kResolverV6, "-o", "json"});
    const auto plain = run_client("sendto", kOtherLinkLocal, 2, {"A:example.com", "AAAA:metadata.ec2.internal"});
    const std::string long_label(63, 'x');
    // Hostile names: ESC and a dot inside labels, a NUL, a 63-byte label; a
    // compression pointer, a label running past the datagram, a reserved label type.
    const auto hostile = run_client(
        "connect", kOtherLinkLocal, 1,
        {R"(A:a\x1b[31m.b\.c)", R"(TXT:nul\x00byte.example)", "HTTPS:" + long_label + "." + long_label + ".example",
         "PTR:hex:c00c000c0001", "A:hex:3f61616161", "A:hex:4061610000010001"});
    const auto ipv6 = run_client("sendto", kResolverV6, 1, {"SRV:_ldap._tcp.example"});
    const auto elsewhere = run_client("sendto", kImdsV4, 1, {"A:not-reported.example"});
    const auto records = stop_and_parse(tracer);

    expect_queries(records, plain, "ipv4", kOtherLinkLocal,
                   {{"example.com", "A"},
                    {"metadata.ec2.internal", "AAAA"},
                    {"example.com", "A"},
                    {"metadata.ec2.internal", "AAAA"}});
    expect_queries(records, hostile, "ipv4", kOtherLinkLocal,
                   {{R"(a\027[31m.b\.c)", "A"},
                    {R"(nul\000byte.example)", "TXT"},
                    {long_label + "." + long_label + ".example", "HTTPS"},
                    {".", "TYPE0", true, false},
                    {"aaaa", "TYPE0", false, true},
                    {".", "TYPE0", false, true}});
    expect_queries(records, ipv6, "ipv6", kResolverV6, {{"_ldap._tcp.example", "SRV"}});
    EXPECT_TRUE(of_type_and_pid(records, "dns", elsewhere.pid).empty());
    for (const auto& record : records) {
        const auto type = record.value("type", "");
        EXPECT_TRUE(type == "dns" || type == "summary") << record.dump();
    }
}

// The last interval of a top -o json run.
json final_interval(const std::vector<json>& records) {
    json last;
    for (const auto& record : records) {
        if (record.value("type", "") == "interval") last = record;
    }
    return last;
}

const json* row_with_key(const json& interval, const std::string& key) {
    for (const auto& row : interval["rows"]) {
        if (row["key"] == key) return &row;
    }
    return nullptr;
}

TEST_F(UdpDnsTraceTest, TopByQnameCountsEveryQueryPerName) {
    auto tracer =
        start_connsnoop({"top", "--by", "qname", "--dst", kOtherLinkLocal, "-o", "json", "--interval", "0.5"});
    run_client("sendto", kOtherLinkLocal, 2, {"A:example.com", "AAAA:metadata.ec2.internal", "A:example.com"});
    run_client("connect", kOtherLinkLocal, 1, {R"(A:evil\x1b.example)"});
    const auto report = final_interval(stop_and_parse(tracer));
    ASSERT_FALSE(report.is_null());
    EXPECT_EQ(report["group_by"], "qname");
    EXPECT_EQ(report["events"], 7) << report.dump();
    EXPECT_EQ(report["rows"].size(), 3U) << report.dump();
    for (const auto& [name, count] : std::vector<std::pair<std::string, int>>{
             {"example.com", 4}, {"metadata.ec2.internal", 2}, {R"(evil\027.example)", 1}}) {
        const json* row = row_with_key(report, name);
        ASSERT_NE(row, nullptr) << name << " missing: " << report.dump();
        EXPECT_EQ((*row)["attempts"], count) << name;
    }
}

TEST_F(UdpDnsTraceTest, TopCountsUdpFirstSendsBesideTheConnects) {
    auto tracer = start_connsnoop({"top", "--udp", "--port", "53", "--by", "comm", "-o", "json", "--interval", "0.5"});
    run_client("sendto", kOtherLinkLocal, 3, {"A:example.com", "A:example.org"});
    run_client("sendto", kResolverV6, 1, {"A:example.com"});
    const auto report = final_interval(stop_and_parse(tracer));
    ASSERT_FALSE(report.is_null());
    EXPECT_EQ(report["events"], 2) << report.dump();  // one per (process, destination)
    const json* row = row_with_key(report, "python3");
    ASSERT_NE(row, nullptr) << report.dump();
    EXPECT_EQ((*row)["attempts"], 2);
}

}  // namespace
}  // namespace connsnoop::testing
