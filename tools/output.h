// Output of the devicepw tool: aligned tables and dates for people, JSON for scripts
// (the objects devicepw(1) documents), and the confirmation question.
#ifndef DEVICEPW_TOOLS_OUTPUT_H
#define DEVICEPW_TOOLS_OUTPUT_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "model.h"

namespace dpwtool {

using json = nlohmann::ordered_json;  // keys in the order they are set

// Columns as wide as their widest cell (in UTF-8 characters), two spaces apart, the last
// column not padded; the header line first. print_table writes to standard output.
void write_table(std::ostream &out, const std::vector<std::string> &header,
                 const std::vector<std::vector<std::string>> &rows);
void print_table(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows);
// The number of UTF-8 characters (code points) in s.
size_t display_width(const std::string &s);

// Two-space indented JSON with a final newline; invalid UTF-8 is replaced, not fatal.
std::string json_text(const json &j);
void print_json(const json &j);

// JSON values: a time as "YYYY-MM-DDTHH:MM:SSZ" or null; the DEVICE object of
// devicepw(1) with its status at now (services [] = every service; failures and
// last_failure as merged over the servers read); a mailbox reference {"address", "dn"}.
json opt_time(const std::optional<int64_t> &t);
json device_json(const Device &d, int64_t now);
json mailbox_ref_json(const Mailbox &m);

// A device's failed binds for tables: "0", or "3, last 2026-12-01 17:50" (local time).
std::string failures_text(const Device &d);

// A short name for a person's DN in tables: the uid when the DN starts with uid=.
std::string short_person(const std::string &dn);

// Asks question on standard error and reads one line from standard input: true for
// y or yes (any case, trailing spaces ignored); false otherwise and at end of input.
bool confirm(const std::string &question);

}  // namespace dpwtool

#endif
