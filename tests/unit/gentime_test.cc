// GeneralizedTime parsing and formatting.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <ctime>
#include <random>
#include <string>

#include "devicepw_core.h"

namespace {

bool parse(const std::string &s, int64_t *t) { return dpw_gentime_parse(s.data(), s.size(), t) == 0; }

int64_t parsed(const std::string &s) {
    int64_t t = 0x7eadbeef;
    BOOST_TEST_REQUIRE(parse(s, &t), s << " should parse");
    return t;
}

std::string format(int64_t t) {
    char buf[16];
    std::memset(buf, 'X', sizeof buf);
    dpw_gentime_format(t, buf);
    BOOST_TEST_REQUIRE(buf[15] == '\0');
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gentime)

BOOST_AUTO_TEST_CASE(known_values) {
    BOOST_TEST(parsed("19700101000000Z") == 0);
    BOOST_TEST(parsed("19700101000001Z") == 1);
    BOOST_TEST(parsed("19691231235959Z") == -1);
    BOOST_TEST(parsed("20261128133600Z") == 1795872960);
    BOOST_TEST(parsed("20380119031408Z") == 2147483648);  // past 32-bit time_t
    BOOST_TEST(parsed("00010101000000Z") == -62135596800);
    BOOST_TEST(parsed("99991231235959Z") == 253402300799);
}

BOOST_AUTO_TEST_CASE(leap_years) {
    BOOST_TEST(parsed("20000229120000Z") == 951825600);
    BOOST_TEST(parsed("20240229000000Z") == 1709164800);
    BOOST_TEST(parsed("20240301000000Z") - parsed("20240228000000Z") == 2 * 86400);
    BOOST_TEST(parsed("20230301000000Z") - parsed("20230228000000Z") == 86400);
    BOOST_TEST(parsed("20000301000000Z") - parsed("20000228000000Z") == 2 * 86400);  // 400-year rule
    int64_t t;
    BOOST_TEST(!parse("21000229000000Z", &t));  // 2100 is not a leap year
    BOOST_TEST(!parse("19000229000000Z", &t));
    BOOST_TEST(!parse("20230229000000Z", &t));
    BOOST_TEST(!parse("20240230000000Z", &t));
}

BOOST_AUTO_TEST_CASE(fractions_and_short_forms) {
    const int64_t base = 1795872960;  // 2026-11-28 13:36:00Z
    BOOST_TEST(parsed("20261128133600.123Z") == base);
    BOOST_TEST(parsed("20261128133600,999999Z") == base);
    BOOST_TEST(parsed("20261128133659.9Z") == base + 59);
    BOOST_TEST(parsed("202611281336Z") == base);             // minutes only
    BOOST_TEST(parsed("202611281336.5Z") == base + 30);      // half a minute
    BOOST_TEST(parsed("2026112813Z") == base - 36 * 60);     // hour only
    BOOST_TEST(parsed("2026112813.6Z") == base);             // 0.6 hour = 36 minutes
    BOOST_TEST(parsed("20161231235960Z") == parsed("20170101000000Z"));  // leap second
}

BOOST_AUTO_TEST_CASE(offsets) {
    const int64_t base = 1795872960;
    BOOST_TEST(parsed("20261128143600+0100") == base);
    BOOST_TEST(parsed("20261128080600-0530") == base);
    BOOST_TEST(parsed("20261128153600+02") == base);
    BOOST_TEST(parsed("20261128133600+0000") == base);
    BOOST_TEST(parsed("20261128133600.5-0000") == base);
    BOOST_TEST(parsed("20261129003600+1100") == base);        // the next day, locally
    BOOST_TEST(parsed("202611281436+0100") == base);
    BOOST_TEST(parsed("19700101000000+0100") == -3600);
}

BOOST_AUTO_TEST_CASE(malformed) {
    int64_t t = 42;
    for (const char *bad : {"", "Z", "2026", "20261128", "202611281Z", "2026112813360Z", "20261128133600",
                            "20261128133600z", "20261128133600 Z", " 20261128133600Z", "20261128133600Z ",
                            "20261128133600ZZ", "20261128133600.Z", "20261128133600.", "2026112813360aZ",
                            "20261328133600Z", "20260028133600Z", "20261100133600Z", "20261132133600Z",
                            "20261131133600Z", "20261128243600Z", "20261128136000Z", "20261128133661Z",
                            "20261128133600+2400", "20261128133600+0160", "20261128133600+1", "20261128133600+123",
                            "20261128133600+01000", "20261128133600+", "-20261128133600Z", "+2026112813360Z",
                            "2026-11-28T13:36:00Z", "20261128133600.1+01x", "2026112813360000Z"}) {
        BOOST_TEST(!parse(bad, &t), bad);
    }
    BOOST_TEST(t == 42);  // untouched on failure
    BOOST_TEST(dpw_gentime_parse(nullptr, 0, &t) == -1);
    BOOST_TEST(dpw_gentime_parse("20261128133600Z", 15, nullptr) == -1);
    // The length given is what counts, not a NUL.
    BOOST_TEST(dpw_gentime_parse("20261128133600Z", 14, &t) == -1);
    BOOST_TEST(dpw_gentime_parse("20261128133600Zjunk", 15, &t) == 0);
}

BOOST_AUTO_TEST_CASE(format_known_values) {
    BOOST_TEST(format(0) == "19700101000000Z");
    BOOST_TEST(format(-1) == "19691231235959Z");
    BOOST_TEST(format(1795872960) == "20261128133600Z");
    BOOST_TEST(format(951825600) == "20000229120000Z");
    BOOST_TEST(format(253402300799) == "99991231235959Z");
    BOOST_TEST(format(-62135596800) == "00010101000000Z");
    // Outside four-digit years: clamped.
    BOOST_TEST(format(INT64_MAX) == "99991231235959Z");
    BOOST_TEST(format(INT64_MIN) == "00000101000000Z");
}

BOOST_AUTO_TEST_CASE(round_trip_and_agreement_with_the_c_library) {
    std::mt19937_64 gen(20261128);  // fixed seed: reproducible sample
    std::uniform_int_distribution<int64_t> dist(-62135596800, 253402300799);
    for (int i = 0; i < 20000; ++i) {
        const int64_t t = i < 3 ? int64_t{i} * 86400 - 1 : dist(gen);
        const std::string s = format(t);
        BOOST_TEST_REQUIRE(parsed(s) == t, s);
        // gmtime_r is the reference for formatting (never used by the core).
        const time_t tt = static_cast<time_t>(t);
        std::tm tm{};
        BOOST_TEST_REQUIRE(gmtime_r(&tt, &tm) != nullptr);
        char ref[32];
        std::snprintf(ref, sizeof ref, "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec);
        BOOST_TEST_REQUIRE(s == ref);
    }
}

BOOST_AUTO_TEST_SUITE_END()
