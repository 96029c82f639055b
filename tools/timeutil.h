// Dates for the devicepw tool: --expires values, local display, JSON (UTC, ISO 8601).
#ifndef DEVICEPW_TOOLS_TIMEUTIL_H
#define DEVICEPW_TOOLS_TIMEUTIL_H

#include <cstdint>
#include <optional>
#include <string>

namespace dpwtool {

int64_t now_epoch();  // the current time, epoch seconds

// An --expires value: a duration from now ("90d", "12h", "2w", "30min", "45s", "1y") or a
// date: "YYYY-MM-DD" (00:00 local time), "YYYY-MM-DD HH:MM[:SS]" or "YYYY-MM-DDTHH:MM[:SS]"
// (local time, or UTC with a final "Z"), or a GeneralizedTime "YYYYMMDDHHMMSSZ".
// Throws UsageError when malformed or not in the future.
int64_t parse_expires(const std::string &s, int64_t now);

// GeneralizedTime from the server -> epoch seconds; nullopt when malformed.
std::optional<int64_t> parse_gentime(const std::string &s);
std::string gentime(int64_t epoch);          // "YYYYMMDDHHMMSSZ"
std::string local_time(int64_t epoch);       // "YYYY-MM-DD HH:MM" in local time
std::string local_time_zone(int64_t epoch);  // "YYYY-MM-DD HH:MM:SS +0100" (messages)
std::string iso_utc(int64_t epoch);          // "YYYY-MM-DDTHH:MM:SSZ" (JSON)

}  // namespace dpwtool

#endif
