// Per-device failed-bind counters: see failures.h.
#include "failures.h"

#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>

struct dpw_failures {
    std::mutex mutex;
    // Keyed by the device's normalised DN; bounded by the number of devices that
    // exist (only binds that named an existing device are counted).
    std::unordered_map<std::string, unsigned long> counts;
};

extern "C" dpw_failures *dpw_failures_new(void) noexcept {
    return new (std::nothrow) dpw_failures;
}

extern "C" void dpw_failures_free(dpw_failures *f) noexcept { delete f; }

extern "C" unsigned long dpw_failures_bump(dpw_failures *f, const char *key, size_t len) noexcept {
    if (f == nullptr) return 0;
    try {
        std::lock_guard<std::mutex> lock(f->mutex);
        return ++f->counts[std::string(key, len)];
    } catch (...) {
        return 0;
    }
}

extern "C" void dpw_failures_reset(dpw_failures *f, const char *key, size_t len) noexcept {
    if (f == nullptr) return;
    try {
        std::lock_guard<std::mutex> lock(f->mutex);
        if (!f->counts.empty()) f->counts.erase(std::string(key, len));
    } catch (...) {
    }
}
