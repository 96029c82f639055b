// Devices deleted on this server: see tombstones.h.
#include "tombstones.h"

#include <cstdint>
#include <deque>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>

struct dpw_tombstones {
    std::mutex mutex;
    std::unordered_map<std::string, std::int64_t> when;     // uuid -> deletion time
    std::deque<std::pair<std::string, std::int64_t>> order;  // oldest first, for the cap
    std::size_t cap;
    std::int64_t ttl;
    dpw_tombstones(std::size_t c, std::int64_t t) : cap(c), ttl(t) {}

    void expire(std::int64_t now) {
        while (!order.empty() && (order.size() > cap || now - order.front().second >= ttl)) {
            auto it = when.find(order.front().first);
            if (it != when.end() && it->second == order.front().second) when.erase(it);
            order.pop_front();
        }
    }
};

extern "C" {

dpw_tombstones *dpw_tombstones_new(size_t cap, int64_t ttl) noexcept {
    if (cap == 0 || ttl <= 0) return nullptr;
    return new (std::nothrow) dpw_tombstones(cap, ttl);
}

void dpw_tombstones_free(dpw_tombstones *t) noexcept { delete t; }

void dpw_tombstones_add(dpw_tombstones *t, const char *uuid, size_t len, int64_t now) noexcept {
    if (t == nullptr || uuid == nullptr || len == 0) return;
    try {
        std::lock_guard<std::mutex> lock(t->mutex);
        std::string key(uuid, len);
        t->when[key] = now;
        t->order.emplace_back(std::move(key), now);
        t->expire(now);
    } catch (...) {
        // out of memory: this deletion is not remembered
    }
}

int dpw_tombstones_has(dpw_tombstones *t, const char *uuid, size_t len, int64_t now) noexcept {
    if (t == nullptr || uuid == nullptr || len == 0) return 0;
    try {
        std::lock_guard<std::mutex> lock(t->mutex);
        t->expire(now);
        auto it = t->when.find(std::string(uuid, len));
        return it != t->when.end() && now - it->second < t->ttl;
    } catch (...) {
        return 0;
    }
}

}  // extern "C"
