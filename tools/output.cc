// Output of the devicepw tool (output.h): tables, JSON, confirmation.
#include "output.h"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "timeutil.h"

namespace dpwtool {

size_t display_width(const std::string &s) {
    size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

void write_table(std::ostream &out, const std::vector<std::string> &header,
                 const std::vector<std::vector<std::string>> &rows) {
    std::vector<size_t> w(header.size(), 0);
    for (size_t i = 0; i < header.size(); ++i) w[i] = display_width(header[i]);
    for (const auto &r : rows)
        for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(r[i]));
    auto line = [&](const std::vector<std::string> &r) {
        std::string text;
        for (size_t i = 0; i < r.size(); ++i) {
            text += r[i];
            if (i + 1 < r.size()) text += std::string(w[i] - display_width(r[i]) + 2, ' ');
        }
        out << text << "\n";
    };
    line(header);
    for (const auto &r : rows) line(r);
}

void print_table(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows) {
    write_table(std::cout, header, rows);
}

std::string json_text(const json &j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

void print_json(const json &j) { std::cout << json_text(j); }

json opt_time(const std::optional<int64_t> &t) { return t ? json(iso_utc(*t)) : json(nullptr); }

json device_json(const Device &d, int64_t now) {
    json j;
    j["id"] = d.id;
    j["dn"] = d.dn;
    j["label"] = d.label;
    j["owner"] = d.owner ? json(*d.owner) : json(nullptr);
    j["services"] = d.services;
    j["created"] = opt_time(d.created);
    j["last_used"] = opt_time(d.last_used);
    j["failures"] = d.failures;
    j["last_failure"] = opt_time(d.last_failure);
    j["expires"] = opt_time(d.expires);
    j["revoked_at"] = opt_time(d.revoked_at);
    j["status"] = status_key(device_status(d, now));
    return j;
}

json mailbox_ref_json(const Mailbox &m) {
    json j;
    j["address"] = m.address;
    j["dn"] = m.dn();
    return j;
}

std::string failures_text(const Device &d) {
    std::string s = std::to_string(d.failures);
    if (d.last_failure) s += ", last " + local_time(*d.last_failure);
    return s;
}

std::string short_person(const std::string &dn) {
    if (auto uid = first_rdn_value(dn, "uid")) return *uid;
    return dn;
}

bool confirm(const std::string &question) {
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) {
        std::cerr << "\n";
        return false;
    }
    answer = lower(answer);
    while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back()))) answer.pop_back();
    return answer == "y" || answer == "yes";
}

}  // namespace dpwtool
