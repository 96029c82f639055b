// The devicepw tool's options (options.h): connection and directory options, the
// environment, and parsing a command's command line.
#include "options.h"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "errors.h"

namespace po = boost::program_options;

namespace dpwtool {

po::options_description connection_options() {
    po::options_description d("Connection options (as in ldap-utils; defaults from ldap.conf, .ldaprc, LDAP* variables)");
    d.add_options()
        ("uri,H", po::value<std::vector<std::string>>()->value_name("URI"),
         "LDAP URI of the server (ldap://, ldaps://, ldapi://); repeat it to name several servers")
        ("servers", po::value<std::string>()->value_name("URI,URI,..."),
         "several servers (after any -H): device list and mailbox show merge the telemetry of all; "
         "other commands use the first that answers; env DEVICEPW_SERVERS")
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

void apply_options(const po::variables_map &vm, Context &ctx) {
    auto str = [&](const char *name, std::optional<std::string> &out) {
        if (vm.count(name)) out = vm[name].as<std::string>();
    };
    ConnOptions &c = ctx.conn;
    if (vm.count("uri") || vm.count("servers")) {
        auto list = server_list(vm.count("uri") ? vm["uri"].as<std::vector<std::string>>() : std::vector<std::string>{},
                                vm.count("servers") ? vm["servers"].as<std::string>() : std::string());
        if (list.empty()) throw UsageError("no server URI given (-H URI, --servers URI,URI,...)");
        std::string joined;
        for (const auto &u : list) joined += (joined.empty() ? "" : " ") + u;
        ctx.servers = list;
        c.uri = joined;
    }
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

void apply_environment(Context &ctx) {
    po::options_description env;
    env.add(directory_options());
    env.add_options()
        ("binddn", po::value<std::string>())
        ("password-file", po::value<std::string>())
        ("servers", po::value<std::string>());
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

std::vector<std::string> split_servers(const std::string &list) {
    std::vector<std::string> out;
    std::string cur;
    auto flush = [&] {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
    };
    for (char ch : list) {
        if (ch == ',' || std::isspace(static_cast<unsigned char>(ch))) flush();
        else cur += ch;
    }
    flush();
    return out;
}

std::vector<std::string> server_list(const std::vector<std::string> &uris, const std::string &servers) {
    std::vector<std::string> all;
    for (const auto &u : uris)
        if (!u.empty()) all.push_back(u);
    for (auto &u : split_servers(servers)) all.push_back(u);
    std::vector<std::string> out;
    for (auto &u : all)
        if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
    return out;
}

Args preprocess(int argc, char **argv) {
    Args out;
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

bool parse_command_line(const std::string &usage, const po::options_description &visible,
                        const po::options_description &all, const po::positional_options_description &pos,
                        const Args &args, po::variables_map &vm, Context *ctx, const char *details) {
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

}  // namespace dpwtool
