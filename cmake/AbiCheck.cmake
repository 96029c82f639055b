# CTest wiring of the slapd ABI check (cmake/abi-check.sh).
#
# Include from the top-level CMakeLists.txt after SLAPD_SOURCE_TREE, SLAPD_INCLUDE_DIRS,
# SLAPD_DEB_CFLAGS and SLAPD_DEB_CPPFLAGS are set and after enable_testing():
#   include(cmake/AbiCheck.cmake)
#
# The test compiles stock overlays (otp, ppolicy, syncprov) from the prepared source tree
# with the module's headers and Debian flags and compares their machine code with Debian's
# /usr/lib/ldap modules; it fails on an ABI slip, and also when its own self-test shows it
# could not have detected one.
if(NOT SLAPD_SOURCE_TREE)
  message(FATAL_ERROR "AbiCheck.cmake: SLAPD_SOURCE_TREE is not set; include it after the slapd source is prepared")
endif()
find_program(DEVICEPW_OBJDUMP objdump)
if(NOT DEVICEPW_OBJDUMP)
  message(WARNING "objdump not found (binutils): the abi_check test will fail")
endif()

string(JOIN ":" _abi_check_incdirs ${SLAPD_INCLUDE_DIRS})
add_test(NAME abi_check
  COMMAND ${CMAKE_COMMAND} -E env
          "CC=${CMAKE_C_COMPILER}"
          "ABI_CHECK_CFLAGS=${SLAPD_DEB_CFLAGS}"
          "ABI_CHECK_CPPFLAGS=${SLAPD_DEB_CPPFLAGS}"
          "ABI_CHECK_INCLUDE_DIRS=${_abi_check_incdirs}"
          sh "${CMAKE_CURRENT_LIST_DIR}/abi-check.sh" "${SLAPD_SOURCE_TREE}")
set_tests_properties(abi_check PROPERTIES
  LABELS "abi"
  TIMEOUT 120
  # Fail loudly rather than pass if the script itself breaks (exit 2 = setup error).
  FAIL_REGULAR_EXPRESSION "abi-check: error:")
unset(_abi_check_incdirs)
