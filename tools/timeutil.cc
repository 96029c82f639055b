// Dates for the devicepw tool (timeutil.h): parsing --expires, formatting for people,
// for JSON and for the server.
#include "timeutil.h"

#include <cctype>
#include <ctime>
#include <limits>
#include <regex>

#include "devicepw_core.h"
#include "errors.h"

namespace dpwtool {

namespace {

const char *kExpiresHelp =
    "give a duration (90d, 12h, 2w, 30min, 45s, 1y) or a date: YYYY-MM-DD, "
    "\"YYYY-MM-DD HH:MM[:SS]\" (local time; add Z for UTC) or YYYYMMDDHHMMSSZ";

std::string fmt(const std::tm &tm, const char *f) {
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, f, &tm);
    return std::string(buf, n);
}

}  // namespace

int64_t now_epoch() { return static_cast<int64_t>(std::time(nullptr)); }

int64_t parse_expires(const std::string &s, int64_t now) {
    static const std::regex duration(R"(^\s*([0-9]{1,9})\s*(s|sec|min|h|d|w|y)\s*$)", std::regex::icase);
    static const std::regex date(
        R"(^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?\s*(Z)?\s*$)");
    static const std::regex gen(R"(^\s*[0-9]{12}(?:[0-9]{2})?(?:\.[0-9]+)?(?:Z|[+-][0-9]{4})\s*$)");
    std::smatch m;
    int64_t when;
    if (std::regex_match(s, m, duration)) {
        int64_t n = std::stoll(m[1]);
        std::string u = m[2];
        for (char &c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        int64_t unit = u == "s" || u == "sec" ? 1 : u == "min" ? 60 : u == "h" ? 3600 : u == "d" ? 86400
                       : u == "w" ? 7 * 86400 : 365 * 86400;
        if (n == 0) throw UsageError("bad --expires \"" + s + "\": a duration must be longer than zero", kExpiresHelp);
        when = now + n * unit;
    } else if (std::regex_match(s, m, date)) {
        std::tm tm{};
        tm.tm_year = std::stoi(m[1]) - 1900;
        tm.tm_mon = std::stoi(m[2]) - 1;
        tm.tm_mday = std::stoi(m[3]);
        tm.tm_hour = m[4].matched ? std::stoi(m[4]) : 0;
        tm.tm_min = m[5].matched ? std::stoi(m[5]) : 0;
        tm.tm_sec = m[6].matched ? std::stoi(m[6]) : 0;
        tm.tm_isdst = -1;
        const std::tm want = tm;
        std::time_t t = m[7].matched ? timegm(&tm) : std::mktime(&tm);
        if (t == static_cast<std::time_t>(-1) || tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon ||
            tm.tm_mday != want.tm_mday || want.tm_hour > 23 || want.tm_min > 59 || want.tm_sec > 59)
            throw UsageError("bad --expires \"" + s + "\": no such date or time", kExpiresHelp);
        when = t;
    } else if (std::regex_match(s, gen)) {
        std::string t = s;
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(t.begin());
        int64_t e;
        if (dpw_gentime_parse(t.data(), t.size(), &e) != 0)
            throw UsageError("bad --expires \"" + s + "\": not a valid GeneralizedTime", kExpiresHelp);
        when = e;
    } else {
        throw UsageError("bad --expires \"" + s + "\"", kExpiresHelp);
    }
    if (when <= now)
        throw UsageError("bad --expires \"" + s + "\": " + local_time_zone(when) + " is not in the future",
                         "a device's expiry must lie ahead; to stop a device now, revoke it.");
    return when;
}

std::optional<int64_t> parse_gentime(const std::string &s) {
    int64_t e;
    if (dpw_gentime_parse(s.data(), s.size(), &e) != 0) return std::nullopt;
    return e;
}

std::string gentime(int64_t epoch) {
    char buf[16];
    dpw_gentime_format(epoch, buf);
    return buf;
}

std::string local_time(int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    localtime_r(&t, &tm);
    return fmt(tm, "%Y-%m-%d %H:%M");
}

std::string local_time_zone(int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    localtime_r(&t, &tm);
    return fmt(tm, "%Y-%m-%d %H:%M:%S %z");
}

std::string iso_utc(int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt(tm, "%Y-%m-%dT%H:%M:%SZ");
}

}  // namespace dpwtool
