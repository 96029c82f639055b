// Boost.Test entry point of the devicepw integration tests (one executable, one
// ctest entry per suite so that ctest -j runs suites in parallel).
#define BOOST_TEST_MODULE devicepw_integration
#include <boost/test/unit_test.hpp>
