// devicepw-benchgen: the benchmark directory, generated offline.
//
// Writes an LDIF for slapadd and the DN/password lists that devicepw-bindbench cycles
// through. Device secrets and their stored hashes come from the project's own core
// (dpw_secret_generate, dpw_stored_make) under the same key file that slapd loads, so
// the directory is exactly what Password Modify would have produced, without 289,000
// round trips.
//
// Layout (numbers are the defaults):
//   ou=mailboxes: 100,000 mailboxes uid=mNNNNNN, each with one {SSHA} userPassword
//     (the stock case) and devices as children:
//       mailboxes 0 .. 999        100 devices (the last one revoked)
//       mailboxes 1000 .. 10999    10 devices (the last one revoked)
//       the others                  1 device  (every 10th one revoked)
//     --d0 N adds N more mailboxes without any device (default 0);
//     --no-mailbox-password leaves out the mailboxes' {SSHA} userPassword.
//   ou=argon2: 1,000 entries with 10 {ARGON2} userPassword values, the right one last.
// {SSHA} and {ARGON2} hashes come from a pool made with slappasswd (--ssha-pool,
// --argon2-pool): the cost of checking a hash does not depend on its salt.
//
// Pair files (DN TAB password TAB expected LDAP result code), shuffled:
//   d1-right, d1-wrong, d1-revoked, d10-*, d100-*   devicepw device secrets
//   ssha-right                                      mailbox DN + its {SSHA} password
//   argon2-right                                    ou=argon2 entry + its right password
// and, for the timing of failed binds (bench/timing.sh), each a secret-shaped password
// (a 4-character id, like the devices' own) that must fail with 49:
//   unknown-dn       a mailbox DN that does not exist (uid=xNNNNNN, as long as a real one)
//   d0-any           a mailbox without devices (--d0)
//   d1-unknown-id    a 1-device mailbox, an id that is not its device's
#include <sodium.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "devicepw_core.h"

namespace po = boost::program_options;

namespace {

struct Pair {
    std::string dn, password;
    int expect;
};

using Pool = std::vector<std::pair<std::string, std::string>>;

// Lines "password TAB hash" (made by run.sh with slappasswd).
Pool read_pool(const std::string &path) {
    Pool pool;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string line;
    while (std::getline(in, line)) {
        auto tab = line.find('\t');
        if (tab == std::string::npos) continue;
        pool.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
    if (pool.empty()) throw std::runtime_error(path + " holds no hashes");
    return pool;
}

void write_pairs(const std::string &dir, const std::string &name, std::vector<Pair> pairs,
                 std::mt19937_64 &rng) {
    std::shuffle(pairs.begin(), pairs.end(), rng);
    std::ofstream out(dir + "/" + name + ".pairs");
    for (const Pair &p : pairs) out << p.dn << '\t' << p.password << '\t' << p.expect << '\n';
    if (!out) throw std::runtime_error("cannot write " + dir + "/" + name + ".pairs");
}

struct Device {
    std::string id, secret, stored;
};

Device make_device(const dpw_keyring *ring, std::set<std::string> &ids) {
    Device d;
    char id[DPW_ID_MAX + 1];
    do {
        if (dpw_id_generate(id) != DPW_OK) throw std::runtime_error("dpw_id_generate failed");
    } while (!ids.insert(id).second);
    d.id = id;
    char display[DPW_DISPLAY_MAX];
    if (dpw_secret_generate(id, std::strlen(id), display) != DPW_OK)
        throw std::runtime_error("dpw_secret_generate failed");
    d.secret = display;
    char stored[DPW_STORED_MAX];
    if (dpw_stored_from_secret(ring, display, std::strlen(display), stored) != DPW_OK)
        throw std::runtime_error("dpw_stored_from_secret failed");
    d.stored = stored;
    return d;
}

// A different secret for the same device id: a wrong random part.
std::string wrong_secret(const std::string &id) {
    char display[DPW_DISPLAY_MAX];
    if (dpw_secret_generate(id.data(), id.size(), display) != DPW_OK)
        throw std::runtime_error("dpw_secret_generate failed");
    return display;
}

}  // namespace

int main(int argc, char **argv) try {
    std::string keyfile, outdir, suffix, ssha_pool_path, argon2_pool_path;
    long mailboxes, d10, d100, d0, argon2;
    bool no_mailbox_password = false;
    po::options_description opts("devicepw-benchgen options");
    opts.add_options()
        ("help,h", "this help")
        ("keyfile", po::value(&keyfile)->required(), "devicepw key file (the one slapd loads)")
        ("out", po::value(&outdir)->required(), "output directory (data.ldif, *.pairs)")
        ("suffix", po::value(&suffix)->default_value("dc=example,dc=com"), "database suffix")
        ("mailboxes", po::value(&mailboxes)->default_value(100000), "mailboxes in all")
        ("d100", po::value(&d100)->default_value(1000), "mailboxes with 100 devices")
        ("d10", po::value(&d10)->default_value(10000), "mailboxes with 10 devices")
        ("d0", po::value(&d0)->default_value(0), "more mailboxes, without devices")
        ("no-mailbox-password", po::bool_switch(&no_mailbox_password),
         "no {SSHA} userPassword on the mailboxes (no --ssha-pool needed)")
        ("argon2", po::value(&argon2)->default_value(1000), "entries with 10 {ARGON2} values")
        ("ssha-pool", po::value(&ssha_pool_path), "file of 'password TAB {SSHA} hash'")
        ("argon2-pool", po::value(&argon2_pool_path),
         "file of 'password TAB {ARGON2} hash' (at least 10 lines; every 10 form one entry's set; "
         "needed when --argon2 > 0)");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
        std::cout << opts << '\n';
        return 0;
    }
    po::notify(vm);
    if (d100 + d10 > mailboxes) throw std::runtime_error("--d100 + --d10 exceeds --mailboxes");

    if (dpw_init() != DPW_OK) throw std::runtime_error("libsodium failed to initialise");
    dpw_keyring *ring = nullptr;
    char err[256];
    if (dpw_keyring_load(keyfile.c_str(), &ring, err, sizeof err) != DPW_OK)
        throw std::runtime_error(err);
    const auto ssha_pool = no_mailbox_password ? Pool{} : read_pool(ssha_pool_path);
    const auto argon2_pool = argon2 > 0 ? read_pool(argon2_pool_path) : Pool{};
    if (argon2 > 0 && argon2_pool.size() < 10) throw std::runtime_error("--argon2-pool needs at least 10 hashes");
    if (d0 < 0) throw std::runtime_error("--d0 must not be negative");

    std::mt19937_64 rng(randombytes_random() | (uint64_t(randombytes_random()) << 32));
    std::ofstream ldif(outdir + "/data.ldif");
    if (!ldif) throw std::runtime_error("cannot write " + outdir + "/data.ldif");
    const std::string mbou = "ou=mailboxes," + suffix, a2ou = "ou=argon2," + suffix;
    ldif << "dn: " << suffix << "\nobjectClass: dcObject\nobjectClass: organization\n"
         << "dc: " << suffix.substr(3, suffix.find(',') - 3) << "\no: devicepw bench\n\n"
         << "dn: " << mbou << "\nobjectClass: organizationalUnit\nou: mailboxes\n\n"
         << "dn: " << a2ou << "\nobjectClass: organizationalUnit\nou: argon2\n\n";

    // devicepwLastUsed as a device that is in use would have it (now).
    char now[16];
    dpw_gentime_format(static_cast<int64_t>(std::time(nullptr)), now);

    std::vector<Pair> right[3], wrong[3], revoked[3], ssha, unknown_dn, d0_any, unknown_id;
    long ndevices = 0;
    for (long i = 0; i < mailboxes + d0; ++i) {
        char uid[32];
        std::snprintf(uid, sizeof uid, "m%06ld", i);
        const std::string dn = std::string("uid=") + uid + "," + mbou;
        ldif << "dn: " << dn << "\nobjectClass: inetOrgPerson\nobjectClass: devicepwMailbox\n"
             << "uid: " << uid << "\ncn: " << uid << "\nsn: bench\nmail: " << uid << "@example.com\n";
        if (!no_mailbox_password) {
            const auto &pw = ssha_pool[static_cast<std::size_t>(i) % ssha_pool.size()];
            ldif << "userPassword: " << pw.second << "\n";
            ssha.push_back({dn, pw.first, 0});
        }
        ldif << "\n";
        if (i >= mailboxes) {  // --d0: no devices
            std::set<std::string> none;
            d0_any.push_back({dn, make_device(ring, none).secret, 49});
            continue;
        }

        const int group = i < d100 ? 2 : i < d100 + d10 ? 1 : 0;
        const int n = group == 2 ? 100 : group == 1 ? 10 : 1;
        // The last device of a 10/100-device mailbox, and every 10th single device, is revoked.
        const bool last_revoked = group > 0 || i % 10 == 0;
        std::set<std::string> ids;
        std::vector<Device> devs;
        for (int k = 0; k < n; ++k) devs.push_back(make_device(ring, ids));
        for (int k = 0; k < n; ++k) {
            const Device &d = devs[k];
            const bool rev = last_revoked && k == n - 1;
            ldif << "dn: devicepwId=" << d.id << "," << dn << "\nobjectClass: devicepwDevice\n"
                 << "devicepwId: " << d.id << "\ndevicepwLabel: bench device " << k << "\n"
                 << "devicepwSecret: " << d.stored << "\n";
            if (rev)
                ldif << "devicepwRevoked: TRUE\ndevicepwRevokedAt: " << now << "\n";
            else
                ldif << "devicepwLastUsed: " << now << "\n";
            ldif << "\n";
            ++ndevices;
        }
        // One pair of each kind per mailbox: a random unrevoked device for right and wrong.
        if (!(last_revoked && n == 1)) {
            const Device &d = devs[std::uniform_int_distribution<int>(0, n - (last_revoked ? 2 : 1))(rng)];
            right[group].push_back({dn, d.secret, 0});
            wrong[group].push_back({dn, wrong_secret(d.id), 49});
        }
        if (last_revoked) revoked[group].push_back({dn, devs[n - 1].secret, 49});
        if (group == 0) {
            // A device id this mailbox does not have (make_device draws ids not in ids).
            unknown_id.push_back({dn, make_device(ring, ids).secret, 49});
            std::snprintf(uid, sizeof uid, "x%06ld", i);
            std::set<std::string> none;
            unknown_dn.push_back({std::string("uid=") + uid + "," + mbou, make_device(ring, none).secret, 49});
        }
    }

    std::vector<Pair> a2;
    const std::size_t sets = argon2_pool.size() / 10;
    for (long i = 0; i < argon2; ++i) {
        char uid[32];
        std::snprintf(uid, sizeof uid, "a%06ld", i);
        const std::string dn = std::string("uid=") + uid + "," + a2ou;
        ldif << "dn: " << dn << "\nobjectClass: inetOrgPerson\nuid: " << uid << "\ncn: " << uid
             << "\nsn: bench\n";
        const std::size_t base = (static_cast<std::size_t>(i) % sets) * 10;
        for (std::size_t k = 0; k < 10; ++k) ldif << "userPassword: " << argon2_pool[base + k].second << "\n";
        ldif << "\n";
        a2.push_back({dn, argon2_pool[base + 9].first, 0});  // the right password is the last value
    }
    ldif.close();
    if (!ldif) throw std::runtime_error("writing " + outdir + "/data.ldif failed");

    static const char *names[3] = {"d1", "d10", "d100"};
    for (int g = 0; g < 3; ++g) {
        write_pairs(outdir, std::string(names[g]) + "-right", right[g], rng);
        write_pairs(outdir, std::string(names[g]) + "-wrong", wrong[g], rng);
        write_pairs(outdir, std::string(names[g]) + "-revoked", revoked[g], rng);
    }
    if (!ssha.empty()) write_pairs(outdir, "ssha-right", ssha, rng);
    if (!a2.empty()) write_pairs(outdir, "argon2-right", a2, rng);
    if (!unknown_dn.empty()) write_pairs(outdir, "unknown-dn", unknown_dn, rng);
    if (!unknown_id.empty()) write_pairs(outdir, "d1-unknown-id", unknown_id, rng);
    if (!d0_any.empty()) write_pairs(outdir, "d0-any", d0_any, rng);
    dpw_keyring_free(ring);
    std::cout << "benchgen: " << mailboxes + d0 << " mailboxes (" << d0 << " without devices), " << ndevices << " devices, " << argon2
              << " {ARGON2} entries (" << sets << " distinct hash sets, reused)\n";
    return 0;
} catch (const std::exception &e) {
    std::cerr << "devicepw-benchgen: " << e.what() << '\n';
    return 1;
}
