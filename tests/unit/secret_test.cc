// Device ids, secret generation and canonicalisation.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "devicepw_core.h"
#include "test_support.h"

using dpwtest::canonical;

namespace {

const std::string kAlphabet = DPW_ALPHABET;

bool in_alphabet(char c) { return kAlphabet.find(c) != std::string::npos && c != '\0'; }

std::string generate(const std::string &id) {
    char display[DPW_DISPLAY_MAX];
    BOOST_TEST_REQUIRE(dpw_secret_generate(id.data(), id.size(), display) == DPW_OK);
    return display;
}

// Checks "<id>-xxxx-xxxx-xxxx-xxxx" with x from the alphabet; returns the random part.
std::string random_part(const std::string &display, const std::string &id) {
    BOOST_TEST_REQUIRE(display.size() == id.size() + 20);
    BOOST_TEST(display.compare(0, id.size(), id) == 0);
    std::string rnd;
    for (size_t i = id.size(); i < display.size(); ++i) {
        const size_t k = i - id.size();
        if (k % 5 == 0) {
            BOOST_TEST(display[i] == '-', "position " << i << " of " << display);
        } else {
            BOOST_TEST(in_alphabet(display[i]), "position " << i << " of " << display);
            rnd += display[i];
        }
    }
    BOOST_TEST(rnd.size() == 16u);
    return rnd;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(secret)

BOOST_AUTO_TEST_CASE(alphabet_has_32_distinct_readable_symbols) {
    BOOST_TEST(kAlphabet.size() == 32u);
    BOOST_TEST(std::set<char>(kAlphabet.begin(), kAlphabet.end()).size() == 32u);
    for (char c : std::string("01lo")) BOOST_TEST(kAlphabet.find(c) == std::string::npos, c);
    for (char c : kAlphabet) BOOST_TEST(dpw_id_valid(&c, 1) == 1);
}

BOOST_AUTO_TEST_CASE(id_syntax) {
    for (const char *ok : {"a", "0", "k3x9", "20261128", "abcdefghijklmnop", "z9"})
        BOOST_TEST(dpw_id_valid(ok, std::strlen(ok)) == 1, ok);
    for (const char *bad : {"", "abcdefghijklmnopq", "K3X9", "k3-9", "k 9", "k_9", "k.9", "k\xc3\xa9"})
        BOOST_TEST(dpw_id_valid(bad, std::strlen(bad)) == 0, bad);
    BOOST_TEST(dpw_id_valid("ab\0c", 4) == 0);
    BOOST_TEST(dpw_id_valid(nullptr, 0) == 0);
}

BOOST_AUTO_TEST_CASE(generated_secret_format) {
    for (const std::string &id : std::vector<std::string>{"k3x9", "a", "abcdefghijklmnop", "0000"}) {
        const std::string display = generate(id);
        const std::string rnd = random_part(display, id);
        size_t id_len = 0;
        BOOST_TEST(canonical(display, &id_len) == id + rnd);
        BOOST_TEST(id_len == id.size());
    }
}

BOOST_AUTO_TEST_CASE(generate_refuses_invalid_ids) {
    char display[DPW_DISPLAY_MAX];
    for (const char *bad : {"", "K3X9", "abcdefghijklmnopq", "k-9"})
        BOOST_TEST(dpw_secret_generate(bad, std::strlen(bad), display) == DPW_INVALID, bad);
}

BOOST_AUTO_TEST_CASE(generated_secrets_are_unique) {
    std::set<std::string> seen;
    const int n = 20000;
    for (int i = 0; i < n; ++i) seen.insert(random_part(generate("k3x9"), "k3x9"));
    BOOST_TEST(seen.size() == static_cast<size_t>(n));
}

BOOST_AUTO_TEST_CASE(every_symbol_appears_about_equally_often) {
    std::array<int, 256> count{};
    const int secrets = 2000;  // 32000 symbols, 1000 expected per symbol, sd ~31
    for (int i = 0; i < secrets; ++i)
        for (char c : random_part(generate("x"), "x")) ++count[static_cast<unsigned char>(c)];
    for (char c : kAlphabet) {
        const int k = count[static_cast<unsigned char>(c)];
        BOOST_TEST(k > 700, c << " appeared " << k << " times");
        BOOST_TEST(k < 1300, c << " appeared " << k << " times");
    }
}

BOOST_AUTO_TEST_CASE(generated_ids) {
    std::set<std::string> seen;
    std::set<char> symbols;
    for (int i = 0; i < 2000; ++i) {
        char id[DPW_ID_MAX + 1];
        std::memset(id, 'X', sizeof id);
        BOOST_TEST_REQUIRE(dpw_id_generate(id) == DPW_OK);
        BOOST_TEST_REQUIRE(std::strlen(id) == size_t{DPW_GENERATED_ID_CHARS});
        BOOST_TEST(dpw_id_valid(id, std::strlen(id)) == 1);
        for (const char *p = id; *p; ++p) {
            BOOST_TEST(in_alphabet(*p));
            symbols.insert(*p);
        }
        seen.insert(id);
    }
    BOOST_TEST(symbols.size() == 32u);
    BOOST_TEST(seen.size() > 1900u);  // 2^20 possible ids: few collisions in 2000
}

BOOST_AUTO_TEST_CASE(canonical_ignores_case_dashes_and_spaces) {
    const std::string want = "k3x9q2abm7pdx8wnr4vc";
    for (const char *pw : {"k3x9-q2ab-m7pd-x8wn-r4vc", "K3X9-Q2AB-M7PD-X8WN-R4VC", "k3x9q2abm7pdx8wnr4vc",
                           "k3x9 q2ab m7pd x8wn r4vc", " k3x9--Q2ab m7Pd-x8wn r4vc ", "-K3X9Q2ABM7PDX8WNR4VC-"}) {
        size_t id_len = 99;
        BOOST_TEST(canonical(pw, &id_len) == want, pw);
        BOOST_TEST(id_len == 4u, pw);
    }
}

BOOST_AUTO_TEST_CASE(canonical_splits_id_and_random_part) {
    size_t id_len = 0;
    // 17 characters: a one-character id.
    BOOST_TEST(canonical("a-2345-6789-abcd-efgh", &id_len) == "a23456789abcdefgh");
    BOOST_TEST(id_len == 1u);
    // 32 characters: a 16-character id.
    BOOST_TEST(canonical("abcdefghijklmnop-2345-6789-abcd-efgh", &id_len) == "abcdefghijklmnop23456789abcdefgh");
    BOOST_TEST(id_len == 16u);
    // Whatever is last is the random part: no '-' needed where the id ends.
    BOOST_TEST(canonical("abc23456789abcdefgh", &id_len) == "abc23456789abcdefgh");
    BOOST_TEST(id_len == 3u);
    // The random part may hold any [a-z0-9] (it just will not match a generated one).
    BOOST_TEST(canonical("k3x9-0101-lolo-0000-1111", &id_len) == "k3x90101lolo00001111");
}

BOOST_AUTO_TEST_CASE(canonical_refuses_wrong_lengths) {
    char canon[DPW_CANONICAL_MAX + 1];
    size_t id_len = 0;
    const std::string sixteen = "2345-6789-abcd-efgh";                          // no id
    const std::string thirtythree = "abcdefghijklmnopq-2345-6789-abcd-efgh";    // 17-char id
    for (const std::string &pw : std::vector<std::string>{std::string(), std::string("-- -"), sixteen, thirtythree,
                                  std::string(200, 'a')}) {
        std::memset(canon, 'X', sizeof canon);
        BOOST_TEST(dpw_secret_canonical(pw.data(), pw.size(), canon, &id_len) == DPW_INVALID, pw);
        // Wiped on failure: no part of the offered password is left behind.
        for (char c : canon) BOOST_TEST(c == '\0');
    }
}

BOOST_AUTO_TEST_CASE(canonical_refuses_other_characters) {
    for (const std::string &pw : std::vector<std::string>{"k3x9_q2ab-m7pd-x8wn-r4vc", "k3x9.q2ab-m7pd-x8wn-r4vc", "k3x9-q2ab-m7pd-x8wn-r4v\xc3\xa9",
                           "k3x9\tq2ab-m7pd-x8wn-r4vc", "k3x9+q2ab-m7pd-x8wn-r4vc", "k3x9-q2ab-m7pd-x8wn-r4v@",
                           "k3x9-q2ab-m7pd-x8wn-r4v\x7f", "[3x9-q2ab-m7pd-x8wn-r4vc", "k3x9-q2ab-m7pd-x8wn-r4v{"}) {
        BOOST_TEST(canonical(pw).empty(), pw);
    }
    const std::string with_nul("k3x9-q2ab-m7pd-x8wn\0r4vc", 24);
    BOOST_TEST(canonical(with_nul).empty());
}

BOOST_AUTO_TEST_CASE(canonical_of_every_byte) {
    // Exactly A-Z, a-z, 0-9, '-' and ' ' are accepted, whatever their position.
    for (int b = 0; b < 256; ++b) {
        std::string pw = "k3x9-q2ab-m7pd-x8wn-r4v";
        pw += static_cast<char>(b);
        pw += "c";
        const bool alnum = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
        const bool ok = alnum || b == '-' || b == ' ';
        BOOST_TEST(!canonical(pw).empty() == ok, "byte " << b);
    }
}

BOOST_AUTO_TEST_CASE(canonical_null_arguments) {
    char canon[DPW_CANONICAL_MAX + 1];
    size_t id_len;
    BOOST_TEST(dpw_secret_canonical(nullptr, 0, canon, &id_len) == DPW_INVALID);
    BOOST_TEST(dpw_secret_canonical("k3x9q2abm7pdx8wnr4vc", 20, canon, nullptr) == DPW_INVALID);
    BOOST_TEST(dpw_secret_canonical("k3x9q2abm7pdx8wnr4vc", 20, nullptr, &id_len) == DPW_INVALID);
}

BOOST_AUTO_TEST_SUITE_END()
