// Root integration tests of HTTP capture (--http, --imds-v1): real clients
// that send their requests in every way programs do (write, writev, send,
// sendmsg; one write or several; keep-alive) against the stand-in metadata
// service in a private network namespace. Per request: process, method,
// path, IMDS version; and no token value anywhere in connsnoop's output.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kTokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds: 60";

class HttpTraceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-http");
        server_ =
            start_standin_server(*namespace_, {"169.254.169.254:80", "[fd00:ec2::254]:80", "169.254.169.254:8080"});
    }
    static void TearDownTestSuite() {
        server_.reset();
        namespace_.reset();
    }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
    }

    struct ClientRun {
        pid_t pid;
        std::string out;
    };
    static ClientRun run_client(std::vector<std::string> command) {
        ChildProcess client(namespace_->exec(std::move(command)));
        const pid_t pid = client.pid();
        EXPECT_EQ(client.wait(15s), 0) << client.err();
        return {pid, client.out()};
    }

    // The value after "token " in a client's output.
    static std::string token_in(const std::string& out) {
        const auto at = out.find("token ");
        if (at == std::string::npos) return {};
        return out.substr(at + 6, out.find('\n', at) - at - 6);
    }

    static inline std::unique_ptr<NetworkNamespace> namespace_;
    static inline std::unique_ptr<ChildProcess> server_;
};

std::vector<json> http_records(const std::vector<json>& records) {
    std::vector<json> out;
    for (const auto& record : records) {
        if (record.value("type", "") == "http") out.push_back(record);
    }
    return out;
}

std::string joined(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& arg : argv) line += (line.empty() ? "" : " ") + arg;
    return line;
}

// The requests of one process, in order.
std::vector<json> of_pid(const std::vector<json>& requests, pid_t pid) {
    std::vector<json> out;
    for (const auto& request : requests) {
        if (request["pid"] == pid) out.push_back(request);
    }
    return out;
}

void expect_request(const json& request, const std::string& method, const std::string& path,
                    const std::optional<std::string>& imds, const std::string& cmdline) {
    SCOPED_TRACE(request.dump());
    EXPECT_EQ(request["http"]["method"], method);
    EXPECT_EQ(request["http"]["path"], path);
    EXPECT_EQ(request["http"]["version"].get<std::string>().substr(0, 5), "HTTP/");
    if (imds) {
        EXPECT_EQ(request["imds"]["version"], *imds);
    } else {
        EXPECT_TRUE(request["imds"]["version"].is_null());
    }
    EXPECT_EQ(request["cmdline"], cmdline);
    EXPECT_EQ(request["dport"], 80);
    EXPECT_EQ(request["http"]["head_incomplete"], false);
}

bool has_header(const json& request, const std::string& name) {
    for (const auto& header : request["http"]["headers_present"]) {
        if (header == name) return true;
    }
    return false;
}

TEST_F(HttpTraceTest, EveryRequestOfEveryKindOfClientIsClassifiedAndNoTokenIsPrinted) {
    auto tracer = start_connsnoop({"--imds", "--http", "-o", "json"});
    const std::string client = support_dir() + "/imds_http_client.py";

    // IMDSv1 with curl (one send of the whole head).
    const std::vector<std::string> curl_v1 = {
        "curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/latest/meta-data/instance-id"};
    const auto v1 = run_client(curl_v1);

    // IMDSv2 with curl: a PUT for the token, then a GET carrying it; the shell
    // prints the token and the GET's status.
    const std::string get_with_token =
        "curl -s -o /dev/null -w '%{http_code}' -H \"X-aws-ec2-metadata-token: $T\" "
        "http://169.254.169.254/latest/meta-data/";
    const auto v2 = run_client({"sh", "-c",
                                "T=$(curl -s --max-time 5 -X PUT -H '" + kTokenTtlHeader +
                                    "' http://169.254.169.254/latest/api/token); "
                                    "echo \"code $(" +
                                    get_with_token + ")\"; echo \"token $T\""});
    const std::string curl_token = token_in(v2.out);
    ASSERT_GT(curl_token.size(), 20U) << v2.out;
    EXPECT_NE(v2.out.find("code 200"), std::string::npos) << "the stand-in refused the token: " << v2.out;

    // Python http.client: PUT + two GETs with the token on ONE keep-alive connection (send = sendto).
    const auto keepalive = run_client({"/usr/bin/python3", client, "keepalive", "169.254.169.254"});
    const std::string python_token = token_in(keepalive.out);
    ASSERT_GT(python_token.size(), 20U) << keepalive.out;
    EXPECT_EQ(keepalive.out.find("status 401"), std::string::npos) << keepalive.out;

    // writev and sendmsg, three buffers each; the sendmsg one over IPv6.
    const auto writev = run_client({"/usr/bin/python3", client, "writev", "169.254.169.254"});
    const auto sendmsg = run_client({"/usr/bin/python3", client, "sendmsg", "fd00:ec2::254"});

    // Perl print with autoflush: the request line itself is split over two writes.
    const std::string perl_script =
        "use IO::Socket::INET; my $s = IO::Socket::INET->new(PeerAddr => '169.254.169.254', PeerPort => 80) "
        "or die \"connect: $!\"; $s->autoflush(1); print $s 'GET /latest/meta'; "
        "print $s \"-data/iam/security-credentials/ HTTP/1.0\\r\\n\"; "
        "print $s \"Host: 169.254.169.254\\r\\nUser-Agent: perl-split/1.0\\r\\n\\r\\n\"; "
        "my $reply = join('', <$s>); print((split / /, $reply)[1], \"\\n\");";
    const auto perl = run_client({"perl", "-e", perl_script});
    EXPECT_EQ(perl.out, "200\n");

    // IPv6 curl.
    const std::vector<std::string> curl_v6 = {
        "curl",       "-s", "-g", "-o",       "/dev/null",
        "--max-time", "5",  "-A", "v6-agent", "http://[fd00:ec2::254]/latest/meta-data/"};
    const auto v6 = run_client(curl_v6);

    // Port 8080 was not asked for (--http-port): its connection is not traced at all.
    run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254:8080/latest/meta-data/"});

    const auto records = stop_and_parse(tracer);
    const auto requests = http_records(records);

    auto one = of_pid(requests, v1.pid);
    ASSERT_EQ(one.size(), 1U) << tracer.out();
    expect_request(one[0], "GET", "/latest/meta-data/instance-id", "imdsv1", joined(curl_v1));
    EXPECT_EQ(one[0]["http"]["user_agent"], "curl/7.88.1");
    EXPECT_EQ(one[0]["http"]["headers_present"], json::array({"Host", "User-Agent"}));
    EXPECT_EQ(one[0]["comm"], "curl");
    EXPECT_EQ(one[0]["family"], "ipv4");

    // The curl pair: children of the shell, named by their full command lines.
    std::vector<json> pair;
    for (const auto& request : requests) {
        if (request["ppid"] == v2.pid) pair.push_back(request);
    }
    ASSERT_EQ(pair.size(), 2U) << tracer.out();
    expect_request(pair[0], "PUT", "/latest/api/token", "imdsv2-token",
                   "curl -s --max-time 5 -X PUT -H " + kTokenTtlHeader + " http://169.254.169.254/latest/api/token");
    EXPECT_TRUE(has_header(pair[0], "X-aws-ec2-metadata-token-ttl-seconds"));
    EXPECT_FALSE(has_header(pair[0], "X-aws-ec2-metadata-token"));
    // The token the caller put on its own command line is redacted.
    expect_request(pair[1], "GET", "/latest/meta-data/", "imdsv2",
                   "curl -s -o /dev/null -w %{http_code} -H X-aws-ec2-metadata-token: [redacted] "
                   "http://169.254.169.254/latest/meta-data/");
    EXPECT_TRUE(has_header(pair[1], "X-aws-ec2-metadata-token"));

    const std::string keepalive_cmdline = "/usr/bin/python3 " + client + " keepalive 169.254.169.254";
    auto kept = of_pid(requests, keepalive.pid);
    ASSERT_EQ(kept.size(), 3U) << tracer.out();
    expect_request(kept[0], "PUT", "/latest/api/token", "imdsv2-token", keepalive_cmdline);
    expect_request(kept[1], "GET", "/latest/meta-data/", "imdsv2", keepalive_cmdline);
    expect_request(kept[2], "GET", "/latest/meta-data/instance-id", "imdsv2", keepalive_cmdline);
    EXPECT_EQ(kept[1]["http"]["user_agent"], "keepalive-client/1.0");
    // one connection: the same source port for all three
    EXPECT_EQ(kept[0]["sport"], kept[2]["sport"]);

    auto by_writev = of_pid(requests, writev.pid);
    ASSERT_EQ(by_writev.size(), 1U) << tracer.out();
    expect_request(by_writev[0], "GET", "/latest/meta-data/", "imdsv1",
                   "/usr/bin/python3 " + client + " writev 169.254.169.254");
    EXPECT_EQ(by_writev[0]["http"]["user_agent"], "writev-client/1.0");

    auto by_sendmsg = of_pid(requests, sendmsg.pid);
    ASSERT_EQ(by_sendmsg.size(), 1U) << tracer.out();
    expect_request(by_sendmsg[0], "GET", "/latest/meta-data/", "imdsv1",
                   "/usr/bin/python3 " + client + " sendmsg fd00:ec2::254");
    EXPECT_EQ(by_sendmsg[0]["http"]["user_agent"], "sendmsg-client/1.0");
    EXPECT_EQ(by_sendmsg[0]["family"], "ipv6");

    auto by_perl = of_pid(requests, perl.pid);
    ASSERT_EQ(by_perl.size(), 1U) << tracer.out();
    expect_request(by_perl[0], "GET", "/latest/meta-data/iam/security-credentials/", "imdsv1",
                   "perl -e " + perl_script);
    EXPECT_EQ(by_perl[0]["http"]["user_agent"], "perl-split/1.0");
    EXPECT_EQ(by_perl[0]["http"]["version"], "HTTP/1.0");
    EXPECT_EQ(by_perl[0]["http"]["writes"], 3);

    auto by_v6 = of_pid(requests, v6.pid);
    ASSERT_EQ(by_v6.size(), 1U) << tracer.out();
    expect_request(by_v6[0], "GET", "/latest/meta-data/", "imdsv1", joined(curl_v6));
    EXPECT_EQ(by_v6[0]["http"]["user_agent"], "v6-agent");
    EXPECT_EQ(by_v6[0]["family"], "ipv6");
    EXPECT_EQ(by_v6[0]["daddr"], "fd00:ec2::254");

    EXPECT_EQ(requests.size(), 10U) << tracer.out();
    for (const auto& token : {curl_token, python_token}) {
        EXPECT_EQ(tracer.out().find(token), std::string::npos) << "token in stdout";
        EXPECT_EQ(tracer.err().find(token), std::string::npos) << "token in stderr";
    }
}

TEST_F(HttpTraceTest, ImdsV1ReportsOnlyRequestsWithoutAToken) {
    auto tracer = start_connsnoop({"--imds-v1", "-o", "json"});
    const auto keepalive =
        run_client({"python3", support_dir() + "/imds_http_client.py", "keepalive", "169.254.169.254"});
    const auto v1 =
        run_client({"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/latest/meta-data/"});
    const auto records = stop_and_parse(tracer);
    ASSERT_EQ(records.size(), 2U) << tracer.out();  // the v1 request and the summary: no connects, no v2
    EXPECT_EQ(records[0]["type"], "http");
    EXPECT_EQ(records[0]["pid"], v1.pid);
    EXPECT_EQ(records[0]["imds"]["version"], "imdsv1");
    EXPECT_EQ(records[1]["type"], "summary");
    EXPECT_EQ(records[1]["events"], 1);
    EXPECT_EQ(tracer.out().find(token_in(keepalive.out)), std::string::npos);
}

TEST_F(HttpTraceTest, TableShowsMethodPathAndVersionAndHttpPortAddsAPort) {
    auto tracer =
        start_connsnoop({"--dst", "169.254.169.254", "--port", "8080", "--http-port", "8080", "--ancestry", "0"});
    const auto curl = run_client(
        {"curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254:8080/latest/meta-data/"});
    EXPECT_TRUE(tracer.wait_for_stdout("GET /latest/meta-data/ (imdsv1)", 5s)) << tracer.out();
    tracer.send_signal(SIGTERM);
    EXPECT_EQ(tracer.wait(10s), 0);
    const auto lines = tracer.out_lines();
    ASSERT_EQ(lines.size(), 3U) << tracer.out();  // header, connect, request
    EXPECT_NE(lines[0].find("REQUEST"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find(" - "), std::string::npos) << lines[1];
    EXPECT_NE(
        lines[2].find(std::to_string(curl.pid) + " root       169.254.169.254:8080  GET /latest/meta-data/ (imdsv1)"),
        std::string::npos)
        << lines[2];
    EXPECT_NE(lines[2].find("curl -s -o /dev/null --max-time 5 http://169.254.169.254:8080/latest/meta-data/"),
              std::string::npos);
}

// A request path longer than REQUEST: the table cuts it, keeping the method
// and the path's end with the IMDS version, so COMMAND stays under its header; --wide keeps it whole; top's
// text block in a pipe keeps it whole in a PATH column as wide as it, with
// DEST in line.
TEST_F(HttpTraceTest, ALongPathIsCutInTheTableWholeWithWideAndInTopsPipeBlock) {
    const std::string path = "/latest/meta-data/iam/security-credentials/web-frontend-role-with-a-long-name";
    const std::vector<std::string> stream_args = {"--imds", "--http", "--ancestry", "0", "--time", "none"};
    auto table = start_connsnoop(stream_args);
    auto wide_args = stream_args;
    wide_args.push_back("--wide");
    auto wide = start_connsnoop(wide_args);
    auto top = start_connsnoop({"top", "--imds", "--by", "path", "--interval", "0.5"});
    const std::vector<std::string> curl = {
        "curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254" + path};
    const auto client = run_client(curl);
    const std::string pid = std::to_string(client.pid);
    const std::string pid_cell = std::string(pid.size() < 7 ? 7 - pid.size() : 0, ' ') + pid;
    EXPECT_TRUE(table.wait_for_stdout("(imdsv1)", 5s)) << table.out();
    EXPECT_TRUE(wide.wait_for_stdout("(imdsv1)", 5s)) << wide.out();
    EXPECT_TRUE(top.wait_for_stdout(path, 5s)) << top.out();
    for (auto* tracer : {&table, &wide, &top}) {
        tracer->send_signal(SIGTERM);
        EXPECT_EQ(tracer->wait(10s), 0) << tracer->err();
    }

    const auto lines = table.out_lines();
    ASSERT_EQ(lines.size(), 3U) << table.out();  // header, connect, request
    // The tracer's locale is this test's: "..." where it is not UTF-8.
    // The cut keeps the method and the end: the role's name and the IMDS version.
    const std::string request = path + " (imdsv1)";
    const std::string row_start = pid_cell + " root       169.254.169.254:80    GET ";
    const std::string row_end = " " + joined(curl);
    EXPECT_TRUE(lines[2] == row_start + "…" + request.substr(request.size() - 39) + row_end ||
                lines[2] == row_start + "..." + request.substr(request.size() - 37) + row_end)
        << lines[2];
    std::string by_columns = lines[2];  // "…" is one column in three bytes
    if (const auto marker = by_columns.find("…"); marker != std::string::npos) by_columns.replace(marker, 3, ".");
    EXPECT_EQ(by_columns.find("curl"), lines[0].find("COMMAND")) << table.out();

    const auto wide_lines = wide.out_lines();
    ASSERT_EQ(wide_lines.size(), 3U) << wide.out();
    EXPECT_EQ(wide_lines[2], pid_cell + " root       169.254.169.254:80    GET " + path + " (imdsv1) " + joined(curl));

    // The last block: status, header, the request's row.
    const auto top_lines = top.out_lines();
    const auto header = std::find_if(top_lines.rbegin(), top_lines.rend(),
                                     [](const std::string& line) { return line.find("*RATE1S") != std::string::npos; });
    ASSERT_NE(header, top_lines.rend()) << top.out();
    const std::string& row = *(header - 1);
    EXPECT_NE(row.find("  " + path + " 169.254.169.254:80 " + joined(curl)), std::string::npos) << top.out();
    EXPECT_EQ(row.find("169.254.169.254:80"), header->find("DEST")) << top.out();
}

// The rows of the last interval record, by key: attempts (requests) per group.
std::map<std::string, json> final_rows(const std::vector<json>& records) {
    std::map<std::string, json> rows;
    for (const auto& record : records) {
        if (record.value("type", "") != "interval") continue;
        rows.clear();
        for (const auto& row : record["rows"]) rows[row["key"].get<std::string>()] = row;
    }
    return rows;
}

TEST_F(HttpTraceTest, TopGroupsRequestsByImdsVersionAndByPath) {
    const std::string client = support_dir() + "/imds_http_client.py";
    for (const std::string by : {"imds", "path"}) {
        SCOPED_TRACE(by);
        auto tracer = start_connsnoop({"top", "--imds", "--by", by, "-o", "json", "--interval", "0.5", "--rows", "0"});
        const std::vector<std::string> curl_v1 = {
            "curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://169.254.169.254/latest/meta-data/instance-id"};
        run_client(curl_v1);
        run_client(curl_v1);
        const auto keepalive = run_client({"/usr/bin/python3", client, "keepalive", "169.254.169.254"});
        const auto records = stop_and_parse(tracer);
        const auto rows = final_rows(records);
        if (by == "imds") {
            ASSERT_EQ(rows.size(), 3U) << tracer.out();
            EXPECT_EQ(rows.at("imdsv1")["attempts"], 2);
            EXPECT_EQ(rows.at("imdsv1")["command"], joined(curl_v1));
            EXPECT_EQ(rows.at("imdsv2")["attempts"], 2);
            EXPECT_EQ(rows.at("imdsv2")["command"], "/usr/bin/python3 " + client + " keepalive 169.254.169.254");
            EXPECT_EQ(rows.at("imdsv2-token")["attempts"], 1);
        } else {
            ASSERT_EQ(rows.size(), 3U) << tracer.out();
            EXPECT_EQ(rows.at("/latest/meta-data/instance-id")["attempts"], 3);
            EXPECT_EQ(rows.at("/latest/meta-data/")["attempts"], 1);
            EXPECT_EQ(rows.at("/latest/api/token")["attempts"], 1);
        }
        EXPECT_EQ(tracer.out().find(token_in(keepalive.out)), std::string::npos);
    }
}

}  // namespace
}  // namespace connsnoop::testing
