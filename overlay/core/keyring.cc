// The key file and the key ring.
//
// File format: one key per line, "<id> <64 hex digits>" (id: 1..16 of [a-z0-9];
// 32 key bytes), blank lines and '#' comments allowed, whitespace around the fields
// tolerated. The last key is current. Any malformed line makes the whole file
// invalid: a key file that slapd half-understands is worse than one it refuses.
//
// Messages name the file and the line, never key material: a token that failed to
// parse may be (part of) a key, so only valid key ids are ever quoted.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

#include "devicepw_core.h"
#include "keyring_impl.h"
#include "syntax.h"

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kKeyHex = 2 * kKeyBytes;
// A key file is a handful of short lines; anything this large is a mistake.
constexpr off_t kMaxFileSize = 1 << 20;

void set_error(char *err, std::size_t err_len, const char *fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));
void set_error(char *err, std::size_t err_len, const char *fmt, ...) noexcept {
    if (err == nullptr || err_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

// strerror_r comes in a GNU (char *) and an XSI (int) flavour; accept either.
[[maybe_unused]] const char *strerror_result(int rc, const char *buf) noexcept {
    return rc == 0 ? buf : "unknown error";
}
[[maybe_unused]] const char *strerror_result(const char *s, const char *) noexcept { return s; }
const char *error_text(int e, char *buf, std::size_t len) noexcept {
    return strerror_result(strerror_r(e, buf, len), buf);
}

constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}
constexpr bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// One key line that passed the syntax check; views point into the caller's text.
struct KeyLine {
    std::size_t line_no;
    std::string_view id;
    std::string_view hex;
};

// Where messages say the problem is: "PATH:LINE: " or "line LINE: ".
struct Origin {
    const char *path;  // nullptr for text that did not come from a file
    void line(char *err, std::size_t err_len, std::size_t line_no, const char *what) const noexcept {
        if (path != nullptr)
            set_error(err, err_len, "%s:%zu: %s", path, line_no, what);
        else
            set_error(err, err_len, "key file line %zu: %s", line_no, what);
    }
    const char *name() const noexcept { return path != nullptr ? path : "key file"; }
};

// Checks one line (without its '\n'). Returns true and fills *out for a key line,
// true with out->id empty for a blank or comment line, false (message in err) for
// anything else.
bool parse_line(std::string_view line, std::size_t line_no, const Origin &origin, KeyLine *out,
                char *err, std::size_t err_len) noexcept {
    *out = KeyLine{line_no, {}, {}};
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::string_view fields[3];
    std::size_t nfields = 0;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space(line[i])) ++i;
        if (i == line.size()) break;
        std::size_t start = i;
        while (i < line.size() && !is_space(line[i])) ++i;
        if (nfields < 3) fields[nfields] = line.substr(start, i - start);
        ++nfields;
    }
    if (nfields == 0) return true;
    if (!dpw::id_valid(fields[0].data(), fields[0].size())) {
        origin.line(err, err_len, line_no,
                    nfields == 1 ? "expected \"<id> <64 hex digits>\""
                                 : "key id must be 1 to 16 characters of a-z and 0-9");
        return false;
    }
    if (nfields == 1) {
        origin.line(err, err_len, line_no, "key id without a key (expected \"<id> <64 hex digits>\")");
        return false;
    }
    if (nfields > 2) {
        origin.line(err, err_len, line_no, "unexpected text after the key (expected \"<id> <64 hex digits>\")");
        return false;
    }
    const std::string_view hex = fields[1];
    bool all_hex = true;
    for (char c : hex) all_hex &= is_hex(c);
    if (hex.size() != kKeyHex || !all_hex) {
        origin.line(err, err_len, line_no, "key must be 64 hex digits (32 bytes)");
        return false;
    }
    bool all_zero = true;
    for (char c : hex) all_zero &= c == '0';
    if (all_zero) {
        origin.line(err, err_len, line_no, "key is all zeros (generate one with devicepw keygen)");
        return false;
    }
    *out = KeyLine{line_no, fields[0], hex};
    return true;
}

dpw_status parse_text(const char *text, std::size_t len, const Origin &origin, dpw_keyring **out,
                      char *err, std::size_t err_len) {
    std::vector<KeyLine> lines;
    std::string_view rest(text, len);
    std::size_t line_no = 0;
    while (!rest.empty()) {
        ++line_no;
        std::size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        KeyLine kl;
        if (!parse_line(line, line_no, origin, &kl, err, err_len)) return DPW_INVALID;
        if (kl.id.empty()) continue;
        for (const KeyLine &prev : lines) {
            if (prev.id == kl.id) {
                char what[96];
                std::snprintf(what, sizeof what, "duplicate key id \"%.*s\" (also on line %zu)",
                              static_cast<int>(kl.id.size()), kl.id.data(), prev.line_no);
                origin.line(err, err_len, line_no, what);
                return DPW_INVALID;
            }
        }
        lines.push_back(kl);
    }
    if (lines.empty()) {
        set_error(err, err_len,
                  "%s holds no key (expected lines \"<id> <64 hex digits>\"; devicepw keygen prints one)",
                  origin.name());
        return DPW_NO_KEY;
    }

    auto ring = std::make_unique<dpw_keyring>();
    ring->keys = std::make_unique<dpw::Key[]>(lines.size());
    ring->count = lines.size();
    ring->active = lines.size() - 1;
    for (std::size_t k = 0; k < lines.size(); ++k) {
        dpw::Key &key = ring->keys[k];
        std::memcpy(key.id, lines[k].id.data(), lines[k].id.size());
        key.id[lines[k].id.size()] = '\0';
        key.id_len = lines[k].id.size();
        unsigned char raw[kKeyBytes];
        std::size_t raw_len = 0;
        int rc = sodium_hex2bin(raw, sizeof raw, lines[k].hex.data(), lines[k].hex.size(), nullptr,
                                &raw_len, nullptr);
        if (rc == 0 && raw_len == kKeyBytes) {
            rc = crypto_generichash_init(&key.state, raw, sizeof raw, dpw::kDigestBytes);
            // fingerprint: BLAKE2b of a fixed label and the key, first 8 bytes in hex
            static const unsigned char kLabel[] = "devicepw key fingerprint v1";
            unsigned char fp[16];
            crypto_generichash_state st;
            if (rc == 0) rc = crypto_generichash_init(&st, nullptr, 0, sizeof fp);
            if (rc == 0) rc = crypto_generichash_update(&st, kLabel, sizeof kLabel - 1);
            if (rc == 0) rc = crypto_generichash_update(&st, raw, sizeof raw);
            if (rc == 0) rc = crypto_generichash_final(&st, fp, sizeof fp);
            sodium_memzero(&st, sizeof st);
            if (rc == 0) sodium_bin2hex(key.fingerprint, sizeof key.fingerprint, fp, DPW_FINGERPRINT_CHARS / 2);
        } else {
            rc = -1;
        }
        sodium_memzero(raw, sizeof raw);
        if (rc != 0) {
            set_error(err, err_len, "%s: cannot set up key \"%s\"", origin.name(), key.id);
            return DPW_INTERNAL;
        }
    }
    *out = ring.release();
    return DPW_OK;
}

// Reads a whole file into a buffer that is wiped when released.
struct WipedBuffer {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
    std::size_t capacity = 0;
    ~WipedBuffer() {
        if (data) sodium_memzero(data.get(), capacity);
    }
};

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

extern "C" {

// The C entry points, noexcept (DPW_NOEXCEPT in devicepw_core.h); those that can
// allocate catch everything.

dpw_status dpw_keyring_parse(const char *text, size_t len, dpw_keyring **out, char *err,
                             size_t err_len) noexcept try {
    if (err != nullptr && err_len > 0) err[0] = '\0';
    if (out == nullptr) return DPW_INVALID;
    *out = nullptr;
    if (text == nullptr && len > 0) return DPW_INVALID;
    if (dpw_init() != DPW_OK) {
        set_error(err, err_len, "libsodium failed to initialise");
        return DPW_INTERNAL;
    }
    return parse_text(text, len, Origin{nullptr}, out, err, err_len);
} catch (...) {
    set_error(err, err_len, "out of memory reading the key file");
    return DPW_INTERNAL;
}

dpw_status dpw_keyring_load(const char *path, dpw_keyring **out, char *err, size_t err_len) noexcept try {
    if (err != nullptr && err_len > 0) err[0] = '\0';
    if (out == nullptr) return DPW_INVALID;
    *out = nullptr;
    if (path == nullptr || path[0] == '\0') {
        set_error(err, err_len, "no key file given");
        return DPW_IO_ERROR;
    }
    if (dpw_init() != DPW_OK) {
        set_error(err, err_len, "libsodium failed to initialise");
        return DPW_INTERNAL;
    }
    char ebuf[128];
    // open, then fstat the open file: the checked file is the one that is read.
    Fd f{::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (f.fd < 0) {
        const int e = errno;
        set_error(err, err_len, "cannot open key file %s: %s", path, error_text(e, ebuf, sizeof ebuf));
        return DPW_IO_ERROR;
    }
    struct stat st;
    if (::fstat(f.fd, &st) != 0) {
        const int e = errno;
        set_error(err, err_len, "cannot stat key file %s: %s", path, error_text(e, ebuf, sizeof ebuf));
        return DPW_IO_ERROR;
    }
    if (!S_ISREG(st.st_mode)) {
        set_error(err, err_len, "key file %s is not a regular file", path);
        return DPW_IO_ERROR;
    }
    if ((st.st_mode & 077) != 0) {
        set_error(err, err_len,
                  "key file %s may be accessed by group or others (mode %04o); it must be readable "
                  "by slapd only (chmod 600)",
                  path, static_cast<unsigned>(st.st_mode & 07777));
        return DPW_INSECURE;
    }
    if (st.st_size > kMaxFileSize) {
        set_error(err, err_len, "key file %s is too large to be a key file", path);
        return DPW_IO_ERROR;
    }
    WipedBuffer buf;
    buf.capacity = static_cast<std::size_t>(st.st_size) + 1;  // +1 notices a growing file
    buf.data = std::make_unique<char[]>(buf.capacity);
    for (;;) {
        ssize_t n = ::read(f.fd, buf.data.get() + buf.size, buf.capacity - buf.size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            set_error(err, err_len, "cannot read key file %s: %s", path, error_text(e, ebuf, sizeof ebuf));
            return DPW_IO_ERROR;
        }
        if (n == 0) break;
        buf.size += static_cast<std::size_t>(n);
        if (buf.size == buf.capacity) {
            set_error(err, err_len, "key file %s changed while it was read", path);
            return DPW_IO_ERROR;
        }
    }
    return parse_text(buf.data.get(), buf.size, Origin{path}, out, err, err_len);
} catch (...) {
    set_error(err, err_len, "out of memory reading the key file");
    return DPW_INTERNAL;
}

void dpw_keyring_free(dpw_keyring *ring) noexcept { delete ring; }  // ~Key wipes each state

size_t dpw_keyring_count(const dpw_keyring *ring) noexcept { return ring ? ring->count : 0; }

const char *dpw_keyring_id(const dpw_keyring *ring, size_t i) noexcept {
    return ring != nullptr && i < ring->count ? ring->keys[i].id : nullptr;
}

const char *dpw_keyring_fingerprint(const dpw_keyring *ring, size_t i) noexcept {
    return ring != nullptr && i < ring->count ? ring->keys[i].fingerprint : nullptr;
}

dpw_status dpw_keyring_set_active(dpw_keyring *ring, const char *id, size_t len) noexcept {
    if (ring == nullptr) return DPW_INVALID;
    if (id == nullptr || len == 0) {
        ring->active = ring->count - 1;
        return DPW_OK;
    }
    for (std::size_t i = 0; i < ring->count; ++i) {
        if (ring->keys[i].id_len == len && std::memcmp(ring->keys[i].id, id, len) == 0) {
            ring->active = i;
            return DPW_OK;
        }
    }
    return DPW_UNKNOWN_KEY;
}

const char *dpw_keyring_current_id(const dpw_keyring *ring) noexcept {
    return ring != nullptr && ring->count > 0 ? ring->current().id : "";
}

dpw_status dpw_key_generate_line(const char *id, char *line, size_t line_len) noexcept {
    if (line == nullptr || !dpw::id_valid(id, id != nullptr ? std::strlen(id) : 0)) return DPW_INVALID;
    const std::size_t id_len = std::strlen(id);
    if (line_len < id_len + 1 + kKeyHex + 2) return DPW_INVALID;
    if (dpw_init() != DPW_OK) return DPW_INTERNAL;
    unsigned char raw[kKeyBytes];
    randombytes_buf(raw, sizeof raw);
    std::memcpy(line, id, id_len);
    line[id_len] = ' ';
    sodium_bin2hex(line + id_len + 1, kKeyHex + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    line[id_len + 1 + kKeyHex] = '\n';
    line[id_len + 2 + kKeyHex] = '\0';
    return DPW_OK;
}

}  // extern "C"
