"""Where a webhook may go: public addresses only, unless the operator allows more."""

import ipaddress

import pytest

from services.webhooks.addresses import AddressPolicy, AddressRefused, is_public

PUBLIC = ["8.8.8.8", "203.0.114.1", "1.1.1.1", "2001:4860:4860::8888", "2606:4700::1111"]
REFUSED = [
    "127.0.0.1",  # loopback
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",  # private
    "100.64.0.1",  # CGNAT
    "100.100.100.200",  # a cloud's metadata address (CGNAT)
    "169.254.169.254",  # the usual metadata address (link-local)
    "192.0.0.192",  # a cloud's metadata address (IETF assignments)
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "198.18.0.1",
    "192.0.2.1",  # documentation
    "::1",
    "::",
    "fe80::1",  # link-local
    "fd00:ec2::254",  # unique-local: a cloud's IPv6 metadata address
    "fc00::1",
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 wrapping 169.254.169.254
    "64:ff9b::a9fe:a9fe",  # NAT64 wrapping 169.254.169.254
    "2001::1",  # Teredo
    "2001:db8::1",  # documentation
    "::127.0.0.1",  # IPv4-compatible (deprecated)
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_may_be_reached(address):
    assert is_public(ipaddress.ip_address(address))
    AddressPolicy().check_address("partner.example.vn", address)


@pytest.mark.parametrize("address", REFUSED)
def test_internal_metadata_and_special_addresses_are_refused(address):
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(AddressRefused) as refused:
        AddressPolicy().check_address("partner.example.vn", address)
    assert refused.value.reason == "non-public-address"


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://partner.example.vn/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://partner.example.vn/", "scheme"),
        ("https://user:pw@partner.example.vn/hook", "credentials"),
        ("http://127.0.0.1:8081/members", "non-public-address"),
        ("http://[::1]/", "non-public-address"),
        ("http://[::ffff:10.0.0.1]/", "non-public-address"),
        ("http://169.254.169.254/latest/meta-data/", "non-public-address"),
        ("http://2130706433/", "not-an-address"),  # 127.0.0.1 as one number
        ("http://0x7f.1/", "not-an-address"),
        ("http://127.1/", "not-an-address"),
        ("https:///no-host", "no-host"),
        ("https://partner.example.vn:99999/", "malformed"),
        ("https://partner.example.vn/a b", "malformed"),
        ("https://partner.example.vn/#frag", "malformed"),
        ("https://partner.example.vn/" + "a" * 2100, "too-long"),
    ],
)
def test_urls_that_cannot_be_webhook_targets(url, reason):
    with pytest.raises(AddressRefused) as refused:
        AddressPolicy().check_url(url)
    assert refused.value.reason == reason


def test_host_names_pass_the_url_check_and_are_judged_when_resolved():
    assert AddressPolicy().check_url("https://hooks.partner.example.vn:8443/lienhiep?x=1") == "hooks.partner.example.vn"
    assert AddressPolicy().check_url("https://8.8.8.8/hook") == "8.8.8.8"
    with pytest.raises(AddressRefused):
        AddressPolicy().check_address("localhost", "127.0.0.1")  # a name resolving inside is refused too


def test_the_operator_may_allow_ranges_and_hosts_for_tests_and_make_run():
    policy = AddressPolicy.from_setting(" 127.0.0.0/8, ::1 , receiver.test ")
    policy.check_url("http://127.0.0.1:9000/hook")
    policy.check_address("anything", "::1")
    policy.check_address("receiver.test", "10.0.0.5")  # an allowed name, whatever it resolves to
    with pytest.raises(AddressRefused):
        policy.check_address("anything", "10.0.0.5")
    assert AddressPolicy.from_setting("") == AddressPolicy()
    with pytest.raises(ValueError):
        AddressPolicy.from_setting("10.0.0.0/99")
