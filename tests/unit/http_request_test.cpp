// HTTP capture's user side: decoding the kernel's record, IMDS
// classification, token redaction, table and JSON formatting.
#include <gtest/gtest.h>

#include <cstring>

#include "aggregate/grouped_talkers.hpp"
#include "cli/options.hpp"
#include "collect/record_decoder.hpp"
#include "collect/token_redaction.hpp"
#include "event_fixtures.hpp"
#include "output/json_format.hpp"
#include "output/table_format.hpp"
#include "util/metadata_endpoints.hpp"

namespace connsnoop {
namespace {

using namespace std::string_literals;

template <std::size_t N>
std::uint16_t put(char (&field)[N], const std::string& text) {
    std::memcpy(field, text.data(), std::min(text.size(), N - 1));
    return static_cast<std::uint16_t>(std::min(text.size(), N - 1));
}

// A raw cs_http_record with the process part of raw_connect_record, then argv.
std::vector<std::byte> raw_http_record(const std::string& method, const std::string& path, std::uint32_t headers,
                                       const std::string& user_agent, const std::string& argv_area,
                                       std::uint32_t http_flags = 0) {
    const auto connect = fixtures::raw_connect_record(argv_area);
    cs_http_record record{};
    std::memcpy(&record.process, connect.data(), sizeof(record.process));
    record.process.kind = CS_RECORD_HTTP;
    record.headers = headers;
    record.http_flags = http_flags;
    record.method_len = put(record.method, method);
    record.path_len = put(record.path, path);
    record.version_len = put(record.version, "HTTP/1.1");
    record.user_agent_len = put(record.user_agent, user_agent);
    record.writes = 2;
    std::vector<std::byte> bytes(sizeof(record) + argv_area.size());
    std::memcpy(bytes.data(), &record, sizeof(record));
    std::memcpy(bytes.data() + sizeof(record), argv_area.data(), argv_area.size());
    return bytes;
}

TEST(DecodeHttpRecord, DecodesRequestAndProcessFields) {
    const auto bytes = raw_http_record("GET", "/latest/meta-data/", CS_HTTP_HEADER_HOST | CS_HTTP_HEADER_USER_AGENT,
                                       "aws-sdk-go/1.44", "app\0--serve\0"s);
    auto record = decode_record(bytes, ClockConverter());
    ASSERT_TRUE(record.ok()) << record.error().message;
    const auto* request = std::get_if<HttpRequestEvent>(&record.value());
    ASSERT_NE(request, nullptr);
    EXPECT_EQ(request->method, "GET");
    EXPECT_EQ(request->path, "/latest/meta-data/");
    EXPECT_EQ(request->version, "HTTP/1.1");
    EXPECT_EQ(request->user_agent, "aws-sdk-go/1.44");
    EXPECT_EQ(request->writes, 2U);
    EXPECT_EQ(header_names(request->headers), (std::vector<std::string>{"Host", "User-Agent"}));
    EXPECT_EQ(request->connection.pid, 1234U);
    EXPECT_EQ(request->connection.argv, (std::vector<std::string>{"app", "--serve"}));
    EXPECT_EQ(request->connection.destination.to_string(), "169.254.169.254");
    EXPECT_FALSE(request->head_incomplete);
}

TEST(DecodeHttpRecord, FlagsAndMalformedRecords) {
    auto flagged = decode_http_record(
        raw_http_record("GET", "/x", 0, "", "a\0"s, CS_HTTP_PATH_TRUNCATED | CS_HTTP_HEAD_INCOMPLETE),
        ClockConverter());
    ASSERT_TRUE(flagged.ok());
    EXPECT_TRUE(flagged->path_truncated);
    EXPECT_TRUE(flagged->head_incomplete);
    EXPECT_FALSE(flagged->user_agent_truncated);

    auto bytes = raw_http_record("GET", "/", 0, "", "a\0"s);
    EXPECT_FALSE(decode_http_record(std::span(bytes).first(sizeof(cs_http_record) - 1), ClockConverter()).ok());
    auto* record = reinterpret_cast<cs_http_record*>(bytes.data());
    record->path_len = CS_HTTP_PATH_LEN;  // longer than its buffer
    EXPECT_FALSE(decode_http_record(bytes, ClockConverter()).ok());
    record->path_len = 1;
    record->process.argv_len = 100;  // more argv than carried
    EXPECT_FALSE(decode_http_record(bytes, ClockConverter()).ok());
}

// The reader decodes every request into one it keeps: nothing of the last
// request (nor of its enrichment) shows in the next one.
TEST(DecodeHttpRecord, AReusedRequestEqualsAFreshDecode) {
    const auto first = raw_http_record("PUT", "/latest/api/token/a/long/path/that/needs/a/buffer",
                                       CS_HTTP_HEADER_IMDS_TOKEN_TTL | CS_HTTP_HEADER_USER_AGENT,
                                       "a-long-user-agent/1.2.3 (with details)", "first\0--one\0--two\0"s,
                                       CS_HTTP_USER_AGENT_TRUNCATED);
    const auto second = raw_http_record("GET", "/", 0, "", "b\0"s);
    HttpRequestEvent reused;
    ASSERT_TRUE(decode_http_record_into(first, ClockConverter(), reused).ok());
    EXPECT_TRUE(reused.user_agent_truncated);
    reused.connection.user = "enriched";
    reused.connection.ancestry = {AncestorProcess{1, "systemd", {"/sbin/init"}, false}};
    ASSERT_TRUE(decode_http_record_into(second, ClockConverter(), reused).ok());
    const auto fresh = decode_http_record(second, ClockConverter());
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(reused.method, "GET");
    EXPECT_EQ(reused.path, "/");
    EXPECT_EQ(reused.user_agent, "");
    EXPECT_EQ(reused.headers, 0U);
    EXPECT_FALSE(reused.user_agent_truncated);
    EXPECT_EQ(reused.connection.argv, (std::vector<std::string>{"b"}));
    EXPECT_TRUE(reused.connection.user.empty());
    EXPECT_TRUE(reused.connection.ancestry.empty());
    std::string reused_line;
    std::string fresh_line;
    append_http_json(reused_line, reused);
    append_http_json(fresh_line, *fresh);
    EXPECT_EQ(reused_line, fresh_line);
}

TEST(DecodeHttpRecord, TokenOnTheCallersCommandLineIsRedacted) {
    const auto bytes = raw_http_record("GET", "/latest/meta-data/", CS_HTTP_HEADER_IMDS_TOKEN, "",
                                       "curl\0-H\0X-aws-ec2-metadata-token: s3cr3t-t0ken\0http://169.254.169.254/\0"s);
    auto request = decode_http_record(bytes, ClockConverter());
    ASSERT_TRUE(request.ok());
    EXPECT_EQ(request->connection.argv[2], "X-aws-ec2-metadata-token: [redacted]");
}

HttpRequestEvent request_of(std::string method, std::string path, std::uint32_t headers = 0) {
    HttpRequestEvent request;
    request.connection = fixtures::sample_event();
    request.method = std::move(method);
    request.path = std::move(path);
    request.version = "HTTP/1.1";
    request.headers = headers;
    return request;
}

TEST(ClassifyImds, ByMethodPathAndTokenHeader) {
    EXPECT_EQ(classify_imds(request_of("PUT", "/latest/api/token", kHttpHeaderImdsTokenTtl)), ImdsVersion::v2_token);
    EXPECT_EQ(classify_imds(request_of("GET", "/latest/meta-data/", kHttpHeaderImdsToken)), ImdsVersion::v2);
    EXPECT_EQ(classify_imds(request_of("GET", "/latest/meta-data/")), ImdsVersion::v1);
    EXPECT_EQ(classify_imds(request_of("HEAD", "/latest/meta-data/")), ImdsVersion::v1);
    EXPECT_EQ(classify_imds(request_of("GET", "/2021-07-15/meta-data/")), ImdsVersion::v1);
    // the TTL header alone is no token
    EXPECT_EQ(classify_imds(request_of("GET", "/latest/user-data", kHttpHeaderImdsTokenTtl)), ImdsVersion::v1);
    EXPECT_EQ(classify_imds(request_of("GET", "/index.html")), ImdsVersion::none);
    EXPECT_EQ(classify_imds(request_of("POST", "/latest/meta-data/")), ImdsVersion::none);
    // A request line without a version (HTTP/0.9 style) is classified the same way.
    auto version_less = request_of("GET", "/latest/meta-data/");
    version_less.version.clear();
    EXPECT_EQ(classify_imds(version_less), ImdsVersion::v1);
    version_less.headers = kHttpHeaderImdsToken;
    EXPECT_EQ(classify_imds(version_less), ImdsVersion::v2);
    EXPECT_EQ(imds_version_name(ImdsVersion::v2_token), "imdsv2-token");
    EXPECT_EQ(imds_version_name(ImdsVersion::none), "");
}

TEST(RedactImdsTokens, ValuesGoTheTtlHeaderStays) {
    EXPECT_EQ(redact_imds_tokens("X-aws-ec2-metadata-token: abc"), "X-aws-ec2-metadata-token: [redacted]");
    EXPECT_EQ(redact_imds_tokens("x-AWS-ec2-metadata-TOKEN:abc def"), "x-AWS-ec2-metadata-TOKEN:[redacted]");
    EXPECT_EQ(redact_imds_tokens("--header=X-aws-ec2-metadata-token : t1\nX-aws-ec2-metadata-token: t2"),
              "--header=X-aws-ec2-metadata-token : [redacted]\nX-aws-ec2-metadata-token: [redacted]");
    EXPECT_EQ(redact_imds_tokens("X-aws-ec2-metadata-token-ttl-seconds: 21600"),
              "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    EXPECT_EQ(redact_imds_tokens("X-aws-ec2-metadata-token:"), "X-aws-ec2-metadata-token:");
    EXPECT_EQ(redact_imds_tokens("plain"), "plain");
    // A near miss just before the name, and several in one argument.
    EXPECT_EQ(redact_imds_tokens("xX-aws-ec2-metadata-token: a"), "xX-aws-ec2-metadata-token: [redacted]");
    EXPECT_EQ(redact_imds_tokens("X-aws-ec2-metadata-tokeX-AWS-EC2-METADATA-TOKEN:b"),
              "X-aws-ec2-metadata-tokeX-AWS-EC2-METADATA-TOKEN:[redacted]");
    EXPECT_EQ(redact_imds_tokens("é X-aws-ec2-metadata-token: a\r\nX-aws-ec2-metadata-token: b"),
              "é X-aws-ec2-metadata-token: [redacted]\r\nX-aws-ec2-metadata-token: [redacted]");
    EXPECT_EQ(redact_imds_tokens("x-aws-ec2-metadata-toke"), "x-aws-ec2-metadata-toke");
}

// The search skips ahead by the byte under the end of each window: the name
// is found at every offset, after any of its own letters, and a near miss
// (one letter off, anywhere) is not taken for it.
TEST(RedactImdsTokens, TheNameIsFoundAtEveryOffsetAfterAnyText) {
    const std::string name = "X-Aws-Ec2-Metadata-Token";
    for (const std::string filler : {"a", "-", "e", "n", "t", "N", "x-aws-ec2-metadata-toke", "metadata-token"}) {
        for (std::size_t offset = 0; offset <= 40; ++offset) {
            std::string prefix;
            while (prefix.size() < offset) prefix += filler;
            prefix.resize(offset);
            const auto text = prefix + name + ": secret";
            EXPECT_TRUE(may_hold_imds_token(text)) << text;
            EXPECT_EQ(redact_imds_tokens(text), prefix + name + ": [redacted]") << text;
            for (std::size_t changed = 0; changed < name.size(); ++changed) {
                auto near_miss = text;
                near_miss[offset + changed] = '_';
                EXPECT_FALSE(may_hold_imds_token(near_miss)) << near_miss;
            }
        }
    }
}

TEST(HttpTable, RequestColumnShowsMethodPathAndImdsVersion) {
    const TableLayout layout{TimeFormat::none, std::nullopt, false, true};
    EXPECT_EQ(format_table_header(layout),
              "    PID USER       DESTINATION           REQUEST                                      COMMAND");
    EXPECT_EQ(format_http_row(request_of("GET", "/latest/meta-data/"), layout),
              "   4321 root       169.254.169.254:80    GET /latest/meta-data/ (imdsv1)              "
              "curl -s http://169.254.169.254/");
    EXPECT_EQ(format_table_row(fixtures::sample_event(), layout),
              "   4321 root       169.254.169.254:80    -                                            "
              "curl -s http://169.254.169.254/");
    auto hostile = request_of("GET", "/\x1b[2J");
    hostile.path_truncated = true;
    EXPECT_EQ(format_request(hostile), "GET /\\x1b[2J…");
    EXPECT_EQ(format_request(request_of("PUT", "/latest/api/token")), "PUT /latest/api/token (imdsv2-token)");
}

TEST(HttpTable, OutcomeColumnsStayAligned) {
    const TableLayout layout{TimeFormat::none, std::nullopt, true, true};
    const auto header = format_table_header(layout);
    const auto row = format_http_row(request_of("GET", "/latest/meta-data/"), layout);
    EXPECT_EQ(row.find("GET"), header.find("REQUEST")) << header << "\n" << row;
}

TEST(HttpJson, TypeHttpWithHttpAndImdsObjects) {
    auto request =
        request_of("GET", "/latest/meta-data/", kHttpHeaderHost | kHttpHeaderUserAgent | kHttpHeaderImdsToken);
    request.user_agent = "Boto3/1.34";
    const auto record = http_to_json(request);
    EXPECT_EQ(record["type"], "http");
    EXPECT_EQ(record["pid"], 4321);
    EXPECT_EQ(record["cmdline"], "curl -s http://169.254.169.254/");
    EXPECT_EQ(record["http"]["method"], "GET");
    EXPECT_EQ(record["http"]["path"], "/latest/meta-data/");
    EXPECT_EQ(record["http"]["version"], "HTTP/1.1");
    EXPECT_EQ(record["http"]["headers_present"],
              nlohmann::ordered_json::array({"Host", "User-Agent", "X-aws-ec2-metadata-token"}));
    EXPECT_EQ(record["http"]["user_agent"], "Boto3/1.34");
    EXPECT_EQ(record["imds"]["version"], "imdsv2");
    EXPECT_FALSE(record.contains("result"));

    const auto plain = http_to_json(request_of("GET", "/index.html"));
    EXPECT_TRUE(plain["http"]["user_agent"].is_null());
    EXPECT_TRUE(plain["imds"]["version"].is_null());
    // invalid UTF-8 in a path never breaks the line
    EXPECT_NO_THROW((void)to_json_line(http_to_json(request_of("GET", "/\xff\xfe"))));
}

Options parse(std::vector<const char*> args) {
    args.insert(args.begin(), "connsnoop");
    auto parsed = parse_command_line(static_cast<int>(args.size()), args.data());
    if (auto* error = std::get_if<UsageError>(&parsed)) ADD_FAILURE() << error->message;
    return std::get<Options>(parsed);
}

TEST(HttpCommandLine, OffByDefaultAndPortsAddedOnce) {
    EXPECT_FALSE(parse({"--imds"}).tracer.http_capture);
    const auto http = parse({"--imds", "--http"});
    EXPECT_TRUE(http.tracer.http_capture);
    EXPECT_EQ(http.tracer.http_ports, (std::vector<std::uint16_t>{80}));
    EXPECT_FALSE(http.imds_v1_only);
    const auto ports = parse({"--dst", "10.0.0.1", "--http-port", "8080", "--http-port", "80", "--http-port", "8080"});
    EXPECT_TRUE(ports.tracer.http_capture);
    EXPECT_EQ(ports.tracer.http_ports, (std::vector<std::uint16_t>{80, 8080}));
    const char* bad[] = {"connsnoop", "--http-port", "http"};
    EXPECT_TRUE(std::holds_alternative<UsageError>(parse_command_line(3, bad)));
}

TEST(HttpCommandLine, ImdsV1ImpliesImdsAndHttp) {
    const auto options = parse({"--imds-v1"});
    EXPECT_TRUE(options.imds_v1_only);
    EXPECT_TRUE(options.tracer.http_capture);
    EXPECT_EQ(options.tracer.filters.destinations.size(), kMetadataEndpoints.size());
    EXPECT_EQ(options.tracer.filters.destination_ports, (std::vector<PortRange>{{80, 80}}));
    // with --imds as well, the destinations are not doubled
    EXPECT_EQ(parse({"--imds", "--imds-v1"}).tracer.filters.destinations.size(), kMetadataEndpoints.size());
}

TEST(RequestGroupings, KeysCycleAndCounting) {
    EXPECT_EQ(parse({"top", "--by", "imds"}).group_by, GroupBy::imds);
    EXPECT_TRUE(parse({"top", "--by", "path"}).tracer.http_capture);  // requests are what is grouped
    EXPECT_EQ(next_grouping(GroupBy::path), GroupBy::imds);
    EXPECT_EQ(next_grouping(GroupBy::imds), GroupBy::path);
    EXPECT_EQ(next_grouping(GroupBy::cgroup), GroupBy::container);
    EXPECT_EQ(next_grouping(GroupBy::port), GroupBy::command);
    EXPECT_EQ(request_group_key(request_of("GET", "/latest/meta-data/"), GroupBy::imds), "imdsv1");
    EXPECT_EQ(request_group_key(request_of("GET", "/index.html"), GroupBy::imds), "other");
    EXPECT_EQ(request_group_key(request_of("GET", "/index.html"), GroupBy::path), "/index.html");

    const MonoTime start = mono_time_from_ns(0);
    GroupedTalkers talkers({GroupBy::imds, GroupBy::command}, start);
    auto v1 = request_of("GET", "/latest/meta-data/");
    v1.connection.monotonic_ns = 1'000'000;
    talkers.record_request(v1);
    talkers.record_request(v1);
    talkers.record_attempt(v1.connection);  // a connection: counted by command only
    const auto v1_rows = talkers.table(GroupBy::imds).rows(start + std::chrono::seconds(1));
    ASSERT_EQ(v1_rows.size(), 1U);
    EXPECT_EQ(v1_rows[0].key, "imdsv1");
    EXPECT_EQ(v1_rows[0].attempts, 2U);
    EXPECT_EQ(v1_rows[0].label, "curl -s http://169.254.169.254/");
    EXPECT_EQ(talkers.table(GroupBy::command).rows(start + std::chrono::seconds(1)).at(0).attempts, 1U);
}

}  // namespace
}  // namespace connsnoop
