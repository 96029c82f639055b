// The devicepw tool's dates (tools/timeutil.h): --expires values, and the forms shown to
// people, in JSON and to the server. Local times in a fixed zone (POSIX TZ rule, so that
// no tzdata is needed): CET, UTC+1, and CEST, UTC+2, in summer.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "errors.h"
#include "timeutil.h"

using namespace dpwtool;

namespace {

constexpr int64_t k2030 = 1893456000;  // 2030-01-01T00:00:00Z
constexpr int64_t kDay = 86400;

// Sets TZ for one test case and puts the previous value back.
struct CentralEurope {
    std::optional<std::string> saved;
    CentralEurope() {
        if (const char *tz = std::getenv("TZ")) saved = tz;
        ::setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
        ::tzset();
    }
    ~CentralEurope() {
        if (saved) ::setenv("TZ", saved->c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }
};

// The message of the UsageError that parse_expires throws, or "" when it does not throw.
std::string refusal(const std::string &s, int64_t now) {
    try {
        parse_expires(s, now);
    } catch (const ToolError &e) {
        BOOST_TEST(e.exit_code == kExitUsage, s);
        BOOST_TEST(!e.hint.empty(), s);
        return e.what();
    }
    return "";
}

bool has(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(tool_timeutil)

BOOST_AUTO_TEST_CASE(durations_count_from_now) {
    const int64_t now = k2030;
    BOOST_TEST(parse_expires("45s", now) == now + 45);
    BOOST_TEST(parse_expires("45sec", now) == now + 45);
    BOOST_TEST(parse_expires("30min", now) == now + 1800);
    BOOST_TEST(parse_expires("12h", now) == now + 12 * 3600);
    BOOST_TEST(parse_expires("90d", now) == now + 90 * kDay);
    BOOST_TEST(parse_expires("2w", now) == now + 14 * kDay);
    BOOST_TEST(parse_expires("1y", now) == now + 365 * kDay);  // 365 days, not a calendar year
    // Units in any case, spaces around and between.
    BOOST_TEST(parse_expires(" 90 D ", now) == now + 90 * kDay);
    BOOST_TEST(parse_expires("1MIN", now) == now + 60);
}

BOOST_AUTO_TEST_CASE(bad_durations) {
    BOOST_TEST(has(refusal("0d", k2030), "longer than zero"));
    for (const char *s : {"", "d", "90", "90 days", "-1d", "1.5h", "1m", "1234567890s", "90d x"})
        BOOST_TEST(has(refusal(s, k2030), "bad --expires"), s);
}

BOOST_AUTO_TEST_CASE(dates_in_utc) {
    const int64_t now = k2030 - kDay;
    BOOST_TEST(parse_expires("2030-01-01Z", now) == k2030);
    BOOST_TEST(parse_expires("2030-07-01T12:30:15Z", now) == 1909139415);
    BOOST_TEST(parse_expires("2030-07-01 12:30Z", now) == 1909139415 - 15);
    BOOST_TEST(parse_expires("20300101000000Z", now) == k2030);  // GeneralizedTime
    BOOST_TEST(parse_expires(" 20300101000000Z ", now) == k2030);
}

BOOST_FIXTURE_TEST_CASE(dates_in_local_time, CentralEurope) {
    const int64_t now = k2030 - kDay;
    BOOST_TEST(parse_expires("2030-01-02", now) == k2030 + kDay - 3600);        // 00:00 CET
    BOOST_TEST(parse_expires("2030-07-01 12:30", now) == 1909132200);         // CEST
    BOOST_TEST(parse_expires("2030-07-01T12:30:00", now) == 1909132200);
}

BOOST_FIXTURE_TEST_CASE(impossible_dates, CentralEurope) {
    for (const char *s : {"2030-02-30", "2030-13-01", "2030-00-10", "2030-01-01 24:00", "2030-01-01 12:60",
                          "2030-01-01 12:00:60"})
        BOOST_TEST(has(refusal(s, k2030 - kDay), "no such date or time"), s);
    BOOST_TEST(has(refusal("20301301000000Z", k2030 - kDay), "not a valid GeneralizedTime"));
    for (const char *s : {"2030-1-1", "01.01.2030", "2030-01-01 12", "tomorrow"})
        BOOST_TEST(has(refusal(s, k2030 - kDay), "bad --expires"), s);
}

BOOST_AUTO_TEST_CASE(the_expiry_must_lie_ahead) {
    BOOST_TEST(has(refusal("2030-01-01Z", k2030), "is not in the future"));  // now is not ahead
    BOOST_TEST(has(refusal("2029-12-31Z", k2030), "is not in the future"));
    BOOST_TEST(has(refusal("20290101000000Z", k2030), "is not in the future"));
    BOOST_TEST(parse_expires("2030-01-01T00:00:01Z", k2030) == k2030 + 1);
}

BOOST_AUTO_TEST_CASE(generalized_time_both_ways) {
    BOOST_TEST(gentime(k2030) == "20300101000000Z");
    BOOST_TEST(parse_gentime("20300101000000Z").value_or(0) == k2030);
    BOOST_TEST(parse_gentime(gentime(1909139415)).value_or(0) == 1909139415);
    BOOST_TEST(!parse_gentime("").has_value());
    BOOST_TEST(!parse_gentime("2030-01-01").has_value());
}

BOOST_FIXTURE_TEST_CASE(display_forms, CentralEurope) {
    BOOST_TEST(iso_utc(1909139415) == "2030-07-01T12:30:15Z");
    BOOST_TEST(iso_utc(0) == "1970-01-01T00:00:00Z");
    BOOST_TEST(local_time(1909139415) == "2030-07-01 14:30");
    BOOST_TEST(local_time(k2030) == "2030-01-01 01:00");
    BOOST_TEST(local_time_zone(1909139415) == "2030-07-01 14:30:15 +0200");
    BOOST_TEST(local_time_zone(k2030) == "2030-01-01 01:00:00 +0100");
}

BOOST_AUTO_TEST_CASE(now_is_the_clock) {
    const int64_t before = static_cast<int64_t>(std::time(nullptr));
    const int64_t now = now_epoch();
    BOOST_TEST(now >= before);
    BOOST_TEST(now <= static_cast<int64_t>(std::time(nullptr)));
}

BOOST_AUTO_TEST_SUITE_END()
