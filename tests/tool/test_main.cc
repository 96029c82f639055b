// Boost.Test entry point of the devicepw tool tests.
#define BOOST_TEST_MODULE devicepw_tool_tests
#include <boost/test/unit_test.hpp>
