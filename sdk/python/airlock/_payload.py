"""What the package accepts as a payload, for hosts and workers alike."""


def as_bytes(data):
    """bytes as they are, str as UTF-8, None as empty, and any buffer copied to bytes."""
    if data is None:
        return b""
    if isinstance(data, str):
        return data.encode()
    return bytes(data)
