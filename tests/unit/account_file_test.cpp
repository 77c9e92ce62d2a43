// /etc/passwd and /etc/group read without NSS: the parser on fixture files
// that hold the odd lines real systems have, and the caches on top of it.
#include "util/account_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "enrich/user_names.hpp"

namespace connsnoop {
namespace {

const std::string kFixtures = CONNSNOOP_UNIT_FIXTURES_DIR;

std::string fixture(const std::string& name) {
    const auto text = read_account_file(kFixtures + "/" + name);
    EXPECT_TRUE(text.has_value()) << name;
    return text.value_or("");
}

TEST(AccountFile, NamesByIdFromAPasswdFile) {
    const auto names = parse_account_names(fixture("passwd"));
    EXPECT_EQ(names.at(0), "root");  // the first entry for an ID wins, as with getpwuid
    EXPECT_EQ(names.at(1), "daemon");
    EXPECT_EQ(names.at(33), "www-data");
    EXPECT_EQ(names.at(1000), "ec2-user");
    EXPECT_EQ(names.at(1001), "dos-line");
    EXPECT_EQ(names.at(1002), "dos-line2");  // a CRLF line end is not part of the ID
    EXPECT_EQ(names.at(65534), "nobody");
    // NIS +/- entries, an empty name, a missing or non-numeric ID are skipped.
    EXPECT_EQ(names.count(4000), 0U);
    EXPECT_EQ(names.count(5000), 0U);
    EXPECT_EQ(names.size(), 7U);
}

TEST(AccountFile, NamesByIdFromAGroupFile) {
    const auto names = parse_account_names(fixture("group"));
    EXPECT_EQ(names.at(4), "adm");
    EXPECT_EQ(names.at(999), "docker");
    EXPECT_EQ(names.at(2000), "last-without-newline");
    EXPECT_EQ(names.size(), 5U);
}

TEST(AccountFile, IdByName) {
    const auto passwd = fixture("passwd");
    EXPECT_EQ(find_account_id(passwd, "ec2-user"), 1000U);
    EXPECT_EQ(find_account_id(passwd, "toor"), 0U);
    EXPECT_EQ(find_account_id(passwd, "nobody"), 65534U);
    EXPECT_FALSE(find_account_id(passwd, "nisuser").has_value());
    EXPECT_FALSE(find_account_id(passwd, "blocked").has_value());
    EXPECT_FALSE(find_account_id(passwd, "broken-id").has_value());
    EXPECT_FALSE(find_account_id(passwd, "").has_value());
    EXPECT_FALSE(find_account_id(passwd, "ec2").has_value());  // whole names only
}

TEST(AccountFile, UnreadableFileIsNoText) { EXPECT_FALSE(read_account_file(kFixtures + "/no-such-file").has_value()); }

TEST(AccountNameCache, NamesNumbersAndAccountsAddedLater) {
    const auto path = std::filesystem::temp_directory_path() / ("connsnoop-passwd-" + std::to_string(getpid()));
    std::ofstream(path) << "root:x:0:0::/root:/bin/sh\n";
    UserNameCache users(path.string());
    EXPECT_EQ(users.name_of(0), "root");
    EXPECT_EQ(users.name_of(1000), "1000");
    std::ofstream(path, std::ios::app) << "ec2-user:x:1000:1000::/home/ec2-user:/bin/sh\n"
                                       << "svc:x:1001:1001::/:/bin/false\n";
    EXPECT_EQ(users.name_of(1000), "1000");  // an unknown ID is remembered, not read again per event
    EXPECT_EQ(users.name_of(1001), "svc");   // a new unknown ID reads the file again
    EXPECT_EQ(users.name_of(1000), "ec2-user");
    std::filesystem::remove(path);
}

TEST(AccountNameCache, TheHostsRootAccount) {
    EXPECT_EQ(UserNameCache().name_of(0), "root");
    EXPECT_EQ(GroupNameCache().name_of(0), "root");
}

}  // namespace
}  // namespace connsnoop
