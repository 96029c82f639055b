// The policy (overlay/core/policy.h): the attribute classification and the decisions,
// against invariants that must hold for any input:
//  - options never change what an attribute is, and names are case-insensitive;
//  - replication and the overlay's own writes are never refused;
//  - nobody but the server writes a stored hash or telemetry, and the rootdn writes a
//    hash only in the stored syntax;
//  - the mailbox itself, however authenticated or acted as, never sets a credential of
//    the mailbox, never manages a device, never suspends;
//  - who may not see devices gets 50 for anything aimed at a device DN.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "devicepw_core.h"
#include "fuzz_check.h"
#include "policy.h"

namespace {

struct Reader {
    const uint8_t *p;
    size_t n;
    uint8_t byte() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::string str(size_t max) {
        size_t len = byte() % (max + 1);
        if (len > n) len = n;
        std::string s(reinterpret_cast<const char *>(p), len);
        p += len;
        n -= len;
        return s;
    }
};

bool is_server(dpw_actor a) {
    return a == DPW_ACTOR_ROOT || a == DPW_ACTOR_REPLICATION || a == DPW_ACTOR_INTERNAL;
}
bool is_mailbox(dpw_actor a) {
    return a == DPW_ACTOR_MAILBOX_PRIMARY || a == DPW_ACTOR_MAILBOX_DEVICE || a == DPW_ACTOR_MAILBOX_PROXIED;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Reader r{data, size};
    // ---- classification ----
    const std::string desc = r.str(48);
    const dpw_attr_class c = dpw_attr_classify(desc.data(), desc.size());
    FUZZ_CHECK(c >= 0 && c < DPW_ATTR_COUNT);
    if (desc.find(';') == std::string::npos) {
        const std::string with_option = desc + ";x-" + r.str(8);
        FUZZ_CHECK(dpw_attr_classify(with_option.data(), with_option.size()) == c);
        std::string upper = desc;
        for (char &ch : upper)
            if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
        FUZZ_CHECK(dpw_attr_classify(upper.data(), upper.size()) == c);
    }

    // ---- decisions ----
    const dpw_actor actor = static_cast<dpw_actor>(r.byte() % DPW_ACTOR_COUNT);
    const dpw_place place = static_cast<dpw_place>(r.byte() % 3);
    const dpw_operation op = static_cast<dpw_operation>(r.byte() % DPW_OP_COUNT);
    const dpw_decision g = dpw_policy_gate(actor, op, place);
    if (place != DPW_PLACE_PLAIN && !dpw_policy_may_see_devices(actor) && !is_server(actor) &&
        actor != DPW_ACTOR_ADMIN)
        FUZZ_CHECK(g.code == DPW_R_INSUFFICIENT);
    if (is_server(actor) || place == DPW_PLACE_PLAIN) FUZZ_CHECK(g.code == DPW_R_ALLOW);
    if (is_mailbox(actor) && place != DPW_PLACE_PLAIN && op != DPW_OP_READ) FUZZ_CHECK(g.code == DPW_R_INSUFFICIENT);

    // a few modifications with values from the input
    std::vector<std::string> store;
    store.reserve(16);
    std::vector<dpw_value> vals;
    vals.reserve(16);
    std::vector<dpw_mod> mods;
    const size_t nmods = r.byte() % 5;
    for (size_t i = 0; i < nmods; ++i) {
        dpw_mod m{};
        m.cls = static_cast<dpw_attr_class>(r.byte() % DPW_ATTR_COUNT);
        m.kind = static_cast<dpw_mod_kind>(r.byte() % 3);
        const size_t nv = r.byte() % 3;
        const size_t first = vals.size();
        for (size_t k = 0; k < nv && store.size() < 16; ++k) {
            store.push_back(r.str(40));
            vals.push_back({store.back().data(), store.back().size()});
        }
        m.values = vals.size() > first ? &vals[first] : nullptr;
        m.nvalues = vals.size() - first;
        m.server_internal = r.byte() & 1;
        mods.push_back(m);
    }
    dpw_target t{};
    t.place = place;
    t.exists = 1;
    t.is_device = place == DPW_PLACE_DEVICE ? 1 : 0;
    t.is_mailbox = place == DPW_PLACE_PLAIN ? r.byte() & 1 : 0;
    t.device_revoked = r.byte() & 1;
    t.device_owned = r.byte() & 1;
    t.mailbox_has_devices = r.byte() & 1;
    t.primary_allowed = r.byte() & 1;
    const dpw_modify_outcome o = dpw_policy_modify(actor, &t, mods.data(), mods.size());
    if (actor == DPW_ACTOR_REPLICATION || actor == DPW_ACTOR_INTERNAL) FUZZ_CHECK(o.decision.code == DPW_R_ALLOW);
    for (const dpw_mod &m : mods) {
        if (o.decision.code != DPW_R_ALLOW) break;
        if (m.cls == DPW_ATTR_SECRET) {
            FUZZ_CHECK(is_server(actor));
            if (actor == DPW_ACTOR_ROOT)
                for (size_t k = 0; k < m.nvalues; ++k) FUZZ_CHECK(dpw_stored_valid(m.values[k].val, m.values[k].len));
        }
        if (m.cls == DPW_ATTR_TELEMETRY) FUZZ_CHECK(actor == DPW_ACTOR_REPLICATION || actor == DPW_ACTOR_INTERNAL);
        if (m.cls == DPW_ATTR_CREDENTIAL && t.is_mailbox)
            FUZZ_CHECK(!(is_mailbox(actor) && actor != DPW_ACTOR_MAILBOX_PRIMARY));
        if (m.cls == DPW_ATTR_SUSPENDED) FUZZ_CHECK(!is_mailbox(actor) && actor != DPW_ACTOR_PERSON);
        if (m.cls == DPW_ATTR_USERS) FUZZ_CHECK(is_server(actor) || actor == DPW_ACTOR_ADMIN);
        if (m.cls == DPW_ATTR_REVOKED && t.is_device && t.device_revoked && !is_server(actor) &&
            !(m.kind != DPW_MOD_DELETE && m.nvalues && m.values[0].len == 4 &&
              std::memcmp(m.values[0].val, "TRUE", 4) == 0))
            FUZZ_CHECK(false);  // revocation is final for clients
    }
    if (t.is_device && is_mailbox(actor)) FUZZ_CHECK(o.decision.code != DPW_R_ALLOW);
    if (o.decision.code != DPW_R_ALLOW) FUZZ_CHECK(o.decision.text != nullptr);
    return 0;
}
