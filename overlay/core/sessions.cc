// Connections bound with a mailbox's own password: see sessions.h.
#include "sessions.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

namespace {

struct Shard {
    std::mutex mutex;
    std::unordered_map<std::uint64_t, std::string> ndn;  // connection id -> bound DN
};

constexpr std::size_t kShards = 16;

}  // namespace

struct dpw_sessions {
    std::array<Shard, kShards> shards;
    // Number of recorded connections: lets the bind path skip the locks when zero.
    std::atomic<std::size_t> count{0};
    Shard &shard_for(std::uint64_t connid) noexcept { return shards[connid % kShards]; }
};

extern "C" dpw_sessions *dpw_sessions_new(void) noexcept { return new (std::nothrow) dpw_sessions; }

extern "C" void dpw_sessions_free(dpw_sessions *s) noexcept { delete s; }

extern "C" int dpw_sessions_set_primary(dpw_sessions *s, uint64_t connid, const char *ndn,
                                        size_t len) noexcept {
    if (s == nullptr || ndn == nullptr) return -1;
    try {
        Shard &sh = s->shard_for(connid);
        std::lock_guard<std::mutex> lock(sh.mutex);
        auto [it, inserted] = sh.ndn.insert_or_assign(connid, std::string(ndn, len));
        (void)it;
        if (inserted) s->count.fetch_add(1, std::memory_order_relaxed);
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" void dpw_sessions_forget(dpw_sessions *s, uint64_t connid) noexcept {
    if (s == nullptr || s->count.load(std::memory_order_relaxed) == 0) return;
    Shard &sh = s->shard_for(connid);
    std::lock_guard<std::mutex> lock(sh.mutex);
    if (sh.ndn.erase(connid) > 0) s->count.fetch_sub(1, std::memory_order_relaxed);
}

extern "C" int dpw_sessions_is_primary(dpw_sessions *s, uint64_t connid, const char *ndn,
                                       size_t len) noexcept {
    if (s == nullptr || ndn == nullptr || s->count.load(std::memory_order_relaxed) == 0) return 0;
    Shard &sh = s->shard_for(connid);
    std::lock_guard<std::mutex> lock(sh.mutex);
    auto it = sh.ndn.find(connid);
    return it != sh.ndn.end() && it->second.size() == len && it->second.compare(0, len, ndn, len) == 0;
}
