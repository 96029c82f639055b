// Stored hashes: format, key ids, rotation, verification.
#include <boost/test/unit_test.hpp>

#include <sodium.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "devicepw_core.h"
#include "test_support.h"

using dpwtest::canonical;
using dpwtest::kHexA;
using dpwtest::kHexB;
using dpwtest::parse;
using dpwtest::Ring;

namespace {

Ring ring(const std::string &text) {
    auto p = parse(text);
    BOOST_TEST_REQUIRE(p.status == DPW_OK, p.err);
    return std::move(p.ring);
}

std::string make(const dpw_keyring *r, const std::string &canon) {
    char stored[DPW_STORED_MAX];
    BOOST_TEST_REQUIRE(dpw_stored_make(r, canon.data(), canon.size(), stored) == DPW_OK);
    return stored;
}

dpw_status verify(const dpw_keyring *r, const std::string &stored, const std::string &canon) {
    return dpw_stored_verify(r, stored.data(), stored.size(), canon.data(), canon.size());
}

// The expected digest, computed with libsodium's one-shot keyed BLAKE2b-256.
std::string reference(const std::string &key_hex, const std::string &canon) {
    unsigned char key[32], out[32];
    BOOST_TEST_REQUIRE(sodium_hex2bin(key, sizeof key, key_hex.data(), key_hex.size(), nullptr, nullptr, nullptr) == 0);
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char *>(canon.data()), canon.size(), key,
                       sizeof key);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, out, sizeof out);
    return hex;
}

const std::string kCanon = "k3x9q2abm7pdx8wnr4vc";

}  // namespace

BOOST_AUTO_TEST_SUITE(stored)

BOOST_AUTO_TEST_CASE(format_and_value) {
    Ring r = ring("k1 " + kHexA + "\n");
    const std::string s = make(r.get(), kCanon);
    BOOST_TEST(s == "dpw1$k1$" + reference(kHexA, kCanon));
    BOOST_TEST(s.size() == 5 + 2 + 1 + 64u);
    BOOST_TEST(dpw_stored_valid(s.data(), s.size()) == 1);
    // Deterministic: the same secret and key give the same value.
    BOOST_TEST(make(r.get(), kCanon) == s);
}

BOOST_AUTO_TEST_CASE(longest_key_id_fits) {
    Ring r = ring("abcdefghijklmnop " + kHexA + "\n");
    const std::string canon = "abcdefghijklmnop23456789abcdefgh";  // longest canonical secret
    const std::string s = make(r.get(), canon);
    BOOST_TEST(s.size() + 1 == size_t{DPW_STORED_MAX});
    BOOST_TEST(verify(r.get(), s, canon) == DPW_OK);
}

BOOST_AUTO_TEST_CASE(current_key_is_the_last_line) {
    Ring r = ring("old " + kHexA + "\nnew " + kHexB + "\n");
    BOOST_TEST(std::string(dpw_keyring_current_id(r.get())) == "new");
    BOOST_TEST(make(r.get(), kCanon) == "dpw1$new$" + reference(kHexB, kCanon));
}

BOOST_AUTO_TEST_CASE(verify_match_and_mismatch) {
    Ring r = ring("k1 " + kHexA + "\n");
    const std::string s = make(r.get(), kCanon);
    BOOST_TEST(verify(r.get(), s, kCanon) == DPW_OK);
    BOOST_TEST(verify(r.get(), s, "k3x9q2abm7pdx8wnr4vd") == DPW_NO_MATCH);
    BOOST_TEST(verify(r.get(), s, "k3x9q2abm7pdx8wnr4v") == DPW_NO_MATCH);  // shorter id
    // One flipped digit in the stored value.
    std::string tampered = s;
    tampered.back() = tampered.back() == '0' ? '1' : '0';
    BOOST_TEST(verify(r.get(), tampered, kCanon) == DPW_NO_MATCH);
}

// The comparison reads every digit: a change at any one of the 64 positions, to
// another hex digit or to a non-hex byte, is a mismatch (DPW_NO_MATCH, or DPW_INVALID
// for a value that is no longer a stored hash); upper-case hex is not ours either.
BOOST_AUTO_TEST_CASE(every_digit_of_the_stored_hash_counts) {
    Ring r = ring("k1 " + kHexA + "\n");
    const std::string s = make(r.get(), kCanon);
    const std::size_t hex_at = s.size() - 64;
    for (std::size_t i = hex_at; i < s.size(); ++i) {
        std::string t = s;
        t[i] = t[i] == 'a' ? 'b' : 'a';
        BOOST_TEST(verify(r.get(), t, kCanon) == DPW_NO_MATCH, "digit " << i - hex_at);
        t[i] = 'g';
        BOOST_TEST(verify(r.get(), t, kCanon) == DPW_INVALID, "non-hex digit " << i - hex_at);
    }
    std::string upper = s;
    for (std::size_t i = hex_at; i < upper.size(); ++i)
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    if (upper != s) BOOST_TEST(verify(r.get(), upper, kCanon) == DPW_INVALID);
}

BOOST_AUTO_TEST_CASE(hash_made_under_older_key_verifies_after_rotation) {
    Ring before = ring("k1 " + kHexA + "\n");
    const std::string s = make(before.get(), kCanon);
    Ring after = ring("k1 " + kHexA + "\nk2 " + kHexB + "\n");
    BOOST_TEST(std::string(dpw_keyring_current_id(after.get())) == "k2");
    BOOST_TEST(verify(after.get(), s, kCanon) == DPW_OK);
    const std::string s2 = make(after.get(), kCanon);
    BOOST_TEST(s2.rfind("dpw1$k2$", 0) == 0);
    BOOST_TEST(s2 != s);
    BOOST_TEST(verify(after.get(), s2, kCanon) == DPW_OK);
    BOOST_TEST(verify(before.get(), s2, kCanon) == DPW_UNKNOWN_KEY);
}

BOOST_AUTO_TEST_CASE(unknown_key_id) {
    Ring r1 = ring("k1 " + kHexA + "\n");
    Ring r2 = ring("k2 " + kHexB + "\n");
    BOOST_TEST(verify(r2.get(), make(r1.get(), kCanon), kCanon) == DPW_UNKNOWN_KEY);
    const std::string other = "dpw1$k10$" + reference(kHexA, kCanon);  // k1 is a prefix of k10
    BOOST_TEST(verify(r1.get(), other, kCanon) == DPW_UNKNOWN_KEY);
}

BOOST_AUTO_TEST_CASE(same_key_id_different_key_does_not_verify) {
    Ring r1 = ring("k1 " + kHexA + "\n");
    Ring r2 = ring("k1 " + kHexB + "\n");
    BOOST_TEST(verify(r2.get(), make(r1.get(), kCanon), kCanon) == DPW_NO_MATCH);
}

BOOST_AUTO_TEST_CASE(hash_covers_the_device_id) {
    // Same random part, another device: a hash copied to device B does not verify A's secret.
    Ring r = ring("k1 " + kHexA + "\n");
    const std::string a = canonical("aaaa-q2ab-m7pd-x8wn-r4vc");
    const std::string b = canonical("bbbb-q2ab-m7pd-x8wn-r4vc");
    const std::string stored_a = make(r.get(), a);
    BOOST_TEST(verify(r.get(), stored_a, b) == DPW_NO_MATCH);
    BOOST_TEST(verify(r.get(), make(r.get(), b), a) == DPW_NO_MATCH);
    BOOST_TEST(make(r.get(), b) != stored_a);
}

BOOST_AUTO_TEST_CASE(from_secret_equals_make_of_canonical) {
    Ring r = ring("k1 " + kHexA + "\n");
    char stored[DPW_STORED_MAX];
    const std::string display = "K3X9-Q2AB-M7PD-X8WN-R4VC";
    BOOST_TEST_REQUIRE(dpw_stored_from_secret(r.get(), display.data(), display.size(), stored) == DPW_OK);
    BOOST_TEST(std::string(stored) == make(r.get(), kCanon));
    BOOST_TEST(dpw_stored_from_secret(r.get(), "short", 5, stored) == DPW_INVALID);
}

BOOST_AUTO_TEST_CASE(generated_secret_round_trip) {
    Ring r = ring("k1 " + kHexA + "\n");
    for (int i = 0; i < 100; ++i) {
        char id[DPW_ID_MAX + 1], display[DPW_DISPLAY_MAX];
        BOOST_TEST_REQUIRE(dpw_id_generate(id) == DPW_OK);
        BOOST_TEST_REQUIRE(dpw_secret_generate(id, std::strlen(id), display) == DPW_OK);
        char stored[DPW_STORED_MAX];
        BOOST_TEST_REQUIRE(dpw_stored_from_secret(r.get(), display, std::strlen(display), stored) == DPW_OK);
        BOOST_TEST(verify(r.get(), stored, canonical(display)) == DPW_OK);
    }
}

BOOST_AUTO_TEST_CASE(make_refuses_non_canonical_input) {
    Ring r = ring("k1 " + kHexA + "\n");
    char stored[DPW_STORED_MAX];
    for (const std::string &bad : std::vector<std::string>{"K3X9Q2ABM7PDX8WNR4VC", "k3x9-q2abm7pdx8wnr4vc", "q2abm7pdx8wnr4vc", ""})
        BOOST_TEST(dpw_stored_make(r.get(), bad.data(), bad.size(), stored) == DPW_INVALID, bad);
    BOOST_TEST(dpw_stored_make(nullptr, kCanon.data(), kCanon.size(), stored) == DPW_INVALID);
}

BOOST_AUTO_TEST_CASE(verify_refuses_malformed_values) {
    Ring r = ring("k1 " + kHexA + "\n");
    const std::string good = make(r.get(), kCanon);
    const std::string hex = good.substr(8);
    std::string upper = hex;
    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const std::string &bad : std::vector<std::string>{std::string(), "dpw1$k1$", "dpw2$k1$" + hex, "DPW1$k1$" + hex, "dpw1$K1$" + hex,
                                  "dpw1$$" + hex, "dpw1$k1" + hex, "dpw1$k1$" + hex.substr(1),
                                  "dpw1$k1$" + hex + "0", "dpw1$k1$" + upper, "dpw1$k1$ " + hex.substr(1),
                                  "dpw1$abcdefghijklmnopq$" + hex, "{SSHA}abcdef"}) {
        BOOST_TEST(dpw_stored_valid(bad.data(), bad.size()) == 0, bad);
        BOOST_TEST(verify(r.get(), bad, kCanon) == DPW_INVALID, bad);
    }
    // A malformed offered secret is INVALID too, not a mismatch.
    BOOST_TEST(verify(r.get(), good, "K3X9Q2ABM7PDX8WNR4VC") == DPW_INVALID);
    BOOST_TEST(verify(r.get(), good, "q2abm7pdx8wnr4vc") == DPW_INVALID);
    BOOST_TEST(verify(nullptr, good, kCanon) == DPW_INVALID);
}

BOOST_AUTO_TEST_CASE(valid_stored_values) {
    for (const std::string &ok : std::vector<std::string>{"dpw1$k1$" + std::string(64, '0'), "dpw1$abcdefghijklmnop$" + std::string(64, 'f'),
                                 "dpw1$0$" + reference(kHexA, kCanon)})
        BOOST_TEST(dpw_stored_valid(ok.data(), ok.size()) == 1, ok);
    BOOST_TEST(dpw_stored_valid(nullptr, 0) == 0);
}

BOOST_AUTO_TEST_CASE(concurrent_verification_shares_one_ring) {
    Ring r = ring("k1 " + kHexA + "\nk2 " + kHexB + "\n");
    const std::string s = make(r.get(), kCanon);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 5000; ++i) {
                if (verify(r.get(), s, kCanon) != DPW_OK) ++failures;
                if (verify(r.get(), s, "k3x9q2abm7pdx8wnr4vd") != DPW_NO_MATCH) ++failures;
            }
        });
    for (auto &t : threads) t.join();
    BOOST_TEST(failures.load() == 0);
}

BOOST_AUTO_TEST_CASE(equal_ct) {
    BOOST_TEST(dpw_equal_ct("abcd", "abcd", 4) == 1);
    BOOST_TEST(dpw_equal_ct("abcd", "abce", 4) == 0);
    BOOST_TEST(dpw_equal_ct("xbcd", "abcd", 4) == 0);
    BOOST_TEST(dpw_equal_ct("abcd", "abce", 3) == 1);  // only len bytes count
    BOOST_TEST(dpw_equal_ct("a", "b", 0) == 1);
    const std::string z1(1000, '\0');
    std::string z2 = z1;
    BOOST_TEST(dpw_equal_ct(z1.data(), z2.data(), z1.size()) == 1);
    z2[999] = 1;
    BOOST_TEST(dpw_equal_ct(z1.data(), z2.data(), z1.size()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
