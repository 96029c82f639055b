// devicepw: the administrator's and user's command-line tool.
//
//   devicepw [--help] <command> [<subcommand>] [options] [arguments]
//
// Commands are rows of kCommands (keygen) and of the group tables (mailbox, device,
// user): a name, a one-line summary and a function that parses its own options
// (Boost.Program_options). To add a command, write its function and add a row.
//
// Connection options (-H -D -w -W -y -x -Y -U -X -R -Z/-ZZ) and the directory options
// (--mailbox-base, ...) are accepted anywhere on the command line.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "devicepw_core.h"
#include "errors.h"
#include "ldap_client.h"
#include "timeutil.h"

namespace po = boost::program_options;
using json = nlohmann::ordered_json;

namespace dpwtool {
namespace {

using Args = std::vector<std::string>;  // the arguments after the (sub)command name

// ---- shared options ------------------------------------------------------------------

struct Context {
    ConnOptions conn;
    std::optional<std::string> mailbox_base, mailbox_filter, mailbox_parent, people_base, person_filter;
    std::string command;  // "device add", for messages
};

constexpr const char *kDefaultMailboxFilter = "(mail=%s)";
constexpr const char *kDefaultPersonFilter = "(uid=%s)";

po::options_description connection_options() {
    po::options_description d("Connection options (as in ldap-utils; defaults from ldap.conf, .ldaprc, LDAP* variables)");
    d.add_options()
        ("uri,H", po::value<std::string>()->value_name("URI"), "LDAP URI of the server (ldap://, ldaps://, ldapi://)")
        ("binddn,D", po::value<std::string>()->value_name("DN"), "bind DN (simple bind); env DEVICEPW_BINDDN")
        ("password,w", po::value<std::string>()->value_name("PASSWORD"), "bind password (visible to other users: prefer -W or -y)")
        ("prompt-password,W", "prompt for the bind password (no echo)")
        ("password-file,y", po::value<std::string>()->value_name("FILE"),
         "read the bind password from FILE (one final newline is ignored); env DEVICEPW_PASSWORD_FILE")
        ("simple,x", "simple bind (anonymous without -D)")
        ("sasl-mech,Y", po::value<std::string>()->value_name("MECH"),
         "SASL bind with MECH, e.g. -Y EXTERNAL -H ldapi:/// as root on the server")
        ("sasl-authcid,U", po::value<std::string>()->value_name("NAME"), "SASL authentication identity")
        ("sasl-authzid,X", po::value<std::string>()->value_name("AUTHZID"), "SASL authorization identity")
        ("sasl-realm,R", po::value<std::string>()->value_name("REALM"), "SASL realm")
        ("starttls,Z", "StartTLS; -ZZ: require it to succeed")
        ("require-starttls", "the same as -ZZ")
        ("timeout", po::value<int>()->value_name("SECONDS"), "time limit of each LDAP operation (default 30)");
    return d;
}

po::options_description directory_options() {
    po::options_description d("Directory options (or environment DEVICEPW_MAILBOX_BASE, ...)");
    d.add_options()
        ("mailbox-base", po::value<std::string>()->value_name("DN"),
         "where mailboxes are searched (default: BASE from ldap.conf)")
        ("mailbox-filter", po::value<std::string>()->value_name("FILTER"),
         "filter that finds a mailbox by address; %s is the escaped address (default: (mail=%s))")
        ("mailbox-parent", po::value<std::string>()->value_name("DN"),
         "where mailbox create adds new mailboxes (default: ou=mailboxes,<BASE>)")
        ("people-base", po::value<std::string>()->value_name("DN"),
         "where a person given by uid is searched (default: BASE)")
        ("person-filter", po::value<std::string>()->value_name("FILTER"),
         "filter that finds a person; %s is the escaped name (default: (uid=%s))");
    return d;
}

// Fills ctx from vm for every option that vm holds (later calls override earlier ones).
void apply_options(const po::variables_map &vm, Context &ctx) {
    auto str = [&](const char *name, std::optional<std::string> &out) {
        if (vm.count(name)) out = vm[name].as<std::string>();
    };
    ConnOptions &c = ctx.conn;
    str("uri", c.uri);
    str("binddn", c.binddn);
    str("password", c.password);
    str("password-file", c.password_file);
    str("sasl-mech", c.sasl_mech);
    str("sasl-authcid", c.sasl_authcid);
    str("sasl-authzid", c.sasl_authzid);
    str("sasl-realm", c.sasl_realm);
    if (vm.count("prompt-password")) c.prompt_password = true;
    if (vm.count("simple")) c.simple = true;
    if (vm.count("starttls")) c.starttls = std::max(c.starttls, 1);
    if (vm.count("require-starttls")) c.starttls = 2;
    if (vm.count("timeout")) {
        c.timeout_s = vm["timeout"].as<int>();
        if (c.timeout_s <= 0) throw UsageError("--timeout must be a positive number of seconds");
    }
    str("mailbox-base", ctx.mailbox_base);
    str("mailbox-filter", ctx.mailbox_filter);
    str("mailbox-parent", ctx.mailbox_parent);
    str("people-base", ctx.people_base);
    str("person-filter", ctx.person_filter);
}

// Environment: DEVICEPW_MAILBOX_BASE -> mailbox-base, ... (only these names).
void apply_environment(Context &ctx) {
    po::options_description env;
    env.add(directory_options());
    env.add_options()
        ("binddn", po::value<std::string>())
        ("password-file", po::value<std::string>());
    po::variables_map vm;
    try {
        po::store(po::parse_environment(env,
                                        [&](const std::string &var) -> std::string {
                                            static const std::string prefix = "DEVICEPW_";
                                            if (var.compare(0, prefix.size(), prefix) != 0) return "";
                                            std::string name = var.substr(prefix.size());
                                            for (char &ch : name)
                                                ch = ch == '_' ? '-' : static_cast<char>(std::tolower(
                                                                           static_cast<unsigned char>(ch)));
                                            return env.find_nothrow(name, false) ? name : "";
                                        }),
                  vm);
    } catch (const po::error &e) {
        throw UsageError(std::string("in the environment: ") + e.what());
    }
    apply_options(vm, ctx);
}

// Parses a command's options; returns false when --help was given (and printed).
bool parse_command_line(const std::string &usage, const po::options_description &visible,
                        const po::options_description &all, const po::positional_options_description &pos,
                        const Args &args, po::variables_map &vm, Context *ctx, const char *details = nullptr) {
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error &e) {
        if (vm.count("help") == 0) throw UsageError(e.what());
    }
    if (vm.count("help")) {
        std::cout << "Usage: " << usage << "\n\n";
        if (details) std::cout << details << "\n";
        std::cout << visible;
        if (ctx) std::cout << "\n" << connection_options() << "\n" << directory_options();
        std::cout << "\n" << exit_codes_help();
        return false;
    }
    if (ctx) apply_options(vm, *ctx);
    return true;
}

// A command whose one positional argument is a mailbox ADDRESS: adds the connection
// and directory options, parses, and returns the address (nullopt after --help).
std::optional<std::string> parse_address_command(Context &ctx, const Args &args,
                                                 const po::options_description &own, const std::string &usage,
                                                 const char *details, const std::string &name,
                                                 po::variables_map &vm) {
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options()).add_options()("address", po::value<std::string>());
    po::positional_options_description pos;
    pos.add("address", 1);
    if (!parse_command_line(usage, own, all, pos, args, vm, &ctx, details)) return std::nullopt;
    if (!vm.count("address")) throw UsageError(name + " needs an ADDRESS");
    return vm["address"].as<std::string>();
}

// ---- output ----------------------------------------------------------------------

size_t display_width(const std::string &s) {
    size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

void print_table(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows) {
    std::vector<size_t> w(header.size(), 0);
    for (size_t i = 0; i < header.size(); ++i) w[i] = display_width(header[i]);
    for (const auto &r : rows)
        for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(r[i]));
    auto line = [&](const std::vector<std::string> &r) {
        std::string out;
        for (size_t i = 0; i < r.size(); ++i) {
            out += r[i];
            if (i + 1 < r.size()) out += std::string(w[i] - display_width(r[i]) + 2, ' ');
        }
        std::cout << out << "\n";
    };
    line(header);
    for (const auto &r : rows) line(r);
}

void print_json(const json &j) {
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

json opt_time(const std::optional<int64_t> &t) { return t ? json(iso_utc(*t)) : json(nullptr); }

// ---- directory model -----------------------------------------------------------------

struct Mailbox {
    std::string address;  // as given, or the mail attribute in listings
    Entry entry;
    const std::string &dn() const { return entry.dn; }
    std::vector<std::string> users() const { return entry.values("devicepwUser"); }
};

struct Device {
    std::string id, dn, label;
    std::optional<std::string> owner;
    std::optional<int64_t> created, last_used, expires, revoked_at;
    bool revoked = false;

    std::string status(int64_t now) const {
        if (revoked) return "revoked";
        if (expires && *expires <= now) return "expired";
        return "active";
    }
};

const std::vector<std::string> kMailboxAttrs = {"objectClass", "mail", "uid", "cn", "devicepwUser"};
const std::vector<std::string> kDeviceAttrs = {"devicepwId",      "devicepwLabel",    "devicepwOwner",
                                               "devicepwExpires", "devicepwRevoked",  "devicepwRevokedAt",
                                               "devicepwLastUsed", "createTimestamp"};

int64_t now_epoch() { return static_cast<int64_t>(std::time(nullptr)); }

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool has_class(const Entry &e, const std::string &oc) {
    for (const auto &v : e.values("objectClass"))
        if (lower(v) == lower(oc)) return true;
    return false;
}

Device device_from(const Entry &e) {
    Device d;
    d.dn = e.dn;
    d.id = e.first("devicepwId").value_or(first_rdn_value(e.dn, "devicepwId").value_or("?"));
    d.label = e.first("devicepwLabel").value_or("");
    d.owner = e.first("devicepwOwner");
    auto t = [&](const char *a) -> std::optional<int64_t> {
        auto v = e.first(a);
        return v ? parse_gentime(*v) : std::nullopt;
    };
    d.created = t("createTimestamp");
    d.last_used = t("devicepwLastUsed");
    d.expires = t("devicepwExpires");
    d.revoked_at = t("devicepwRevokedAt");
    auto r = e.first("devicepwRevoked");
    d.revoked = r && lower(*r) == "true";
    return d;
}

json device_json(const Device &d, int64_t now) {
    json j;
    j["id"] = d.id;
    j["dn"] = d.dn;
    j["label"] = d.label;
    j["owner"] = d.owner ? json(*d.owner) : json(nullptr);
    j["created"] = opt_time(d.created);
    j["last_used"] = opt_time(d.last_used);
    j["expires"] = opt_time(d.expires);
    j["revoked_at"] = opt_time(d.revoked_at);
    j["status"] = d.status(now);
    return j;
}

json mailbox_ref_json(const Mailbox &m) {
    json j;
    j["address"] = m.address;
    j["dn"] = m.dn();
    return j;
}

// A short name for a person's DN in tables: the uid when the DN starts with uid=.
std::string short_person(const std::string &dn) {
    if (auto uid = first_rdn_value(dn, "uid")) return *uid;
    return dn;
}

class Directory {
public:
    Directory(Context &ctx) : ctx_(ctx), ldap_(ctx.conn) {}
    Ldap &ldap() { return ldap_; }

    std::string base() {
        std::string b = ldap_.default_base();
        if (b.empty())
            throw UsageError("no search base is configured",
                             "give --mailbox-base DN (and --people-base DN), or set BASE in ldap.conf or LDAPBASE.");
        return b;
    }
    std::string mailbox_base() { return ctx_.mailbox_base ? *ctx_.mailbox_base : base(); }
    std::string people_base() { return ctx_.people_base ? *ctx_.people_base : base(); }
    std::string mailbox_parent() {
        if (ctx_.mailbox_parent) return *ctx_.mailbox_parent;
        std::string b = ldap_.default_base();
        if (b.empty())
            throw UsageError("no parent DN for new mailboxes is configured",
                             "give --mailbox-parent DN, or set BASE in ldap.conf (the default is ou=mailboxes,<BASE>).");
        return "ou=mailboxes," + b;
    }

    static std::string fill(const std::string &filter, const std::string &value) {
        std::string out, esc = filter_escape(value);
        for (size_t i = 0; i < filter.size(); ++i) {
            if (filter[i] == '%' && i + 1 < filter.size() && filter[i + 1] == 's') {
                out += esc;
                ++i;
            } else {
                out += filter[i];
            }
        }
        return out;
    }

    // The entries that the mailbox filter finds for address (any number).
    std::vector<Entry> find_address(const std::string &address, std::string &base, std::string &filter) {
        base = mailbox_base();
        filter = fill(ctx_.mailbox_filter.value_or(kDefaultMailboxFilter), address);
        return ldap_.search(base, LDAP_SCOPE_SUBTREE, filter, kMailboxAttrs,
                            "searching for mailbox " + address + " with " + filter + " under " + base);
    }

    Mailbox mailbox(const std::string &address) {
        std::string base, filter;
        auto found = find_address(address, base, filter);
        if (found.empty())
            throw NotFound("no mailbox " + address + ": nothing matches " + filter + " under " + base,
                           "check the address; the search is set by --mailbox-base and --mailbox-filter "
                           "(or DEVICEPW_MAILBOX_BASE / DEVICEPW_MAILBOX_FILTER); create one with "
                           "devicepw mailbox create " + address + ".");
        if (found.size() > 1) {
            std::string list;
            for (const auto &e : found) list += "\n  " + e.dn;
            throw NotFound("mailbox " + address + " is ambiguous: " + std::to_string(found.size()) + " entries match " +
                               filter + " under " + base + ":" + list,
                           "make the search more specific with --mailbox-filter or --mailbox-base.");
        }
        if (!has_class(found.front(), "devicepwMailbox"))
            throw NotFound(found.front().dn + " (found for " + address + " with " + filter + " under " + base +
                               ") is not a mailbox: it has no objectClass devicepwMailbox",
                           "make it one with: devicepw mailbox create " + address);
        return Mailbox{address, found.front()};
    }

    // A person given as a DN (must exist) or as a name found with the person filter.
    std::string person(const std::string &who) {
        if (looks_like_dn(who)) {
            auto e = ldap_.read(who, {"1.1"}, "reading person " + who);
            if (!e) throw NotFound("no entry " + who, "give an existing DN, or a uid.");
            return e->dn;
        }
        const std::string b = people_base();
        const std::string f = fill(ctx_.person_filter.value_or(kDefaultPersonFilter), who);
        auto found = ldap_.search(b, LDAP_SCOPE_SUBTREE, f, {"1.1"}, "searching for person " + who + " with " + f +
                                                                         " under " + b);
        if (found.empty())
            throw NotFound("no person " + who + ": nothing matches " + f + " under " + b,
                           "give the person's DN, or set the search with --people-base and --person-filter.");
        if (found.size() > 1) {
            std::string list;
            for (const auto &e : found) list += "\n  " + e.dn;
            throw NotFound("person " + who + " is ambiguous: " + std::to_string(found.size()) + " entries match " + f +
                               " under " + b + ":" + list,
                           "give the person's DN instead.");
        }
        return found.front().dn;
    }

    std::vector<Device> devices(const Mailbox &m) {
        auto entries = ldap_.search(m.dn(), LDAP_SCOPE_ONELEVEL, "(objectClass=devicepwDevice)", kDeviceAttrs,
                                    "listing the devices of " + m.address);
        std::vector<Device> out;
        for (const auto &e : entries) out.push_back(device_from(e));
        std::stable_sort(out.begin(), out.end(), [](const Device &a, const Device &b) {
            if (a.created != b.created) return a.created.value_or(0) < b.created.value_or(0);
            return a.id < b.id;
        });
        return out;
    }

    // A device given by id or label (id first; a label matching several devices is refused).
    Device device(const Mailbox &m, const std::string &spec) {
        auto all = devices(m);
        for (const auto &d : all)
            if (d.id == lower(spec) && dpw_id_valid(spec.data(), spec.size())) return d;
        std::vector<Device> by_label;
        for (const auto &d : all)
            if (lower(d.label) == lower(spec)) by_label.push_back(d);
        if (by_label.size() == 1) return by_label.front();
        if (by_label.empty())
            throw NotFound("mailbox " + m.address + " has no device with id or label \"" + spec + "\"",
                           "see its devices with: devicepw device list " + m.address);
        std::string list;
        const int64_t now = now_epoch();
        for (const auto &d : by_label)
            list += "\n  " + d.id + "  " + d.label + "  (" + d.status(now) +
                    (d.created ? ", created " + local_time(*d.created) : std::string()) + ")";
        throw NotFound("label \"" + spec + "\" is ambiguous: " + std::to_string(by_label.size()) + " devices of " +
                           m.address + " have it:" + list,
                       "give the device's id instead.");
    }

private:
    Context &ctx_;
    Ldap ldap_;
};

// ---- confirmation ----------------------------------------------------------------------

// Asks on stderr, reads one line from standard input; true for y/yes.
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

// ---- mailbox commands ------------------------------------------------------------------

int cmd_mailbox_create(Context &ctx, const Args &args) {
    po::options_description own("mailbox create options");
    own.add_options()("help,h", "show this help")
        ("name", po::value<std::string>()->value_name("TEXT"), "cn and sn of a new entry (default: the address)");
    po::variables_map vm;
    const auto address_arg = parse_address_command(
        ctx, args, own, "devicepw mailbox create ADDRESS [--name TEXT] [--mailbox-parent DN]",
        "Create the mailbox ADDRESS, with no password (its devices get their own).\n"
        "A new entry is uid=ADDRESS,<mailbox parent> with objectClass inetOrgPerson and\n"
        "devicepwMailbox, uid and mail ADDRESS, cn and sn TEXT. When the mailbox filter\n"
        "already finds one entry for ADDRESS that is not a mailbox, objectClass\n"
        "devicepwMailbox is added to that entry instead.\n",
        "mailbox create", vm);
    if (!address_arg) return 0;
    const std::string address = *address_arg;
    const std::string name = vm.count("name") ? vm["name"].as<std::string>() : address;
    Directory dir(ctx);
    std::string base, filter;
    auto found = dir.find_address(address, base, filter);
    if (found.size() > 1) {
        std::string list;
        for (const auto &e : found) list += "\n  " + e.dn;
        throw NotFound("address " + address + " is ambiguous: " + std::to_string(found.size()) + " entries match " +
                           filter + " under " + base + ":" + list,
                       "make the search more specific with --mailbox-filter or --mailbox-base.");
    }
    if (found.size() == 1) {
        const Entry &e = found.front();
        if (has_class(e, "devicepwMailbox"))
            throw ToolError(kExitRefused, address + " is already a mailbox: " + e.dn,
                            "see it with: devicepw mailbox show " + address);
        dir.ldap().modify(e.dn, {Mod{LDAP_MOD_ADD, "objectClass", {"devicepwMailbox"}}},
                          "making " + e.dn + " a mailbox");
        std::cout << "Made the existing entry " << e.dn << " the mailbox " << address << ".\n";
        return 0;
    }
    const std::string parent = dir.mailbox_parent();
    const std::string dn = make_rdn("uid", address) + "," + parent;
    try {
        dir.ldap().add(dn,
                       {{"objectClass", {"inetOrgPerson", "devicepwMailbox"}},
                        {"uid", {address}},
                        {"mail", {address}},
                        {"cn", {name}},
                        {"sn", {name}}},
                       "adding mailbox " + dn);
    } catch (const LdapError &e) {
        if (e.rc == LDAP_NO_SUCH_OBJECT)
            throw ToolError(kExitNotFound, e.what(),
                            "the parent " + parent + " does not exist: create it, or choose another with "
                            "--mailbox-parent DN (or DEVICEPW_MAILBOX_PARENT).");
        throw;
    }
    std::cout << "Created mailbox " << address << ": " << dn << "\n"
              << "It has no password. Add a device with: devicepw device add " << address << " --label TEXT\n";
    return 0;
}

int cmd_mailbox_show(Context &ctx, const Args &args) {
    po::options_description own("mailbox show options");
    own.add_options()("help,h", "show this help")("json", "print JSON (see devicepw(1))");
    po::variables_map vm;
    const auto address = parse_address_command(ctx, args, own, "devicepw mailbox show ADDRESS [--json]",
                                               "Show a mailbox: its DN, its users and its devices.\n",
                                               "mailbox show", vm);
    if (!address) return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(*address);
    auto devices = dir.devices(m);
    const int64_t now = now_epoch();
    if (vm.count("json")) {
        json j = mailbox_ref_json(m);
        j["users"] = m.users();
        j["devices"] = json::array();
        for (const auto &d : devices) j["devices"].push_back(device_json(d, now));
        print_json(j);
        return 0;
    }
    std::cout << "Mailbox:  " << m.address << "\nDN:       " << m.dn() << "\nUsers:    ";
    auto users = m.users();
    if (users.empty()) std::cout << "none\n";
    for (size_t i = 0; i < users.size(); ++i) std::cout << (i ? "          " : "") << users[i] << "\n";
    int active = 0;
    for (const auto &d : devices) active += d.status(now) == "active";
    std::cout << "Devices:  " << devices.size() << " (" << active << " active)\n";
    if (!devices.empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const auto &d : devices)
            rows.push_back({d.id, d.label, d.last_used ? local_time(*d.last_used) : "never", d.status(now)});
        std::cout << "\n";
        print_table({"ID", "LABEL", "LAST USED", "STATUS"}, rows);
    }
    return 0;
}

int cmd_mailbox_list(Context &ctx, const Args &args) {
    po::options_description own("mailbox list options");
    own.add_options()("help,h", "show this help")("json", "print JSON (see devicepw(1))")
        ("user", po::value<std::string>()->value_name("PERSON"), "only the mailboxes PERSON (DN or uid) is a user of");
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options());
    po::positional_options_description pos;
    po::variables_map vm;
    if (!parse_command_line("devicepw mailbox list [--user PERSON] [--json]", own, all, pos, args, vm, &ctx,
                            "List the mailboxes (entries with objectClass devicepwMailbox) under the mailbox base.\n"))
        return 0;
    Directory dir(ctx);
    const std::string base = dir.mailbox_base();
    std::string filter = "(objectClass=devicepwMailbox)";
    std::optional<std::string> user;
    if (vm.count("user")) {
        user = dir.person(vm["user"].as<std::string>());
        filter = "(&" + filter + "(devicepwUser=" + filter_escape(*user) + "))";
    }
    auto entries = dir.ldap().search(base, LDAP_SCOPE_SUBTREE, filter, kMailboxAttrs,
                                     "listing mailboxes with " + filter + " under " + base);
    auto devs = dir.ldap().search(base, LDAP_SCOPE_SUBTREE, "(objectClass=devicepwDevice)", {"1.1"},
                                  "counting devices under " + base);
    std::map<std::string, int> count;
    for (const auto &d : devs) {
        auto comma = d.dn.find(',');
        if (comma != std::string::npos) ++count[lower(d.dn.substr(comma + 1))];
    }
    std::vector<Mailbox> boxes;
    for (auto &e : entries) {
        std::string address = e.first("mail").value_or(e.first("uid").value_or(""));
        boxes.push_back(Mailbox{address, e});
    }
    std::sort(boxes.begin(), boxes.end(), [](const Mailbox &a, const Mailbox &b) {
        return lower(a.address) != lower(b.address) ? lower(a.address) < lower(b.address) : a.dn() < b.dn();
    });
    if (vm.count("json")) {
        json j;
        j["mailboxes"] = json::array();
        for (const auto &m : boxes) {
            json x = mailbox_ref_json(m);
            if (m.address.empty()) x["address"] = nullptr;
            x["users"] = m.users();
            x["devices"] = count[lower(m.dn())];
            j["mailboxes"].push_back(x);
        }
        print_json(j);
        return 0;
    }
    if (boxes.empty()) {
        std::cout << "No mailboxes" << (user ? " for " + *user : std::string()) << " under " << base << ".\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto &m : boxes)
        rows.push_back({m.address.empty() ? "-" : m.address, std::to_string(count[lower(m.dn())]),
                        std::to_string(m.users().size()), m.dn()});
    print_table({"ADDRESS", "DEVICES", "USERS", "DN"}, rows);
    return 0;
}

int cmd_mailbox_delete(Context &ctx, const Args &args) {
    // -y is the password file in ldap-utils: here only --yes is accepted for confirmation.
    po::options_description own_long("mailbox delete options");
    own_long.add_options()("help,h", "show this help")("yes", "do not ask for confirmation");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own_long, "devicepw mailbox delete ADDRESS [--yes]",
        "Delete the mailbox entry and all its devices. Asks first unless --yes.\n", "mailbox delete", vm);
    if (!address) return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(*address);
    auto devices = dir.devices(m);
    if (!vm.count("yes") &&
        !confirm("Delete mailbox " + m.address + " (" + m.dn() + ") and its " + std::to_string(devices.size()) +
                 " device(s)? This cannot be undone.")) {
        std::cerr << "Nothing was deleted.\n";
        return kExitFailure;
    }
    for (const auto &d : devices) dir.ldap().del(d.dn, "deleting device " + d.id + " of " + m.address);
    dir.ldap().del(m.dn(), "deleting mailbox " + m.dn());
    std::cout << "Deleted mailbox " << m.address << " (" << m.dn() << ") and its " << devices.size()
              << " device(s).\n";
    return 0;
}

// ---- device commands -------------------------------------------------------------------

void print_secret(const Mailbox &m, const Device &d, const std::string &secret, bool rotated) {
    std::cout << (rotated ? "New password for device " : "Added device ") << d.id << " \"" << d.label << "\""
              << (rotated ? " of " : " to ") << m.address << ".\n\n"
              << "    " << secret << "\n\n"
              << "This password is shown only now and cannot be shown again. Enter it in the device\n"
              << "(as the password of " << m.address << ") and do not store it anywhere else.\n";
    if (rotated) std::cout << "The device's previous password no longer works.\n";
    if (d.expires) std::cout << "It stops working at " << local_time_zone(*d.expires) << ".\n";
}

void emit_secret(bool quiet, bool as_json, const Mailbox &m, const Device &d, const std::string &secret,
                 bool rotated) {
    if (quiet) {
        std::cout << secret << "\n";
    } else if (as_json) {
        json j;
        j["mailbox"] = mailbox_ref_json(m);
        j["device"] = device_json(d, now_epoch());
        j["secret"] = secret;
        print_json(j);
    } else {
        print_secret(m, d, secret, rotated);
    }
    std::cout.flush();
}

po::options_description secret_output_options(const char *title) {
    po::options_description d(title);
    d.add_options()("help,h", "show this help")
        ("quiet,q", "print only the password (for scripts)")
        ("json", "print the device and its password as JSON (see devicepw(1))");
    return d;
}

int cmd_device_add(Context &ctx, const Args &args) {
    po::options_description own = secret_output_options("device add options");
    own.add_options()
        ("label", po::value<std::string>()->value_name("TEXT"), "what the person calls the device (required)")
        ("owner", po::value<std::string>()->value_name("PERSON"),
         "the person the device belongs to, DN or uid (default: the one who adds it)")
        ("expires", po::value<std::string>()->value_name("DATE|DURATION"),
         "when the device stops working: 90d, 12h, 2w, 30min, 1y, YYYY-MM-DD (00:00 local), "
         "\"YYYY-MM-DD HH:MM\" (local; Z for UTC), YYYYMMDDHHMMSSZ");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own, "devicepw device add ADDRESS --label TEXT [--owner PERSON] [--expires DATE|DURATION]",
        "Add a device to the mailbox and generate its password in one step. The password\n"
        "is printed once and cannot be shown again. If generating it fails, the device\n"
        "entry is removed again.\n",
        "device add", vm);
    if (!address) return 0;
    if (!vm.count("label")) throw UsageError("device add needs --label TEXT (what the person calls the device)");
    if (vm.count("quiet") && vm.count("json")) throw UsageError("--quiet and --json cannot be combined");
    const std::string label = vm["label"].as<std::string>();
    if (const char *problem = dpw_label_problem(label.data(), label.size()))
        throw UsageError("bad --label \"" + label + "\": " + problem);
    std::optional<int64_t> expires;
    if (vm.count("expires")) expires = parse_expires(vm["expires"].as<std::string>(), now_epoch());

    Directory dir(ctx);
    Mailbox m = dir.mailbox(*address);
    std::optional<std::string> owner;
    if (vm.count("owner")) owner = dir.person(vm["owner"].as<std::string>());

    std::string id, dn;
    for (int attempt = 0;; ++attempt) {
        char buf[DPW_ID_MAX + 1];
        if (dpw_id_generate(buf) != DPW_OK) throw ToolError(kExitFailure, "cannot generate a device id");
        id = buf;
        dn = "devicepwId=" + id + "," + m.dn();
        AddAttrs attrs = {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}};
        if (owner) attrs.push_back({"devicepwOwner", {*owner}});
        if (expires) attrs.push_back({"devicepwExpires", {gentime(*expires)}});
        int rc = dir.ldap().add(dn, attrs, "adding device " + dn, {LDAP_ALREADY_EXISTS});
        if (rc == LDAP_SUCCESS) break;
        if (attempt >= 9)
            throw ToolError(kExitRefused, "adding a device to " + m.address + " failed: 10 generated ids were all taken",
                            "the mailbox has very many devices; delete the ones it no longer needs.");
    }
    std::string secret;
    try {
        secret = dir.ldap().passwd_generate(dn, "generating the password of device " + dn);
    } catch (const ToolError &e) {
        try {
            dir.ldap().del(dn, "removing the device entry " + dn + " again");
        } catch (const ToolError &d) {
            throw ToolError(e.exit_code,
                            std::string(e.what()) + "\ndevicepw: and " + d.what() +
                                "\ndevicepw: the device entry without a password is still there",
                            "delete it: ldapdelete -H " + dir.ldap().uri() + " ... '" + dn + "'");
        }
        throw ToolError(e.exit_code, std::string(e.what()) + "\ndevicepw: the device entry was removed again; nothing was added",
                        e.hint);
    }
    Device d;
    if (auto e = dir.ldap().read(dn, kDeviceAttrs, "reading device " + dn)) d = device_from(*e);
    else d = Device{id, dn, label, owner, std::nullopt, std::nullopt, expires, std::nullopt, false};
    emit_secret(vm.count("quiet") > 0, vm.count("json") > 0, m, d, secret, false);
    sodium_memzero(secret.data(), secret.size());
    return 0;
}

// Options and positionals shared by device commands that name one device.
struct DeviceTarget {
    std::string address, device;
};

DeviceTarget device_target(const po::variables_map &vm, const char *cmd) {
    if (!vm.count("address") || !vm.count("device"))
        throw UsageError(std::string("device ") + cmd + " needs an ADDRESS and a device ID or LABEL");
    return DeviceTarget{vm["address"].as<std::string>(), vm["device"].as<std::string>()};
}

int cmd_device_list(Context &ctx, const Args &args) {
    po::options_description own("device list options");
    own.add_options()("help,h", "show this help")("json", "print JSON (see devicepw(1))");
    po::variables_map vm;
    const auto address = parse_address_command(
        ctx, args, own, "devicepw device list ADDRESS [--json]",
        "List a mailbox's devices: id, label, owner, created, last used, expires and\n"
        "status (active, revoked, expired). Dates in local time. Never a password.\n",
        "device list", vm);
    if (!address) return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(*address);
    auto devices = dir.devices(m);
    const int64_t now = now_epoch();
    if (vm.count("json")) {
        json j;
        j["mailbox"] = mailbox_ref_json(m);
        j["devices"] = json::array();
        for (const auto &d : devices) j["devices"].push_back(device_json(d, now));
        print_json(j);
        return 0;
    }
    if (devices.empty()) {
        std::cout << "Mailbox " << m.address << " has no devices.\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto &d : devices)
        rows.push_back({d.id, d.label, d.owner ? short_person(*d.owner) : "-",
                        d.created ? local_time(*d.created) : "-", d.last_used ? local_time(*d.last_used) : "never",
                        d.expires ? local_time(*d.expires) : "never", d.status(now)});
    print_table({"ID", "LABEL", "OWNER", "CREATED", "LAST USED", "EXPIRES", "STATUS"}, rows);
    return 0;
}

// Parses "ADDRESS DEVICE [extra]" commands.
bool parse_device_command(Context &ctx, const Args &args, const char *cmd, const std::string &usage,
                          const char *details, po::options_description own, po::variables_map &vm,
                          const char *extra = nullptr) {
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options()).add_options()
        ("address", po::value<std::string>())("device", po::value<std::string>());
    po::positional_options_description pos;
    pos.add("address", 1).add("device", 1);
    if (extra) {
        all.add_options()(extra, po::value<std::string>());
        pos.add(extra, 1);
    }
    (void)cmd;
    return parse_command_line(usage, own, all, pos, args, vm, &ctx, details);
}

int cmd_device_revoke(Context &ctx, const Args &args) {
    po::options_description own("device revoke options");
    own.add_options()("help,h", "show this help");
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "revoke", "devicepw device revoke ADDRESS ID|LABEL",
                              "Revoke a device: its password stops working at once, for good.\n"
                              "A label that several devices share is refused; give the id.\n",
                              own, vm))
        return 0;
    DeviceTarget t = device_target(vm, "revoke");
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    if (d.revoked)
        throw ToolError(kExitRefused,
                        "device " + d.id + " \"" + d.label + "\" of " + m.address + " is already revoked" +
                            (d.revoked_at ? " (since " + local_time_zone(*d.revoked_at) + ")" : std::string()),
                        "revocation is final; to give the device access again, add a new device.");
    dir.ldap().modify(d.dn, {Mod{LDAP_MOD_REPLACE, "devicepwRevoked", {"TRUE"}}},
                      "revoking device " + d.id + " of " + m.address);
    std::cout << "Revoked device " << d.id << " \"" << d.label << "\" of " << m.address
              << ": its password no longer works.\n";
    return 0;
}

int cmd_device_rotate(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "rotate", "devicepw device rotate ADDRESS ID|LABEL [--quiet|--json]",
                              "Give a device a new password, printed once; the old one stops working at once.\n",
                              secret_output_options("device rotate options"), vm))
        return 0;
    DeviceTarget t = device_target(vm, "rotate");
    if (vm.count("quiet") && vm.count("json")) throw UsageError("--quiet and --json cannot be combined");
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    if (d.revoked)
        throw ToolError(kExitRefused, "device " + d.id + " \"" + d.label + "\" of " + m.address + " is revoked",
                        "revocation is final: add a new device instead (devicepw device add " + m.address +
                            " --label TEXT).");
    std::string secret = dir.ldap().passwd_generate(d.dn, "generating a new password for device " + d.dn);
    emit_secret(vm.count("quiet") > 0, vm.count("json") > 0, m, d, secret, true);
    sodium_memzero(secret.data(), secret.size());
    return 0;
}

int cmd_device_rename(Context &ctx, const Args &args) {
    po::options_description own("device rename options");
    own.add_options()("help,h", "show this help");
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "rename", "devicepw device rename ADDRESS ID|LABEL NEW-LABEL",
                              "Change a device's label (its id and password stay the same).\n", own, vm,
                              "new-label"))
        return 0;
    DeviceTarget t = device_target(vm, "rename");
    if (!vm.count("new-label")) throw UsageError("device rename needs the NEW-LABEL");
    const std::string label = vm["new-label"].as<std::string>();
    if (const char *problem = dpw_label_problem(label.data(), label.size()))
        throw UsageError("bad label \"" + label + "\": " + problem);
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    dir.ldap().modify(d.dn, {Mod{LDAP_MOD_REPLACE, "devicepwLabel", {label}}},
                      "renaming device " + d.id + " of " + m.address);
    std::cout << "Renamed device " << d.id << " of " << m.address << ": \"" << d.label << "\" is now \"" << label
              << "\".\n";
    return 0;
}

int cmd_device_delete(Context &ctx, const Args &args) {
    po::options_description own("device delete options");
    own.add_options()("help,h", "show this help")("yes", "do not ask for confirmation");
    po::variables_map vm;
    if (!parse_device_command(ctx, args, "delete", "devicepw device delete ADDRESS ID|LABEL [--yes]",
                              "Delete a device entry (revoked devices count against devicepw-max-devices until\n"
                              "deleted). Its password stops working at once. Asks first unless --yes.\n",
                              own, vm))
        return 0;
    DeviceTarget t = device_target(vm, "delete");
    Directory dir(ctx);
    Mailbox m = dir.mailbox(t.address);
    Device d = dir.device(m, t.device);
    if (!vm.count("yes") && !confirm("Delete device " + d.id + " \"" + d.label + "\" of " + m.address + "?")) {
        std::cerr << "Nothing was deleted.\n";
        return kExitFailure;
    }
    dir.ldap().del(d.dn, "deleting device " + d.id + " of " + m.address);
    std::cout << "Deleted device " << d.id << " \"" << d.label << "\" of " << m.address << ".\n";
    return 0;
}

// ---- user commands ---------------------------------------------------------------------

bool parse_user_command(Context &ctx, const Args &args, const std::string &usage, const char *details,
                        bool with_person, bool with_json, po::variables_map &vm) {
    po::options_description own("options");
    own.add_options()("help,h", "show this help");
    if (with_json) own.add_options()("json", "print JSON (see devicepw(1))");
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options()).add_options()("address", po::value<std::string>());
    po::positional_options_description pos;
    pos.add("address", 1);
    if (with_person) {
        all.add_options()("person", po::value<std::string>());
        pos.add("person", 1);
    }
    if (!parse_command_line(usage, own, all, pos, args, vm, &ctx, details)) return false;
    if (!vm.count("address") || (with_person && !vm.count("person")))
        throw UsageError(with_person ? "this command needs an ADDRESS and a PERSON (DN or uid)"
                                     : "this command needs an ADDRESS");
    return true;
}

int cmd_user_add(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_user_command(ctx, args, "devicepw user add ADDRESS PERSON",
                            "Make PERSON (a DN, or a uid) a user of the mailbox (adds a devicepwUser value).\n",
                            true, false, vm))
        return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(vm["address"].as<std::string>());
    const std::string who = dir.person(vm["person"].as<std::string>());
    for (const auto &u : m.users())
        if (same_dn(u, who))
            throw ToolError(kExitRefused, who + " is already a user of " + m.address,
                            "see the users with: devicepw user list " + m.address);
    dir.ldap().modify(m.dn(), {Mod{LDAP_MOD_ADD, "devicepwUser", {who}}},
                      "adding user " + who + " to mailbox " + m.address);
    std::cout << "Added user " << who << " to mailbox " << m.address << ".\n";
    return 0;
}

int cmd_user_remove(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_user_command(ctx, args, "devicepw user remove ADDRESS PERSON",
                            "Remove PERSON (a DN, or a uid) from the mailbox's users. A DN is removed even\n"
                            "when its entry no longer exists.\n",
                            true, false, vm))
        return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(vm["address"].as<std::string>());
    const std::string spec = vm["person"].as<std::string>();
    auto users = m.users();
    std::optional<std::string> value;
    if (looks_like_dn(spec)) {
        for (const auto &u : users)
            if (same_dn(u, spec)) value = u;
    } else {
        std::optional<std::string> who;
        try {
            who = dir.person(spec);
        } catch (const NotFound &) {
            // The person may be gone: match the users' own uid=... RDNs.
        }
        for (const auto &u : users) {
            if (who ? same_dn(u, *who) : lower(first_rdn_value(u, "uid").value_or("")) == lower(spec)) value = u;
        }
    }
    if (!value)
        throw NotFound(spec + " is not a user of " + m.address, "see the users with: devicepw user list " + m.address);
    dir.ldap().modify(m.dn(), {Mod{LDAP_MOD_DELETE, "devicepwUser", {*value}}},
                      "removing user " + *value + " from mailbox " + m.address);
    std::cout << "Removed user " << *value << " from mailbox " << m.address << ".\n";
    return 0;
}

int cmd_user_list(Context &ctx, const Args &args) {
    po::variables_map vm;
    if (!parse_user_command(ctx, args, "devicepw user list ADDRESS [--json]",
                            "List the mailbox's users (its devicepwUser values).\n", false, true, vm))
        return 0;
    Directory dir(ctx);
    Mailbox m = dir.mailbox(vm["address"].as<std::string>());
    auto users = m.users();
    std::sort(users.begin(), users.end(), [](const std::string &a, const std::string &b) { return lower(a) < lower(b); });
    if (vm.count("json")) {
        json j;
        j["mailbox"] = mailbox_ref_json(m);
        j["users"] = json::array();
        for (const auto &u : users) {
            json x;
            x["dn"] = u;
            auto uid = first_rdn_value(u, "uid");
            x["uid"] = uid ? json(*uid) : json(nullptr);
            j["users"].push_back(x);
        }
        print_json(j);
        return 0;
    }
    if (users.empty()) {
        std::cout << "Mailbox " << m.address << " has no users.\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto &u : users) rows.push_back({first_rdn_value(u, "uid").value_or("-"), u});
    print_table({"UID", "DN"}, rows);
    return 0;
}

// ---- keygen -----------------------------------------------------------------------------

// Today's local date as yyyymmdd: a valid key id that sorts by age.
std::string today_id() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    char buf[16];
    if (localtime_r(&now, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y%m%d", &tm) != 8)
        throw std::runtime_error("cannot determine today's date");
    return buf;
}

int cmd_keygen(Context &, const Args &args) {
    po::options_description opts("keygen options");
    opts.add_options()
        ("help,h", "show this help")
        ("id", po::value<std::string>()->value_name("ID"),
         "key id: 1-16 characters of a-z and 0-9, unique in the key file (default: today's date, yyyymmdd)");
    po::variables_map vm;
    if (!parse_command_line(
            "devicepw keygen [--id ID]\n\n"
            "Print a new key file line \"<id> <64 hex digits>\" (32 random bytes) on standard output.\n"
            "Append it to the key file (the last line hashes new secrets; every line verifies):\n"
            "  devicepw keygen >> /etc/ldap/devicepw.keys   (mode 600, owned by slapd's user)",
            opts, opts, po::positional_options_description(), args, vm, nullptr))
        return 0;
    const std::string id = vm.count("id") ? vm["id"].as<std::string>() : today_id();
    if (!dpw_id_valid(id.data(), id.size()))
        throw UsageError("invalid key id \"" + id + "\": it must be 1 to 16 characters of a-z and 0-9");
    char line[DPW_KEYID_MAX + 67];
    if (dpw_key_generate_line(id.c_str(), line, sizeof line) != DPW_OK)
        throw std::runtime_error("cannot generate a key");
    const bool written = std::fputs(line, stdout) >= 0 && std::fflush(stdout) == 0;
    sodium_memzero(line, sizeof line);
    if (!written) throw std::runtime_error("cannot write the key line");
    return 0;
}

// ---- dispatch ---------------------------------------------------------------------------

struct Command {
    const char *name;
    const char *summary;
    int (*run)(Context &, const Args &);
};

constexpr Command kMailboxCommands[] = {
    {"create", "create a mailbox (it needs no password)", cmd_mailbox_create},
    {"show", "show a mailbox, its users and its devices", cmd_mailbox_show},
    {"list", "list mailboxes (--user PERSON: those PERSON uses)", cmd_mailbox_list},
    {"delete", "delete a mailbox and its devices (asks first unless --yes)", cmd_mailbox_delete},
};
constexpr Command kDeviceCommands[] = {
    {"add", "add a device and print its new password once", cmd_device_add},
    {"list", "list a mailbox's devices and their status", cmd_device_list},
    {"revoke", "revoke a device for good", cmd_device_revoke},
    {"rotate", "give a device a new password (the old one dies at once)", cmd_device_rotate},
    {"rename", "change a device's label", cmd_device_rename},
    {"delete", "delete a device entry", cmd_device_delete},
};
constexpr Command kUserCommands[] = {
    {"add", "make a person a user of a mailbox", cmd_user_add},
    {"remove", "remove a person from a mailbox's users", cmd_user_remove},
    {"list", "list a mailbox's users", cmd_user_list},
};

struct Group {
    const char *name;
    const char *summary;
    const Command *begin, *end;
};

const Group kGroups[] = {
    {"mailbox", "create, show, list and delete mailboxes", std::begin(kMailboxCommands), std::end(kMailboxCommands)},
    {"device", "add, list, revoke, rotate, rename and delete devices", std::begin(kDeviceCommands),
     std::end(kDeviceCommands)},
    {"user", "add, remove and list the people who use a mailbox", std::begin(kUserCommands), std::end(kUserCommands)},
};

constexpr Command kKeygen = {"keygen", "print a new line for the server's key file", cmd_keygen};

std::string pad(std::string s, size_t n) {
    if (s.size() < n) s.resize(n, ' ');
    return s + " ";
}

void print_help(std::ostream &out) {
    out << "Usage: devicepw [--help] <command> [<subcommand>] [options] [arguments]\n\n"
           "Device passwords for OpenLDAP mailboxes (slapo-devicepw(5)).\n\n"
           "Commands:\n";
    for (const Group &g : kGroups)
        for (const Command *c = g.begin; c != g.end; ++c)
            out << "  " << pad(std::string(g.name) + " " + c->name, 16) << c->summary << "\n";
    out << "  " << pad(kKeygen.name, 16) << kKeygen.summary << "\n";
    out << "\nRun \"devicepw <command> <subcommand> --help\" for a command's options.\n"
           "Connection options (-H URI, -D DN, -w/-W/-y FILE, -x, -Y MECH, -Z/-ZZ) work as in\n"
           "ldap-utils, with defaults from ldap.conf and .ldaprc. See devicepw(1).\n\n"
        << exit_codes_help();
}

void print_group_help(std::ostream &out, const Group &g) {
    out << "Usage: devicepw " << g.name << " <subcommand> [options] [arguments]\n\n" << "Subcommands:\n";
    for (const Command *c = g.begin; c != g.end; ++c) out << "  " << pad(c->name, 10) << c->summary << "\n";
    out << "\nRun \"devicepw " << g.name << " <subcommand> --help\" for its options.\n";
}

// "-ZZ" is two -Z in ldap-utils; Program_options wants one meaning per option.
std::vector<std::string> preprocess(int argc, char **argv) {
    std::vector<std::string> out;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            for (; i < argc; ++i) out.push_back(argv[i]);
            break;
        }
        out.push_back(a == "-ZZ" ? "--require-starttls" : a);
    }
    return out;
}

int run(int argc, char **argv, Context &ctx) {
    po::options_description global("Global options");
    global.add_options()("help,h", "show this help");
    po::options_description all;
    all.add(global).add(connection_options()).add(directory_options()).add_options()
        ("command", po::value<std::string>())("args", po::value<Args>());
    po::positional_options_description pos;
    pos.add("command", 1).add("args", -1);

    po::variables_map vm;
    po::parsed_options parsed = [&] {
        try {
            return po::command_line_parser(preprocess(argc, argv)).options(all).positional(pos).allow_unregistered().run();
        } catch (const po::error &e) {
            throw UsageError(e.what());
        }
    }();
    try {
        po::store(parsed, vm);
    } catch (const po::error &e) {
        throw UsageError(e.what());
    }
    apply_environment(ctx);
    apply_options(vm, ctx);
    if (!vm.count("command")) {
        if (vm.count("help")) {
            print_help(std::cout);
            return 0;
        }
        print_help(std::cerr);
        return kExitUsage;
    }
    // Everything unrecognised after the command name belongs to the command.
    Args rest;
    for (const auto &o : parsed.options)
        if (o.unregistered || o.position_key >= 0) rest.insert(rest.end(), o.original_tokens.begin(), o.original_tokens.end());
    const std::string name = vm["command"].as<std::string>();
    if (!rest.empty() && rest.front() == name) rest.erase(rest.begin());
    const bool help = vm.count("help") > 0;
    if (name == kKeygen.name) {
        ctx.command = name;
        if (help) rest.insert(rest.begin(), "--help");
        return kKeygen.run(ctx, rest);
    }
    for (const Group &g : kGroups) {
        if (name != g.name) continue;
        if (rest.empty() || rest.front().rfind("-", 0) == 0) {
            print_group_help(help ? std::cout : std::cerr, g);
            return help ? 0 : kExitUsage;
        }
        const std::string sub = rest.front();
        rest.erase(rest.begin());
        if (help) rest.insert(rest.begin(), "--help");
        for (const Command *c = g.begin; c != g.end; ++c) {
            if (sub == c->name) {
                ctx.command = std::string(g.name) + " " + c->name;
                return c->run(ctx, rest);
            }
        }
        ctx.command = g.name;
        throw UsageError("unknown subcommand \"" + std::string(g.name) + " " + sub + "\"");
    }
    throw UsageError("unknown command \"" + name + "\"");
}

}  // namespace
}  // namespace dpwtool

int main(int argc, char **argv) {
    using namespace dpwtool;
    Context ctx;
    try {
        if (dpw_init() != DPW_OK) {
            std::cerr << "devicepw: libsodium failed to initialise\n";
            return kExitFailure;
        }
        return run(argc, argv, ctx);
    } catch (const ToolError &e) {
        std::cout.flush();
        std::cerr << "devicepw: " << e.what() << "\n";
        if (!e.hint.empty()) std::cerr << "  hint: " << e.hint << "\n";
        if (e.exit_code == kExitUsage)
            std::cerr << "Try \"devicepw " << (ctx.command.empty() ? "" : ctx.command + " ") << "--help\".\n";
        return e.exit_code;
    } catch (const std::exception &e) {
        std::cout.flush();
        std::cerr << "devicepw: " << e.what() << "\n";
        return kExitFailure;
    }
}
