// Inputs found by the fuzz targets (tests/fuzz), kept as unit tests. Each case names
// the target and the saved input (also in tests/fuzz/corpus/<target>/).
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>

#include "devicepw_core.h"
#include "test_support.h"

BOOST_AUTO_TEST_SUITE(fuzz_regressions)

// secret_canonical, corpus/secret_canonical/separators-beyond-offered-max: a valid
// secret padded with separators to 133 bytes. Refused unread (DPW_OFFERED_MAX), which
// devicepw_core.h did not say; the contract now does. Pins the limit on both sides.
BOOST_AUTO_TEST_CASE(offered_password_longer_than_offered_max_is_refused) {
    static_assert(DPW_OFFERED_MAX == 128);
    const std::string secret = "x-abcd-efgh-ijkm-npqr";  // canonical: 17 characters
    std::string at_limit = secret + std::string(DPW_OFFERED_MAX - secret.size(), '-');
    BOOST_TEST(at_limit.size() == 128u);
    BOOST_TEST(dpwtest::canonical(at_limit) == "xabcdefghijkmnpqr");
    std::string over = at_limit + "-";
    char canon[DPW_CANONICAL_MAX + 1];
    std::memset(canon, 'X', sizeof canon);
    size_t id_len = 0;
    BOOST_TEST(dpw_secret_canonical(over.data(), over.size(), canon, &id_len) == DPW_INVALID);
    for (char c : canon) BOOST_TEST(c == '\0');  // wiped
}

BOOST_AUTO_TEST_SUITE_END()
