// Per-device failed-bind counters: see failures.h.
//
// Failed binds can come in bursts (a stale phone, a guessing client) on every worker
// thread at once, so the counters are split into shards, each with its own lock,
// chosen by the key's hash; an existing counter is found without allocating
// (heterogeneous lookup with std::string_view).
#include "failures.h"

#include <array>
#include <functional>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Shard {
    std::mutex mutex;
    // Keyed by the device's normalised DN; bounded by the number of devices that
    // exist (only binds that named an existing device are counted).
    std::unordered_map<std::string, unsigned long, KeyHash, std::equal_to<>> counts;
};

constexpr std::size_t kShards = 16;

}  // namespace

struct dpw_failures {
    std::array<Shard, kShards> shards;

    Shard &shard_for(std::string_view key, std::size_t *hash) noexcept {
        *hash = KeyHash{}(key);
        return shards[*hash % kShards];
    }
};

extern "C" dpw_failures *dpw_failures_new(void) noexcept {
    return new (std::nothrow) dpw_failures;
}

extern "C" void dpw_failures_free(dpw_failures *f) noexcept { delete f; }

extern "C" unsigned long dpw_failures_bump(dpw_failures *f, const char *key, size_t len) noexcept {
    if (f == nullptr || key == nullptr) return 0;
    try {
        const std::string_view k(key, len);
        std::size_t h;
        Shard &s = f->shard_for(k, &h);
        std::lock_guard<std::mutex> lock(s.mutex);
        auto it = s.counts.find(k);
        if (it == s.counts.end()) it = s.counts.emplace(std::string(k), 0).first;
        return ++it->second;
    } catch (...) {
        return 0;
    }
}

extern "C" void dpw_failures_reset(dpw_failures *f, const char *key, size_t len) noexcept {
    if (f == nullptr || key == nullptr) return;
    try {
        const std::string_view k(key, len);
        std::size_t h;
        Shard &s = f->shard_for(k, &h);
        std::lock_guard<std::mutex> lock(s.mutex);
        auto it = s.counts.find(k);
        if (it != s.counts.end()) s.counts.erase(it);
    } catch (...) {
    }
}
