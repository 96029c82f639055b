// devicepw keys: each server's key ids and fingerprints (the overlay's devicepwKey on the
// suffix entry, for administrators), and whether the servers agree: every server needs
// every key that a stored hash names, with the same bytes, or binds fail there
// (DESIGN.md, "Replication", keys). Compared before users find out.
#include <boost/program_options.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "directory.h"
#include "errors.h"
#include "ldap_client.h"
#include "model.h"
#include "output.h"

namespace po = boost::program_options;

namespace dpwtool {

namespace {

struct ServerKeys {
    std::string uri;
    std::vector<KeyInfo> keys;
};

int cmd_keys(Context &ctx, const Args &args) {
    po::options_description own("keys options");
    own.add_options()("help,h", "show this help")("json", "JSON output");
    po::options_description all;
    all.add(own).add(connection_options()).add(directory_options());
    po::variables_map vm;
    if (!parse_command_line(
            "devicepw keys [-H URI]... [--servers URI,...] [--json]",
            own, all, po::positional_options_description(), args, vm, &ctx,
            "Show each server's devicepw keys (id, fingerprint, the active one) and check that\n"
            "the servers agree: the same fingerprint for each id everywhere, every key on every\n"
            "server, and one active key. Needs an administrator's bind (devicepwKey is shown to\n"
            "administrators and secret readers only). Exit 0 when the servers agree, 1 when\n"
            "they do not, 4 when none could be read.\n"))
        return 0;

    ConnOptions conn = ctx.conn;
    resolve_password(conn);
    std::vector<std::string> uris = ctx.servers;
    if (uris.empty()) uris.push_back(conn.uri.value_or(""));
    std::vector<ServerKeys> read;
    std::vector<std::pair<std::string, std::string>> unreachable;
    for (const auto &uri : uris) {
        ConnOptions c = conn;
        if (!uri.empty()) c.uri = uri;
        const std::string name = uri.empty() ? std::string("(ldap.conf)") : uri;
        try {
            Directory dir(ctx, c);
            const std::string base = dir.base();
            auto entries = dir.ldap().search(base, LDAP_SCOPE_BASE, "(objectClass=*)", {"devicepwKey"},
                                             "reading the keys of " + name);
            ServerKeys sk{name, {}};
            for (const auto &e : entries)
                for (const auto &v : e.values("devicepwKey"))
                    if (auto k = parse_key_info(v)) sk.keys.push_back(*k);
            read.push_back(std::move(sk));
        } catch (const LdapError &e) {
            unreachable.push_back({name, e.what()});
        }
    }
    if (read.empty()) {
        std::string list;
        for (const auto &[u, err] : unreachable) list += "\n  " + u + ": " + err;
        throw ToolError(kExitLdap, "none of the servers could be read:" + list);
    }
    std::vector<std::vector<KeyInfo>> sets;
    for (const auto &s : read) sets.push_back(s.keys);
    const std::vector<std::string> problems = key_problems(sets, [&] {
        std::vector<std::string> names;
        for (const auto &s : read) names.push_back(s.uri);
        return names;
    }());

    if (vm.count("json")) {
        json j;
        j["servers"] = json::array();
        for (const auto &s : read) {
            json x;
            x["uri"] = s.uri;
            x["keys"] = json::array();
            for (const auto &k : s.keys) x["keys"].push_back({{"id", k.id}, {"fingerprint", k.fingerprint}, {"active", k.active}});
            j["servers"].push_back(x);
        }
        j["unreachable"] = json::array();
        for (const auto &[u, err] : unreachable) j["unreachable"].push_back(u);
        j["consistent"] = problems.empty();
        j["problems"] = problems;
        print_json(j);
    } else {
        for (const auto &s : read) {
            std::cout << s.uri << ":\n";
            if (s.keys.empty()) std::cout << "  no keys shown (bind as an administrator)\n";
            for (const auto &k : s.keys)
                std::cout << "  " << k.id << "  " << k.fingerprint << (k.active ? "  active" : "") << "\n";
        }
        for (const auto &[u, err] : unreachable) std::cerr << "devicepw: " << u << " could not be read: " << err << "\n";
        if (problems.empty())
            std::cout << "The servers agree.\n";
        else
            for (const auto &p : problems) std::cout << "problem: " << p << "\n";
    }
    return problems.empty() ? kExitOk : kExitFailure;
}

}  // namespace

const Command &keys_command() {
    static const Command c{"keys", "show each server's key ids and fingerprints, and whether they agree", cmd_keys};
    return c;
}

}  // namespace dpwtool
