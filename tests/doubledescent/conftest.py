"""Every double-descent test runs with the network cut off: opening or connecting any socket fails."""

import socket

import pytest


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Data sets must be generated or shipped locally; a socket open anywhere fails the test."""

    def refuse(*args, **kwargs):
        raise NetworkBlocked("network access attempted during a double-descent test")

    class BlockedSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse()

    monkeypatch.setattr(socket, "socket", BlockedSocket)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse, raising=False)
    yield
