"""Rate limits count an asker as its IPv4 address or its IPv6 /64: a machine given a /64 has millions of addresses."""

import pytest

from portal.web import requester


@pytest.mark.parametrize(("remote", "counted"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),  # an IPv4 client of a dual-stack socket
    ("", ""),
    ("not-an-address", "not-an-address"),
])
def test_an_asker_is_its_ipv4_address_or_its_ipv6_64(app, remote, counted):
    with app.test_request_context(environ_base={"REMOTE_ADDR": remote}):
        assert requester() == counted
