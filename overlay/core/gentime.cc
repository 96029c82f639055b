// GeneralizedTime (RFC 4517 section 3.3.13) to and from seconds since the epoch,
// with a days-from-civil computation instead of timegm(): no locale, no time zone
// database, no global state, about a hundred instructions.
//
//   GeneralizedTime = century year month day hour [ minute [ second ] ]
//                     [ fraction ] g-time-zone
//   fraction        = ( "." / "," ) 1*digit        (of the last unit given)
//   g-time-zone     = "Z" / ( "+" / "-" ) hour [ minute ]
//
// Seconds "60" (a leap second) is accepted and counts as the next minute's first
// second. Fractions are truncated towards the past to whole seconds.
#include <cstdint>

#include "devicepw_core.h"

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);              // [0, 399]
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;   // [0, 365]
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             // [0, 146096]
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
    int64_t y;
    unsigned m, d;
};

// Inverse of days_from_civil.
constexpr Civil civil_from_days(int64_t z) noexcept {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return Civil{static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11017).y == 2000 && civil_from_days(11017).m == 3);

constexpr bool leap(int64_t y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(int64_t y, unsigned m) noexcept {
    constexpr unsigned char kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads n digits at s[*pos]; false when fewer are there.
bool digits(const char *s, std::size_t len, std::size_t *pos, int n, unsigned *v) noexcept {
    if (len - *pos < static_cast<std::size_t>(n)) return false;
    unsigned r = 0;
    for (int i = 0; i < n; ++i) {
        const char c = s[*pos + i];
        if (!is_digit(c)) return false;
        r = r * 10 + static_cast<unsigned>(c - '0');
    }
    *pos += n;
    *v = r;
    return true;
}

// A 2-digit field at s[*pos] when one starts there.
bool optional_2digits(const char *s, std::size_t len, std::size_t *pos, unsigned *v) noexcept {
    return *pos < len && is_digit(s[*pos]) && digits(s, len, pos, 2, v);
}

constexpr int64_t kMinEpoch = days_from_civil(0, 1, 1) * 86400;
constexpr int64_t kMaxEpoch = days_from_civil(9999, 12, 31) * 86400 + 86399;

}  // namespace

extern "C" {

// Cannot throw (plain arithmetic).
int dpw_gentime_parse(const char *s, size_t len, int64_t *epoch) noexcept {
    if (s == nullptr || epoch == nullptr) return -1;
    std::size_t pos = 0;
    unsigned year, month, day, hour;
    if (!digits(s, len, &pos, 4, &year) || !digits(s, len, &pos, 2, &month) ||
        !digits(s, len, &pos, 2, &day) || !digits(s, len, &pos, 2, &hour))
        return -1;
    unsigned minute = 0, second = 0;
    int64_t unit = 3600;  // seconds in the last unit given: a fraction is of this
    if (optional_2digits(s, len, &pos, &minute)) {
        unit = 60;
        if (optional_2digits(s, len, &pos, &second)) unit = 1;
    }
    if (pos < len && is_digit(s[pos])) return -1;  // an odd digit count
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60)
        return -1;

    int64_t frac_seconds = 0;
    if (pos < len && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        // value/scale of the fraction, up to 12 digits (finer than a second for hours).
        int64_t value = 0, scale = 1;
        std::size_t n = 0;
        for (; pos < len && is_digit(s[pos]); ++pos, ++n) {
            if (n < 12) {
                value = value * 10 + (s[pos] - '0');
                scale *= 10;
            }
        }
        if (n == 0) return -1;
        frac_seconds = value * unit / scale;
    }

    int64_t offset = 0;  // local time minus UTC, in seconds
    if (pos >= len) return -1;
    const char tz = s[pos++];
    if (tz == '+' || tz == '-') {
        unsigned oh, om = 0;
        if (!digits(s, len, &pos, 2, &oh)) return -1;
        if (pos < len && !digits(s, len, &pos, 2, &om)) return -1;
        if (oh > 23 || om > 59) return -1;
        offset = (tz == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
    } else if (tz != 'Z') {
        return -1;
    }
    if (pos != len) return -1;

    *epoch = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second +
             frac_seconds - offset;
    return 0;
}

// Cannot throw (plain arithmetic).
// Values outside years 0000..9999 are clamped to that range (the format has 4 digits).
void dpw_gentime_format(int64_t epoch, char buf[16]) noexcept {
    if (buf == nullptr) return;
    if (epoch < kMinEpoch) epoch = kMinEpoch;
    if (epoch > kMaxEpoch) epoch = kMaxEpoch;
    int64_t days = epoch / 86400;
    int64_t secs = epoch % 86400;
    if (secs < 0) {
        secs += 86400;
        --days;
    }
    const Civil c = civil_from_days(days);
    const unsigned fields[6] = {static_cast<unsigned>(c.y), c.m, c.d,
                                static_cast<unsigned>(secs / 3600),
                                static_cast<unsigned>(secs / 60 % 60), static_cast<unsigned>(secs % 60)};
    char *p = buf;
    unsigned y = fields[0];
    p[0] = static_cast<char>('0' + y / 1000);
    p[1] = static_cast<char>('0' + y / 100 % 10);
    p[2] = static_cast<char>('0' + y / 10 % 10);
    p[3] = static_cast<char>('0' + y % 10);
    p += 4;
    for (int i = 1; i < 6; ++i) {
        *p++ = static_cast<char>('0' + fields[i] / 10);
        *p++ = static_cast<char>('0' + fields[i] % 10);
    }
    *p++ = 'Z';
    *p = '\0';
}

}  // extern "C"
