// devicepwLabel validation.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "devicepw_core.h"

namespace {

const std::string kEmpty = "devicepwLabel must not be empty";
const std::string kTooLong = "devicepwLabel must be at most 128 characters";
const std::string kControl = "devicepwLabel must not contain control characters";
const std::string kUtf8 = "devicepwLabel must be valid UTF-8";

std::string problem(const std::string &label) {
    const char *p = dpw_label_problem(label.data(), label.size());
    return p == nullptr ? std::string() : std::string(p);
}

std::string repeat(const std::string &s, int n) {
    std::string r;
    for (int i = 0; i < n; ++i) r += s;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(label)

BOOST_AUTO_TEST_CASE(valid_labels) {
    for (const std::string &ok : std::vector<std::string>{"iPhone", "Marie's iPhone", "Outlook (office)", "T\xc3\xa9l\xc3\xa9phone de Zo\xc3\xab",
                                 "\xe6\x89\x8b\xe6\x9c\xba", "\xf0\x9f\x93\xb1 phone", "a", " a ", "a\xc2\xa0" "b",
                                 "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "~"})
        BOOST_TEST(problem(ok).empty(), ok << ": " << problem(ok));
}

BOOST_AUTO_TEST_CASE(empty) {
    BOOST_TEST(problem("") == kEmpty);
    BOOST_TEST(std::string(dpw_label_problem(nullptr, 0)) == kEmpty);
}

BOOST_AUTO_TEST_CASE(length_counts_code_points_not_bytes) {
    BOOST_TEST(problem(std::string(128, 'x')).empty());
    BOOST_TEST(problem(std::string(129, 'x')) == kTooLong);
    BOOST_TEST(problem(repeat("\xc3\xa9", 128)).empty());          // 256 bytes
    BOOST_TEST(problem(repeat("\xf0\x9f\x93\xb1", 128)).empty());  // 512 bytes
    BOOST_TEST(problem(repeat("\xc3\xa9", 129)) == kTooLong);
}

BOOST_AUTO_TEST_CASE(control_characters) {
    for (int c = 0; c < 0x20; ++c) BOOST_TEST(problem("ab" + std::string(1, static_cast<char>(c)) + "cd") == kControl, c);
    BOOST_TEST(problem("a\x7f") == kControl);
    BOOST_TEST(problem("\xc2\x80") == kControl);  // U+0080
    BOOST_TEST(problem("x\xc2\x85y") == kControl);  // NEL
    BOOST_TEST(problem("\xc2\x9f") == kControl);  // U+009F
    BOOST_TEST(problem(std::string("a\0b", 3)) == kControl);
    BOOST_TEST(problem("line\nbreak") == kControl);
    BOOST_TEST(problem("x\xc2\xa0").empty());  // U+00A0 is the first after C1
}

// Labels are shown to people: nothing invisible may change how they read.
BOOST_AUTO_TEST_CASE(invisible_format_characters) {
    const std::string kFormat = "devicepwLabel must not contain invisible format characters (bidi controls, zero-width characters)";
    for (const std::string &bad : std::vector<std::string>{
             "\xe2\x80\xae" "enohPi",   // U+202E RIGHT-TO-LEFT OVERRIDE
             "i\xe2\x80\x8bPhone",      // U+200B ZERO WIDTH SPACE
             "i\xe2\x80\x8dPhone",      // U+200D ZERO WIDTH JOINER
             "\xe2\x81\xa6x\xe2\x81\xa9",  // U+2066 LRI ... U+2069 PDI
             "\xef\xbb\xbfphone",       // U+FEFF BOM
             "a\xc2\xad" "b",            // U+00AD SOFT HYPHEN
             "a\xe2\x80\xa8" "b",       // U+2028 LINE SEPARATOR
             "\xf3\xa0\x80\x81tag"})   // U+E0001 LANGUAGE TAG
        BOOST_TEST(problem(bad) == kFormat, bad);
}

BOOST_AUTO_TEST_CASE(blank_labels) {
    const std::string kBlank = "devicepwLabel must not be only white space";
    for (const std::string &bad : std::vector<std::string>{" ", "   ", "\xc2\xa0", "\xe3\x80\x80", " \xe2\x80\x83 "})
        BOOST_TEST(problem(bad) == kBlank, bad);
}

BOOST_AUTO_TEST_CASE(invalid_utf8) {
    for (const std::string &bad : std::vector<std::string>{"\x80", "a\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf",
                                  "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
                                  "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe", "\xe2\x82", "abc\xe2",
                                  "\xf0\x9f\x93", "\xc3(", "\xe2(\xa1", "\xc3\xa9\xa9"})
        BOOST_TEST(problem(bad) == kUtf8, bad);
    // Invalid UTF-8 is reported even after another problem.
    BOOST_TEST(problem(std::string(200, 'x') + "\xff") == kUtf8);
    BOOST_TEST(problem("\x01\xff") == kUtf8);
}

BOOST_AUTO_TEST_SUITE_END()
