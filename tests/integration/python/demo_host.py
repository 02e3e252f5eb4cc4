"""The demo's calls (scripts/demo) from a Python host (PythonDemoTest): the shipped thumbnailer and
extractor units, each answer or refusal printed as the C++ host's side of the test prints it.

    python3 demo_host.py SOCKET KEY BROKER_PUB IMAGES INBOX OUT
"""

import sys

import airlock

socket, key, broker_pub, images, inbox, out = sys.argv[1:7]

CALLS = [
    ("thumbnail", "thumbnailer", "thumbnail", f"{images}/sunset.png"),
    ("leave-images", "thumbnailer", "thumbnail", f"{images}/../../etc/passwd"),
    ("planted-symlink", "thumbnailer", "thumbnail", f"{images}/evil.png"),
    ("corrupt", "thumbnailer", "thumbnail", f"{images}/truncated.png"),
    ("open-directly", "thumbnailer", "open-directly", "/etc/passwd"),
    ("not-granted", "thumbnailer", "resize", f"{images}/sunset.png"),
    ("dotdot", "extractor", "extract", f"{inbox}/dotdot.tar\n{out}"),
    ("absolute", "extractor", "extract", f"{inbox}/absolute.tar\n{out}"),
    ("no-unit", "nope", "thumbnail", ""),
]

classes = []
with airlock.connect(socket, key=key, broker_key=broker_pub) as broker:
    for label, unit, method, payload in CALLS:
        try:
            answer = broker.unit(unit).call(method, payload)
            print(f"{label}: ok rule= {answer.decode()}")
        except airlock.Error as error:
            print(f"{label}: {error.kind} rule={error.rule} {error.message}")
            classes.append(type(error).__name__)
print("classes: " + ",".join(classes))
