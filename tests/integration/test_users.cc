// Mailbox users (devicepwUser): who may change them, and what they may do with the
// mailbox's devices.
#include "test_util.h"

using namespace dpwtest;

namespace {

SlapdOptions managed_options() {
    SlapdOptions o;
    o.acl = {"access to * by * manage"};
    o.overlay_directives = {"devicepw-admin " + demo::carol, "devicepw-admin " + demo::devadmins};
    return o;
}

AddAttrs device_attrs(const std::string &id, const std::string &label = "Phone") {
    return {{"objectClass", {"devicepwDevice"}}, {"devicepwId", {id}}, {"devicepwLabel", {label}}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(users)

// DESIGN.md: a mailbox's users (devicepwUser) "may use the mailbox in the provider's own
// apps and manage its device passwords"; administrators manage every mailbox's devices
// and users; a connection bound with a device password can never create, rotate or
// revoke devices, nor change the mailbox's users.
BOOST_AUTO_TEST_CASE(mailbox_users_may_not_be_changed_by_the_mailbox_or_strangers) {
    Dpw d(managed_options());
    d.add_device("k3x9");
    const std::string secret = d.gen_secret("k3x9");
    REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_add("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    auto alice = d.slapd.conn_as(demo::alice, secret);
    CHECK_RC(alice->modify(demo::alice, {mod_add("devicepwUser", {demo::erin})}), LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(alice->modify(demo::alice, {mod_delete("devicepwUser", {demo::bob})}), LDAP_INSUFFICIENT_ACCESS);
    auto erin = d.slapd.conn_as(demo::erin, demo::erinpw);
    CHECK_RC(erin->modify(demo::alice, {mod_add("devicepwUser", {demo::erin})}), LDAP_INSUFFICIENT_ACCESS);
    BOOST_TEST(d.slapd.root()->read(demo::alice, {"devicepwUser"})->values("devicepwUser").size() == 1u);
    // an administrator may
    auto carol = d.slapd.conn_as(demo::carol, demo::carolpw);
    CHECK_RC(carol->modify(demo::alice, {mod_add("devicepwUser", {demo::erin})}), LDAP_SUCCESS);
}

BOOST_AUTO_TEST_CASE(mailbox_users_manage_their_mailbox_devices) {
    Dpw d(managed_options());
    REQUIRE_RC(d.slapd.root()->modify(demo::alice, {mod_add("devicepwUser", {demo::bob})}), LDAP_SUCCESS);
    d.add_device("m2", "Mac", demo::frank);
    auto bob = d.slapd.conn_as(demo::bob, demo::bobpw);
    // alice's user creates a device of alice's; it is his (devicepwOwner defaults to the creator) ...
    REQUIRE_RC(bob->add(demo::device_dn("p8w2"), device_attrs("p8w2")), LDAP_SUCCESS);
    BOOST_TEST(lower(d.read_attr(demo::device_dn("p8w2"), "devicepwOwner")) == lower(demo::bob));
    // ... he generates and rotates its secret ...
    const std::string s1 = Dpw::gen_secret_with(*bob, "p8w2");
    CHECK_RC(d.bind(demo::alice, s1), LDAP_SUCCESS);
    const std::string s2 = Dpw::gen_secret_with(*bob, "p8w2");
    CHECK_RC(d.bind(demo::alice, s1), LDAP_INVALID_CREDENTIALS);
    CHECK_RC(d.bind(demo::alice, s2), LDAP_SUCCESS);
    // ... relabels and revokes it
    CHECK_RC(bob->modify(demo::device_dn("p8w2"), {mod_replace("devicepwLabel", {"Work phone"})}), LDAP_SUCCESS);
    CHECK_RC(bob->modify(demo::device_dn("p8w2"), {mod_replace("devicepwRevoked", {"TRUE"})}), LDAP_SUCCESS);
    CHECK_RC(d.bind(demo::alice, s2), LDAP_INVALID_CREDENTIALS);
    // nothing of frank's, whose user he is not
    CHECK_RC(bob->add(demo::device_dn("k3x9", demo::frank), device_attrs("k3x9")), LDAP_INSUFFICIENT_ACCESS);
    BOOST_TEST(bob->passwd(demo::device_dn("m2", demo::frank)).res.rc == LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->modify(demo::device_dn("m2", demo::frank), {mod_replace("devicepwRevoked", {"TRUE"})}),
             LDAP_INSUFFICIENT_ACCESS);
    CHECK_RC(bob->del(demo::device_dn("m2", demo::frank)), LDAP_INSUFFICIENT_ACCESS);
    // and the mailbox itself (by device secret) still cannot, although bob could
    auto alice_dev = d.add_device("k3x9");
    (void)alice_dev;
    const std::string ks = d.gen_secret("k3x9");
    auto alice = d.slapd.conn_as(demo::alice, ks);
    CHECK_RC(alice->add(demo::device_dn("z9"), device_attrs("z9")), LDAP_INSUFFICIENT_ACCESS);
    BOOST_TEST(alice->passwd(demo::device_dn("k3x9")).res.rc == LDAP_INSUFFICIENT_ACCESS);
}

BOOST_AUTO_TEST_SUITE_END()
