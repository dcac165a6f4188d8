"""The real client and the fake both implement wp_bridge.interface.WordPress, and nothing more.

test_fake_contract.py runs every behaviour against both; this file checks the shape: the Protocol's
methods, with the same parameters and types, on both classes, each defined by the class itself.
"""

from __future__ import annotations

import inspect

import pytest

from sidecar.core.container import Services
from wp_bridge.client import WordPressClient
from wp_bridge.fake import FakeWordPress, FakeWordPressClient
from wp_bridge.interface import WordPress

IMPLEMENTATIONS = [WordPressClient, FakeWordPressClient]


def protocol_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member, eval_str=True)
        for name, member in vars(WordPress).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_interface_names_the_documented_methods() -> None:
    assert set(protocol_methods()) == {
        "ping", "find_user_by_email", "get_user", "create_user", "get_group", "book_session",
        "find_booking", "list_bookings", "join_group", "is_group_member", "list_group_members",
        "send_email", "login_url", "rest_index", "cancel_booking", "leave_group",
    }  # fmt: skip


@pytest.mark.parametrize("cls", IMPLEMENTATIONS, ids=lambda cls: cls.__name__)
def test_interface_methods_have_the_same_signature_on(cls: type) -> None:
    for name, expected in protocol_methods().items():
        # Defined by the class itself, not the Protocol's empty body inherited.
        assert name in vars(cls), name
        assert inspect.signature(getattr(cls, name), eval_str=True) == expected, name


@pytest.mark.parametrize("cls", IMPLEMENTATIONS, ids=lambda cls: cls.__name__)
def test_interface_is_the_whole_public_surface_of(cls: type) -> None:
    assert public_methods(cls) == set(protocol_methods())


def test_interface_isinstance_holds_for_both_clients() -> None:
    real = WordPressClient("http://wp.test", "admin", "app password")
    fake = FakeWordPressClient(FakeWordPress())
    assert isinstance(real, WordPress)
    assert isinstance(fake, WordPress)
    assert not isinstance(object(), WordPress)


def test_interface_is_what_the_container_holds() -> None:
    assert inspect.get_annotations(Services, eval_str=True)["wordpress"] is WordPress
