// A set of normalised DNs shared by slapd's threads: see nameset.h.
#include "nameset.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {
struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
}  // namespace

struct dpw_nameset {
    std::mutex mutex;
    std::unordered_set<std::string, Hash, std::equal_to<>> names;
    std::atomic<std::size_t> count{0};
    std::atomic<bool> ready{false};
};

extern "C" {

dpw_nameset *dpw_nameset_new(void) noexcept { return new (std::nothrow) dpw_nameset; }

void dpw_nameset_free(dpw_nameset *s) noexcept { delete s; }

int dpw_nameset_set(dpw_nameset *s, const char *name, size_t len, int in) noexcept {
    if (s == nullptr || name == nullptr) return -1;
    try {
        std::lock_guard<std::mutex> lock(s->mutex);
        if (in) {
            s->names.emplace(name, len);
        } else {
            auto it = s->names.find(std::string_view(name, len));
            if (it != s->names.end()) s->names.erase(it);
        }
        s->count.store(s->names.size(), std::memory_order_release);
        return 0;
    } catch (...) {
        return -1;
    }
}

int dpw_nameset_has(dpw_nameset *s, const char *name, size_t len) noexcept {
    if (s == nullptr || name == nullptr || s->count.load(std::memory_order_acquire) == 0) return 0;
    std::lock_guard<std::mutex> lock(s->mutex);
    return s->names.find(std::string_view(name, len)) != s->names.end();
}

size_t dpw_nameset_size(dpw_nameset *s) noexcept { return s ? s->count.load(std::memory_order_acquire) : 0; }

void dpw_nameset_set_ready(dpw_nameset *s) noexcept {
    if (s) s->ready.store(true, std::memory_order_release);
}

int dpw_nameset_ready(dpw_nameset *s) noexcept { return s && s->ready.load(std::memory_order_acquire); }

}  // extern "C"
