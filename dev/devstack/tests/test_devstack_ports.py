import socket

import pytest

from kugelpos.devstack.ports import PortInUseError, ensure_free, free_ports, port_in_use


def test_free_ports_are_distinct_and_bindable():
    chosen = free_ports(8)
    assert len(set(chosen)) == 8
    assert not any(port_in_use(port) for port in chosen)


def test_listening_port_is_reported_in_use():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_in_use(port)
        with pytest.raises(PortInUseError, match=rf"redis on {port}"):
            ensure_free({"redis": port, "mongo": free_ports(1)[0]})


def test_ensure_free_accepts_free_ports():
    ensure_free(dict(zip(["a", "b"], free_ports(2), strict=True)))
