// Per-device failed-bind counters: see failures.h.
//
// Failed binds can come in bursts (a stale phone, a guessing client) on every worker
// thread at once, so the counters are split into shards, each with its own lock,
// chosen by the device's entry id; lookups neither hash strings nor allocate.
#include "failures.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <new>
#include <unordered_map>

namespace {

struct Shard {
    std::mutex mutex;
    std::unordered_map<std::uint64_t, unsigned long> counts;  // entry id -> failures
};

constexpr std::size_t kShards = 16;

}  // namespace

struct dpw_failures {
    std::array<Shard, kShards> shards;
    Shard &shard_for(std::uint64_t device) noexcept { return shards[device % kShards]; }
};

extern "C" dpw_failures *dpw_failures_new(void) noexcept {
    return new (std::nothrow) dpw_failures;
}

extern "C" void dpw_failures_free(dpw_failures *f) noexcept { delete f; }

extern "C" unsigned long dpw_failures_bump(dpw_failures *f, uint64_t device) noexcept {
    if (f == nullptr) return 0;
    try {
        Shard &s = f->shard_for(device);
        std::lock_guard<std::mutex> lock(s.mutex);
        return ++s.counts[device];
    } catch (...) {
        return 0;
    }
}

extern "C" void dpw_failures_reset(dpw_failures *f, uint64_t device) noexcept {
    if (f == nullptr) return;
    try {
        Shard &s = f->shard_for(device);
        std::lock_guard<std::mutex> lock(s.mutex);
        s.counts.erase(device);
    } catch (...) {
    }
}
