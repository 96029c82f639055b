// The key file: syntax, messages, permissions, key generation.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "devicepw_core.h"
#include "test_support.h"

using dpwtest::kHexA;
using dpwtest::kHexB;
using dpwtest::parse;
using dpwtest::Ring;

namespace {

// No message may carry key material: check for any 16-digit stretch of the keys.
void no_key_material(const std::string &msg) {
    for (const std::string &hex : std::vector<std::string>{kHexA, kHexB})
        for (size_t i = 0; i + 16 <= hex.size(); i += 8)
            BOOST_TEST(msg.find(hex.substr(i, 16)) == std::string::npos, msg);
}

void expect_invalid(const std::string &text, const std::string &line_tag) {
    auto p = parse(text);
    BOOST_TEST(p.status == DPW_INVALID, text);
    BOOST_TEST(!p.ring);
    BOOST_TEST(p.err.find(line_tag) != std::string::npos, p.err << " should name " << line_tag);
    no_key_material(p.err);
}

// A temporary directory, removed with its files.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/devicepw-unit-XXXXXX";
        BOOST_TEST_REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string write(const std::string &name, const std::string &text, mode_t mode) const {
        const std::string file = path + "/" + name;
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        BOOST_TEST_REQUIRE(fd >= 0);
        BOOST_TEST_REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
        ::close(fd);
        BOOST_TEST_REQUIRE(::chmod(file.c_str(), mode) == 0);
        return file;
    }
};

struct Loaded {
    dpw_status status;
    Ring ring;
    std::string err;
};

Loaded load(const std::string &path) {
    dpw_keyring *r = reinterpret_cast<dpw_keyring *>(0x1);  // must be reset to NULL on error
    char err[512] = "untouched";
    dpw_status st = dpw_keyring_load(path.c_str(), &r, err, sizeof err);
    if (st != DPW_OK) {
        BOOST_TEST(r == nullptr);
        r = nullptr;
    }
    return Loaded{st, Ring(r), err};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keyring)

BOOST_AUTO_TEST_CASE(comments_blank_lines_and_whitespace) {
    const std::string text = "# devicepw keys\n"
                             "\n"
                             "   \t\n"
                             "  k1 \t " + kHexA + "   \n"
                             "# k9 " + kHexB + "\n"
                             "\tk2 " + kHexB + " # rotated 2026-11-28\r\n"
                             "   # trailing comment";
    auto p = parse(text);
    BOOST_TEST_REQUIRE(p.status == DPW_OK, p.err);
    BOOST_TEST(std::string(dpw_keyring_current_id(p.ring.get())) == "k2");
}

BOOST_AUTO_TEST_CASE(last_line_without_newline_and_upper_case_hex) {
    std::string upper = kHexB;
    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto p = parse("a " + kHexA + "\nb " + upper);
    BOOST_TEST_REQUIRE(p.status == DPW_OK, p.err);
    BOOST_TEST(std::string(dpw_keyring_current_id(p.ring.get())) == "b");
}

BOOST_AUTO_TEST_CASE(bad_hex) {
    expect_invalid("k1 " + kHexA.substr(1) + "\n", "line 1");
    expect_invalid("k1 " + kHexA + "0\n", "line 1");
    expect_invalid("# ok\nk1 " + kHexA.substr(0, 63) + "g\n", "line 2");
    expect_invalid("k1 " + kHexA + "\nk2 0x" + kHexB.substr(2) + "\n", "line 2");
    expect_invalid("k1 " + std::string(64, '0') + "\n", "line 1");  // an all-zero key is no key
}

BOOST_AUTO_TEST_CASE(bad_id) {
    expect_invalid("K1 " + kHexA + "\n", "line 1");
    expect_invalid("\n\nabcdefghijklmnopq " + kHexA + "\n", "line 3");
    expect_invalid("k-1 " + kHexA + "\n", "line 1");
    expect_invalid("k\xc3\xa9 " + kHexA + "\n", "line 1");
}

BOOST_AUTO_TEST_CASE(wrong_number_of_fields) {
    expect_invalid(kHexA + "\n", "line 1");                       // key without id
    expect_invalid("k1\n", "line 1");                             // id without key
    expect_invalid("k1 " + kHexA + " " + kHexB + "\n", "line 1"); // extra field
    expect_invalid("k1=" + kHexA + "\n", "line 1");
}

BOOST_AUTO_TEST_CASE(duplicate_ids) {
    auto p = parse("k1 " + kHexA + "\nk2 " + kHexB + "\nk1 " + kHexB + "\n");
    BOOST_TEST(p.status == DPW_INVALID);
    BOOST_TEST(!p.ring);
    BOOST_TEST(p.err.find("line 3") != std::string::npos, p.err);
    BOOST_TEST(p.err.find("duplicate") != std::string::npos, p.err);
    BOOST_TEST(p.err.find("\"k1\"") != std::string::npos, p.err);
    BOOST_TEST(p.err.find("line 1") != std::string::npos, p.err);
    no_key_material(p.err);
}

BOOST_AUTO_TEST_CASE(no_key) {
    for (const std::string &text : std::vector<std::string>{"", "\n\n", "# nothing here\n   # still nothing\n"}) {
        auto p = parse(text);
        BOOST_TEST(p.status == DPW_NO_KEY, text);
        BOOST_TEST(!p.ring);
        BOOST_TEST(p.err.find("no key") != std::string::npos, p.err);
    }
}

BOOST_AUTO_TEST_CASE(error_buffer_is_optional_and_truncated_safely) {
    dpw_keyring *r = nullptr;
    const std::string text = "K1 " + kHexA;
    BOOST_TEST(dpw_keyring_parse(text.data(), text.size(), &r, nullptr, 0) == DPW_INVALID);
    char small[8];
    std::memset(small, 'X', sizeof small);
    BOOST_TEST(dpw_keyring_parse(text.data(), text.size(), &r, small, sizeof small) == DPW_INVALID);
    BOOST_TEST(std::strlen(small) == 7u);
    BOOST_TEST(dpw_keyring_parse(text.data(), text.size(), nullptr, small, sizeof small) == DPW_INVALID);
}

BOOST_AUTO_TEST_CASE(free_and_current_id_accept_null) {
    dpw_keyring_free(nullptr);
    BOOST_TEST(std::string(dpw_keyring_current_id(nullptr)).empty());
}

BOOST_AUTO_TEST_CASE(load_private_file) {
    TempDir dir;
    const std::string path = dir.write("keys", "# keys\nk1 " + kHexA + "\nk2 " + kHexB + "\n", 0600);
    auto l = load(path);
    BOOST_TEST_REQUIRE(l.status == DPW_OK, l.err);
    BOOST_TEST(std::string(dpw_keyring_current_id(l.ring.get())) == "k2");
    BOOST_TEST(l.err.empty());
    // Owner read-only is fine too.
    BOOST_TEST(load(dir.write("ro", "k1 " + kHexA + "\n", 0400)).status == DPW_OK);
}

BOOST_AUTO_TEST_CASE(load_refuses_group_or_other_access) {
    TempDir dir;
    for (mode_t mode : {0640, 0604, 0620, 0602, 0610, 0601, 0644, 0660, 0666}) {
        const std::string path = dir.write("keys", "k1 " + kHexA + "\n", mode);
        auto l = load(path);
        BOOST_TEST(l.status == DPW_INSECURE, "mode " << std::oct << mode);
        BOOST_TEST(l.err.find(path) != std::string::npos, l.err);
        no_key_material(l.err);
    }
}

BOOST_AUTO_TEST_CASE(load_missing_file) {
    TempDir dir;
    const std::string path = dir.path + "/absent";
    auto l = load(path);
    BOOST_TEST(l.status == DPW_IO_ERROR);
    BOOST_TEST(l.err.find(path) != std::string::npos, l.err);
    BOOST_TEST(l.err.find(std::strerror(ENOENT)) != std::string::npos, l.err);
    BOOST_TEST(load("").status == DPW_IO_ERROR);
    BOOST_TEST(load(dir.path).status == DPW_IO_ERROR);  // a directory
}

BOOST_AUTO_TEST_CASE(load_unreadable_file) {
    if (::geteuid() == 0) {  // root reads anything: nothing to check
        BOOST_TEST_MESSAGE("load_unreadable_file: skipped when run as root");
        return;
    }
    TempDir dir;
    auto l = load(dir.write("keys", "k1 " + kHexA + "\n", 0200));
    BOOST_TEST(l.status == DPW_IO_ERROR);
    BOOST_TEST(l.err.find(std::strerror(EACCES)) != std::string::npos, l.err);
}

BOOST_AUTO_TEST_CASE(load_reports_path_and_line) {
    TempDir dir;
    const std::string path = dir.write("keys", "k1 " + kHexA + "\n\nk2 " + kHexB.substr(3) + "\n", 0600);
    auto l = load(path);
    BOOST_TEST(l.status == DPW_INVALID);
    BOOST_TEST(l.err.find(path + ":3:") != std::string::npos, l.err);
    no_key_material(l.err);

    auto empty = load(dir.write("empty", "# no keys yet\n", 0600));
    BOOST_TEST(empty.status == DPW_NO_KEY);
    BOOST_TEST(empty.err.find(dir.path + "/empty") != std::string::npos, empty.err);
}

BOOST_AUTO_TEST_CASE(generated_key_lines) {
    char line[DPW_KEYID_MAX + 67];
    BOOST_TEST_REQUIRE(dpw_key_generate_line("20261128", line, sizeof line) == DPW_OK);
    const std::string first = line;
    BOOST_TEST(first.size() == 8 + 1 + 64 + 1u);
    BOOST_TEST(first.back() == '\n');
    auto p = parse(first);
    BOOST_TEST_REQUIRE(p.status == DPW_OK, p.err);
    BOOST_TEST(std::string(dpw_keyring_current_id(p.ring.get())) == "20261128");

    BOOST_TEST_REQUIRE(dpw_key_generate_line("abcdefghijklmnop", line, sizeof line) == DPW_OK);
    BOOST_TEST(std::strlen(line) + 1 == sizeof line);  // the longest line fills the buffer exactly
    BOOST_TEST(std::string(line).substr(17, 64) != first.substr(9, 64));  // fresh random bytes
    auto two = parse(first + line);
    BOOST_TEST_REQUIRE(two.status == DPW_OK, two.err);
    BOOST_TEST(std::string(dpw_keyring_current_id(two.ring.get())) == "abcdefghijklmnop");

    BOOST_TEST(dpw_key_generate_line("Bad", line, sizeof line) == DPW_INVALID);
    BOOST_TEST(dpw_key_generate_line("", line, sizeof line) == DPW_INVALID);
    BOOST_TEST(dpw_key_generate_line("k1", line, 2 + 1 + 64 + 1) == DPW_INVALID);  // no room for NUL
    BOOST_TEST(dpw_key_generate_line("k1", line, 2 + 1 + 64 + 2) == DPW_OK);
}

BOOST_AUTO_TEST_SUITE_END()
