// The devicepw program: keygen prints a line that the key ring accepts.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <ctime>
#include <string>

#include "devicepw_core.h"
#include "test_support.h"

namespace {

struct Run {
    int status;  // exit status, or -1 when the program did not exit normally
    std::string out;
};

Run run(const std::string &args) {
    const std::string cmd = std::string("'") + DEVICEPW_TOOL_PATH + "' " + args + " 2>/dev/null";
    FILE *p = ::popen(cmd.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    char buf[256];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int st = ::pclose(p);
    return Run{WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string local_date(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tool)

BOOST_AUTO_TEST_CASE(keygen_output_is_a_key_file_line) {
    const std::time_t before = std::time(nullptr);
    const Run r = run("keygen");
    const std::time_t after = std::time(nullptr);
    BOOST_TEST_REQUIRE(r.status == 0);
    auto p = dpwtest::parse(r.out);
    BOOST_TEST_REQUIRE(p.status == DPW_OK, p.err);
    // Default id: today's date (either side of a midnight during the run).
    const std::string id = dpw_keyring_current_id(p.ring.get());
    BOOST_TEST((id == local_date(before) || id == local_date(after)), id);
    BOOST_TEST(r.out.size() == id.size() + 1 + 64 + 1);
}

BOOST_AUTO_TEST_CASE(keygen_with_id_and_rotation) {
    const Run a = run("keygen --id k1");
    const Run b = run("keygen --id=k2");
    BOOST_TEST_REQUIRE(a.status == 0);
    BOOST_TEST_REQUIRE(b.status == 0);
    auto p = dpwtest::parse(a.out + b.out);
    BOOST_TEST_REQUIRE(p.status == DPW_OK, p.err);
    BOOST_TEST(std::string(dpw_keyring_current_id(p.ring.get())) == "k2");
}

BOOST_AUTO_TEST_CASE(keygen_refuses_bad_ids) {
    for (const char *args : {"keygen --id Bad", "keygen --id abcdefghijklmnopq", "keygen --id ''", "keygen --bogus",
                             "frobnicate"}) {
        const Run r = run(args);
        BOOST_TEST(r.status == 2, args);
        BOOST_TEST(r.out.empty(), args);
    }
}

BOOST_AUTO_TEST_CASE(help) {
    const Run top = run("--help");
    BOOST_TEST(top.status == 0);
    BOOST_TEST(top.out.find("keygen") != std::string::npos);
    const Run sub = run("keygen --help");
    BOOST_TEST(sub.status == 0);
    BOOST_TEST(sub.out.find("--id") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
