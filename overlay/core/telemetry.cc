// Telemetry of binds, coalesced in memory: see telemetry.h.
//
// Sharded by a hash of the DN so that binds on every worker thread rarely meet on one
// lock; the drain swaps each shard's map out under its lock and calls back outside it.
#include "telemetry.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

// Heterogeneous lookup: a bind looks its device up by string_view, without building a
// std::string (a heap allocation for any DN) unless it inserts.
struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using PendingMap = std::unordered_map<std::string, dpw_telemetry_item, Hash, std::equal_to<>>;

struct Shard {
    std::mutex mutex;
    PendingMap pending;
};

constexpr std::size_t kShards = 32;

void merge(dpw_telemetry_item &into, const dpw_telemetry_item &from) noexcept {
    into.last_used = std::max(into.last_used, from.last_used);
    into.failures += from.failures;
    into.last_failure = std::max(into.last_failure, from.last_failure);
}

}  // namespace

struct dpw_telemetry {
    std::array<Shard, kShards> shards;
    std::atomic<std::size_t> count{0};
    Shard &shard_for(std::string_view key) noexcept {
        return shards[std::hash<std::string_view>{}(key) % kShards];
    }
};

extern "C" {

dpw_telemetry *dpw_telemetry_new(void) noexcept { return new (std::nothrow) dpw_telemetry; }

void dpw_telemetry_free(dpw_telemetry *t) noexcept { delete t; }

int dpw_telemetry_use(dpw_telemetry *t, const char *ndn, size_t len, int64_t now, int64_t stored,
                      int64_t precision) noexcept {
    if (t == nullptr || ndn == nullptr) return -1;
    // stored last use young enough: nothing to record (the common case at precision > 0)
    if (precision > 0 && stored > 0 && now - stored < precision) return 0;
    std::string_view key(ndn, len);
    Shard &s = t->shard_for(key);
    try {
        std::lock_guard<std::mutex> lock(s.mutex);
        auto it = s.pending.find(key);
        if (it == s.pending.end()) {
            s.pending.emplace(std::string(key), dpw_telemetry_item{now, 0, 0});
            t->count.fetch_add(1, std::memory_order_relaxed);
            return 1;
        }
        dpw_telemetry_item &item = it->second;
        if (precision > 0 && item.last_used > 0 && now - item.last_used < precision) return 0;
        item.last_used = std::max(item.last_used, now);
        return 1;
    } catch (...) {
        return -1;
    }
}

unsigned long dpw_telemetry_failure(dpw_telemetry *t, const char *ndn, size_t len, int64_t now,
                                    unsigned long stored) noexcept {
    if (t == nullptr || ndn == nullptr) return 0;
    std::string_view key(ndn, len);
    Shard &s = t->shard_for(key);
    try {
        std::lock_guard<std::mutex> lock(s.mutex);
        auto it = s.pending.find(key);
        if (it == s.pending.end()) {
            it = s.pending.emplace(std::string(key), dpw_telemetry_item{0, 0, 0}).first;
            t->count.fetch_add(1, std::memory_order_relaxed);
        }
        it->second.failures++;
        it->second.last_failure = std::max(it->second.last_failure, now);
        return stored + it->second.failures;
    } catch (...) {
        return 0;
    }
}

size_t dpw_telemetry_drain(dpw_telemetry *t, dpw_telemetry_fn fn, void *ctx) noexcept {
    if (t == nullptr || fn == nullptr || t->count.load(std::memory_order_relaxed) == 0) return 0;
    std::size_t n = 0;
    for (Shard &s : t->shards) {
        PendingMap taken;
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            taken.swap(s.pending);
        }
        t->count.fetch_sub(taken.size(), std::memory_order_relaxed);
        for (const auto &[key, item] : taken) fn(ctx, key.data(), key.size(), &item);
        n += taken.size();
    }
    return n;
}

void dpw_telemetry_restore(dpw_telemetry *t, const char *ndn, size_t len,
                           const dpw_telemetry_item *item) noexcept {
    if (t == nullptr || ndn == nullptr || item == nullptr) return;
    std::string_view key(ndn, len);
    Shard &s = t->shard_for(key);
    try {
        std::lock_guard<std::mutex> lock(s.mutex);
        auto [it, inserted] = s.pending.try_emplace(std::string(key), dpw_telemetry_item{0, 0, 0});
        if (inserted) t->count.fetch_add(1, std::memory_order_relaxed);
        merge(it->second, *item);
    } catch (...) {
        // out of memory: this telemetry is lost, the truth is not affected
    }
}

void dpw_telemetry_forget(dpw_telemetry *t, const char *ndn, size_t len) noexcept {
    if (t == nullptr || ndn == nullptr || t->count.load(std::memory_order_relaxed) == 0) return;
    std::string_view key(ndn, len);
    Shard &s = t->shard_for(key);
    try {
        std::lock_guard<std::mutex> lock(s.mutex);
        auto it = s.pending.find(key);
        if (it != s.pending.end()) {
            s.pending.erase(it);
            t->count.fetch_sub(1, std::memory_order_relaxed);
        }
    } catch (...) {
    }
}

size_t dpw_telemetry_pending(dpw_telemetry *t) noexcept {
    return t == nullptr ? 0 : t->count.load(std::memory_order_relaxed);
}

}  // extern "C"
