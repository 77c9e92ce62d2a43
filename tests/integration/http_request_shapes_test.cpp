// Root integration tests of HTTP capture (--http) against request heads in
// the shapes real clients send them (tests/support/http_shapes_client.py):
// lines ending in a bare LF, with and without a version; HTTP/1.0; a request
// line cut over two sends or two TCP segments; pipelined requests; header
// names in any letter case; paths longer than the record holds. Each request
// is one exact record; the server's answer shows how it read the same bytes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class HttpRequestShapesTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-httpshape");
        // No segmentation offload on this loopback: a send larger than the
        // MSS leaves as several segments, as on a link without TSO, so the
        // hook sees each one.
        namespace_->run({"ip", "link", "set", "dev", "lo", "gso_max_segs", "1"});
        server_ = start_standin_server(*namespace_, {"169.254.169.254:80"});
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
    static ClientRun run_client(const std::string& mode) {
        ChildProcess client(
            namespace_->exec({"/usr/bin/python3", support_dir() + "/http_shapes_client.py", mode, "169.254.169.254"}));
        const pid_t pid = client.pid();
        EXPECT_EQ(client.wait(15s), 0) << client.err();
        return {pid, client.out()};
    }

    static inline std::unique_ptr<NetworkNamespace> namespace_;
    static inline std::unique_ptr<ChildProcess> server_;
};

// The http records of one process, in order.
std::vector<json> requests_of(const std::vector<json>& records, pid_t pid) {
    std::vector<json> out;
    for (const auto& record : records) {
        if (record.value("type", "") == "http" && record["pid"] == pid) out.push_back(record);
    }
    return out;
}

std::size_t http_count(const std::vector<json>& records) {
    std::size_t count = 0;
    for (const auto& record : records) count += record.value("type", "") == "http" ? 1 : 0;
    return count;
}

// Everything a record says about its request: a GET of `path` over
// HTTP/1.1 without headers, sent in one segment, unless changed.
struct Expected {
    explicit Expected(std::string request_path) : path(std::move(request_path)) {}
    Expected& with_method(std::string value) { return method = std::move(value), *this; }
    Expected& with_version(std::string value) { return version = std::move(value), *this; }
    Expected& with_headers(std::vector<std::string> value) { return headers = std::move(value), *this; }
    Expected& with_user_agent(std::string value) { return user_agent = std::move(value), *this; }
    Expected& with_imds(std::string value) { return imds = std::move(value), *this; }
    Expected& truncated_path() { return path_truncated = true, *this; }
    Expected& incomplete_head() { return head_incomplete = true, *this; }
    Expected& in_writes(int value) { return writes = value, *this; }

    std::string path;
    std::string method = "GET";
    std::string version = "HTTP/1.1";
    std::vector<std::string> headers;
    std::optional<std::string> user_agent;
    std::string imds = "imdsv1";
    bool path_truncated = false;
    bool head_incomplete = false;
    int writes = 1;
};

void expect_request(const json& record, const Expected& expected) {
    SCOPED_TRACE(record.dump());
    const auto& http = record["http"];
    EXPECT_EQ(http["method"], expected.method);
    EXPECT_EQ(http["path"], expected.path);
    EXPECT_EQ(http["version"], expected.version);
    EXPECT_EQ(http["headers_present"], json(expected.headers));
    if (expected.user_agent) {
        EXPECT_EQ(http["user_agent"], *expected.user_agent);
    } else {
        EXPECT_TRUE(http["user_agent"].is_null());
    }
    EXPECT_EQ(http["path_truncated"], expected.path_truncated);
    EXPECT_EQ(http["user_agent_truncated"], false);
    EXPECT_EQ(http["head_incomplete"], expected.head_incomplete);
    EXPECT_EQ(http["writes"], expected.writes);
    EXPECT_EQ(record["imds"]["version"], expected.imds);
    EXPECT_EQ(record["dport"], 80);
}

// The value after "token " in a client's output.
std::string token_in(const std::string& out) {
    const auto at = out.find("token ");
    if (at == std::string::npos) return {};
    return out.substr(at + 6, out.find('\n', at) - at - 6);
}

// A request line that ends before any version (HTTP/0.9 style, or a client
// that sends "GET /path\n" and then headers) is a request: reported with an
// empty version, with the headers that follow it if any.
TEST_F(HttpRequestShapesTest, RequestLinesEndingInABareLfWithOrWithoutVersionAreReported) {
    auto tracer = start_connsnoop({"--imds", "--http", "-o", "json"});
    const auto lf_bare = run_client("lf-bare");
    const auto crlf_bare = run_client("crlf-bare");
    const auto lf_headers = run_client("lf-headers");
    const auto lf_version = run_client("lf-version");
    const auto records = stop_and_parse(tracer);

    // The server answered each as the client meant (HTTP/0.9: a body, no status line).
    EXPECT_EQ(lf_bare.out, "body ami-id\n");
    EXPECT_EQ(crlf_bare.out, "body i-0123456789abcdef0\n");
    EXPECT_EQ(lf_headers.out.substr(0, 12), "body ami-id\n") << "the server refused the token: " << lf_headers.out;
    EXPECT_EQ(lf_version.out, "status 200\n");

    auto bare = requests_of(records, lf_bare.pid);
    ASSERT_EQ(bare.size(), 1U) << tracer.out();
    expect_request(bare[0], Expected("/latest/meta-data/").with_version(""));

    auto crlf = requests_of(records, crlf_bare.pid);
    ASSERT_EQ(crlf.size(), 1U) << tracer.out();
    expect_request(crlf[0], Expected("/latest/meta-data/instance-id").with_version(""));

    // The line and its headers in two sends: one record, with the token header.
    auto with_headers = requests_of(records, lf_headers.pid);
    ASSERT_EQ(with_headers.size(), 2U) << tracer.out();
    expect_request(with_headers[0], Expected("/latest/api/token")
                                        .with_method("PUT")
                                        .with_headers({"Host", "X-aws-ec2-metadata-token-ttl-seconds"})
                                        .with_imds("imdsv2-token"));
    expect_request(with_headers[1], Expected("/latest/meta-data/")
                                        .with_version("")
                                        .with_headers({"X-aws-ec2-metadata-token"})
                                        .with_imds("imdsv2")
                                        .in_writes(2));

    auto lf = requests_of(records, lf_version.pid);
    ASSERT_EQ(lf.size(), 1U) << tracer.out();
    expect_request(lf[0], Expected("/latest/meta-data/instance-id")
                              .with_headers({"Host", "User-Agent"})
                              .with_user_agent("lf-client/1.0"));

    EXPECT_EQ(http_count(records), 5U) << tracer.out();
    const std::string token = token_in(lf_headers.out);
    ASSERT_GT(token.size(), 20U) << lf_headers.out;
    EXPECT_EQ(tracer.out().find(token), std::string::npos) << "token in stdout";
}

// However the bytes of heads are cut into sends and segments, each request
// is one record: HTTP/1.0 without headers, a line cut over two sends, one
// send cut into segments by TCP, and pipelined requests.
TEST_F(HttpRequestShapesTest, HeadsCutOrJoinedAnyWayAreOneRecordEach) {
    auto tracer = start_connsnoop({"--imds", "--http", "-o", "json"});
    const auto http10 = run_client("http10");
    const auto split_sends = run_client("split-sends");
    const auto split_segments = run_client("split-segments");
    const auto pipelined = run_client("pipelined");
    const auto pipelined_split = run_client("pipelined-split");
    const auto records = stop_and_parse(tracer);

    EXPECT_EQ(http10.out, "status 200\n");
    EXPECT_EQ(split_sends.out, "status 200\n");
    EXPECT_EQ(pipelined.out, "status 200\nstatus 200\n");
    EXPECT_EQ(pipelined_split.out, "status 200\nstatus 200\n");
    // "segments N" then the (unknown path's) 404
    ASSERT_EQ(split_segments.out.substr(0, 9), "segments ") << split_segments.out;
    const int segments = std::stoi(split_segments.out.substr(9));
    EXPECT_GE(segments, 2);
    EXPECT_NE(split_segments.out.find("status 404\n"), std::string::npos) << split_segments.out;

    auto ten = requests_of(records, http10.pid);
    ASSERT_EQ(ten.size(), 1U) << tracer.out();
    expect_request(ten[0], Expected("/latest/meta-data/").with_version("HTTP/1.0"));

    auto sends = requests_of(records, split_sends.pid);
    ASSERT_EQ(sends.size(), 1U) << tracer.out();
    expect_request(sends[0], Expected("/latest/meta-data/instance-id").with_headers({"Host"}).in_writes(2));

    auto cut = requests_of(records, split_segments.pid);
    ASSERT_EQ(cut.size(), 1U) << tracer.out();
    expect_request(cut[0], Expected("/latest/meta-data/tags/instance/" + std::string(70, 'k'))
                               .with_headers({"Host", "User-Agent"})
                               .with_user_agent("segments-client/1.0")
                               .in_writes(segments));

    auto piped = requests_of(records, pipelined.pid);
    ASSERT_EQ(piped.size(), 2U) << tracer.out();
    expect_request(piped[0], Expected("/latest/meta-data/").with_headers({"Host"}));
    expect_request(piped[1], Expected("/latest/meta-data/instance-id").with_headers({"Host"}));
    EXPECT_EQ(piped[0]["sport"], piped[1]["sport"]);

    // The second head starts in the first send and ends in the next.
    auto piped_split = requests_of(records, pipelined_split.pid);
    ASSERT_EQ(piped_split.size(), 2U) << tracer.out();
    expect_request(piped_split[0], Expected("/latest/meta-data/").with_headers({"Host"}));
    expect_request(piped_split[1], Expected("/latest/meta-data/instance-id").with_headers({"Host"}).in_writes(2));

    EXPECT_EQ(http_count(records), 7U) << tracer.out();
}

// Only a head without a body may have another pipelined behind it: a PUT's
// body in the segment of its head is not the start of the next request. A
// request line whose version names another protocol is not HTTP, also when
// the client closes before the line ends.
TEST_F(HttpRequestShapesTest, ABodyIsNoRequestLineAndAnotherProtocolIsNoHttp) {
    auto tracer = start_connsnoop({"--imds", "--http", "-o", "json"});
    const auto body = run_client("body-then-get");
    const auto other = run_client("other-protocol");
    const auto records = stop_and_parse(tracer);

    EXPECT_EQ(body.out, "status 200\nstatus 200\n");
    EXPECT_EQ(other.out.rfind("body ", 0), 0U) << other.out;  // the server's answer: an error page

    auto heads = requests_of(records, body.pid);
    ASSERT_EQ(heads.size(), 2U) << tracer.out();
    expect_request(heads[0], Expected("/latest/api/token")
                                 .with_method("PUT")
                                 .with_headers({"Host", "X-aws-ec2-metadata-token-ttl-seconds"})
                                 .with_imds("imdsv2-token"));
    expect_request(heads[1], Expected("/latest/meta-data/").with_headers({"Host"}));
    EXPECT_TRUE(requests_of(records, other.pid).empty()) << tracer.out();
    EXPECT_EQ(http_count(records), 2U) << tracer.out();
}

// Header names are case-insensitive: any spelling is the same header (and
// reported by its canonical name). A path longer than the record's 255 bytes
// is cut and flagged; one longer than the 1 KiB scanned still gives a record,
// cut, with the head marked incomplete and no version (what followed the
// 1 KiB was not seen).
TEST_F(HttpRequestShapesTest, HeaderNamesInAnyCaseAndOverlongPaths) {
    auto tracer = start_connsnoop({"--imds", "--http", "-o", "json"});
    const auto header_case = run_client("header-case");
    const auto long_path = run_client("long-path");
    const auto huge_path = run_client("huge-path");
    const auto cut_version = run_client("cut-version");
    const auto records = stop_and_parse(tracer);

    EXPECT_EQ(header_case.out.substr(0, 22), "status 200\nstatus 200\n") << header_case.out;
    EXPECT_EQ(long_path.out, "status 404\n");
    EXPECT_EQ(huge_path.out, "status 404\n");
    EXPECT_EQ(cut_version.out, "status 404\n");

    auto cased = requests_of(records, header_case.pid);
    ASSERT_EQ(cased.size(), 2U) << tracer.out();
    expect_request(cased[0], Expected("/latest/api/token")
                                 .with_method("PUT")
                                 .with_headers({"Host", "X-aws-ec2-metadata-token-ttl-seconds"})
                                 .with_imds("imdsv2-token"));
    expect_request(cased[1], Expected("/latest/meta-data/")
                                 .with_headers({"Host", "User-Agent", "X-aws-ec2-metadata-token"})
                                 .with_user_agent("case-client/1.0")
                                 .with_imds("imdsv2"));

    const std::string long_prefix = "/latest/meta-data/" + std::string(255 - 18, 'p');
    auto long_one = requests_of(records, long_path.pid);
    ASSERT_EQ(long_one.size(), 1U) << tracer.out();
    expect_request(
        long_one[0],
        Expected(long_prefix).with_headers({"Host", "User-Agent"}).with_user_agent("path-client/1.0").truncated_path());

    const std::string huge_prefix = "/latest/meta-data/" + std::string(255 - 18, 'q');
    auto huge_one = requests_of(records, huge_path.pid);
    ASSERT_EQ(huge_one.size(), 1U) << tracer.out();
    expect_request(huge_one[0], Expected(huge_prefix).with_version("").truncated_path().incomplete_head());

    // The 1 KiB ends in the version ("HTTP" of "HTTP/1.1"): not known either.
    const std::string cut_prefix = "/latest/meta-data/" + std::string(255 - 18, 'v');
    auto cut_one = requests_of(records, cut_version.pid);
    ASSERT_EQ(cut_one.size(), 1U) << tracer.out();
    expect_request(cut_one[0], Expected(cut_prefix).with_version("").truncated_path().incomplete_head());

    EXPECT_EQ(http_count(records), 5U) << tracer.out();
    const std::string token = token_in(header_case.out);
    ASSERT_GT(token.size(), 20U) << header_case.out;
    EXPECT_EQ(tracer.out().find(token), std::string::npos) << "token in stdout";
}

}  // namespace
}  // namespace connsnoop::testing
