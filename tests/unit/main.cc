// The unit test executable: Boost.Test's main, plus libsodium initialised once.
#define BOOST_TEST_MODULE devicepw unit tests
#include <boost/test/unit_test.hpp>

#include "devicepw_core.h"

namespace {
struct InitSodium {
    InitSodium() { BOOST_TEST_REQUIRE(dpw_init() == DPW_OK); }
};
}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(InitSodium);
