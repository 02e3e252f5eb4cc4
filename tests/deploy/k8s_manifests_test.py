#!/usr/bin/python3
"""deploy/k8s/ checked against the airlockd and airlock it deploys, then run on this machine.

    k8s_manifests_test.py SOURCE_DIR BIN_DIR

Static checks: every manifest parses; the pod's airlockd is a native sidecar with a startup
probe, resource requests and Localhost seccomp and AppArmor profiles that are shipped; every
--flag of every command line is one `--help` of that program lists; the socket, policy, key,
audit and image paths line up across containers through the volumes they mount; the policy
ConfigMap holds policies/'s files byte for byte; Fluent Bit reads the audit path airlockd writes;
the AppArmor profile compiles (apparmor_parser -Q); airlockd's --metrics port is its container's
`metrics` port, and a non-loopback --metrics is admitted by a NetworkPolicy only from Prometheus
in the monitoring namespace, only on that port.

Then the pod, in a temporary directory: each volume a directory (ConfigMaps and Secrets laid
out as kubelet lays them out: files as symlinks through `..data`), each container's command
line run with its paths mapped onto those directories and its binaries onto BIN_DIR. airlockd
runs with only the capabilities its securityContext adds and no_new_privs (every container
runs as its securityContext says: uid, groups, capabilities); the app starts
once the startup probe succeeds; a `tail -F` shipper reads the audit log; the policy ConfigMap
is swapped (as kubelet swaps it) to one that refuses the app's method, which is then refused,
and back; a scrape of the metrics endpoint counts exactly the calls the audit log holds; after
SIGTERM the shipped copy is the whole log and verifies.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

SOURCE, BIN = sys.argv[1], sys.argv[2]
K8S = os.path.join(SOURCE, "deploy", "k8s")
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return condition


def fatal(what):
    print("FAIL: " + what, flush=True)
    sys.exit(1)


# ---- the manifests -------------------------------------------------------------------------

documents = []
for name in sorted(os.listdir(K8S)):
    if name.endswith(".yaml"):
        with open(os.path.join(K8S, name)) as f:
            documents += [d for d in yaml.safe_load_all(f) if d is not None]
by_kind = {}
for d in documents:
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
config_maps = by_kind.get("ConfigMap", {})
workloads = [d for d in documents if d["kind"] in ("Job", "Deployment", "StatefulSet")]
if len(workloads) != 1:
    fatal("expected one workload in deploy/k8s, found %d" % len(workloads))
pod = workloads[0]["spec"]["template"]["spec"]
volumes = {v["name"]: v for v in pod["volumes"]}
init = pod.get("initContainers", [])
containers = {c["name"]: c for c in init + pod["containers"]}
airlockd = containers.get("airlockd") or fatal("no airlockd container")
app = pod["containers"][0]
shipper = containers.get("fluent-bit") or fatal("no fluent-bit container")


def argument(command, flag):
    """The value after `flag` in a command line (None if absent)."""
    for i, word in enumerate(command[:-1]):
        if word == flag:
            return command[i + 1]
    return None


def program_help(path):
    """`PROGRAM --help` of the built binary the image path names (usage on stderr for some)."""
    local = os.path.join(BIN, os.path.basename(path))
    run = subprocess.run([local, "--help"], capture_output=True, text=True, timeout=30)
    return run.stdout + run.stderr


def flags_of(command):
    return [w for w in command if w.startswith("--")]


# airlockd is a native sidecar, probed, with requests and the profiles this directory ships.
check(airlockd in init and airlockd.get("restartPolicy") == "Always",
      "airlockd is an initContainers entry with restartPolicy: Always")
check(shipper.get("restartPolicy") == "Always", "fluent-bit is a native sidecar too")
check(shipper in init and init.index(shipper) < init.index(airlockd),
      "fluent-bit comes before airlockd: sidecars stop in reverse order, so it ships the last records")
probe = airlockd.get("startupProbe", {}).get("exec", {}).get("command")
check(probe is not None, "airlockd has an exec startupProbe")
check(init.index(airlockd) < len(init) and pod["containers"],
      "the application is an ordinary container, started after the sidecars' startup probes")
for c in containers.values():
    if c in pod["containers"] or c.get("restartPolicy") == "Always":  # what runs all along
        check("requests" in c.get("resources", {}), "%s has resource requests" % c["name"])
security = airlockd["securityContext"]
seccomp = security.get("seccompProfile", {})
check(seccomp.get("type") == "Localhost", "airlockd's seccomp profile is Localhost")
profile_path = os.path.join(K8S, "seccomp", os.path.basename(seccomp.get("localhostProfile", "")))
if check(os.path.isfile(profile_path), "the seccomp profile %s is shipped" % profile_path):
    with open(profile_path) as f:
        profile = json.load(f)
    check(profile["defaultAction"] == "SCMP_ACT_ERRNO", "the seccomp profile denies by default")
    allowed = {n for s in profile["syscalls"] if s["action"] == "SCMP_ACT_ALLOW" for n in s["names"]}
    for needed in ("clone3", "pivot_root", "fsopen", "move_mount", "open_tree",
                   "mount_setattr", "seccomp", "landlock_restrict_self", "pidfd_send_signal"):
        # Not while the run is traced to derive a new profile (AIRLOCK_K8S_STRACE, below).
        check(needed in allowed or os.environ.get("AIRLOCK_K8S_STRACE"),
              "the seccomp profile allows %s" % needed)
apparmor = security.get("appArmorProfile", {})
check(apparmor.get("type") == "Localhost" and
      os.path.isfile(os.path.join(K8S, "apparmor", apparmor.get("localhostProfile", ""))),
      "airlockd's AppArmor profile is Localhost and shipped in deploy/k8s/apparmor/")

aa = os.path.join(K8S, "apparmor", apparmor.get("localhostProfile", "airlockd"))
# Compiled, not loaded (-Q): the profile's syntax and rules, whatever the kernel enables.
parsed = subprocess.run(["apparmor_parser", "-Q", "-K", aa], capture_output=True, text=True)
check(parsed.returncode == 0, "apparmor_parser -Q accepts %s: %s" % (aa, parsed.stderr))

# Every flag of every command line is one the program's --help lists.
commands = {c["name"]: c["command"] for c in containers.values()}
commands["airlockd startupProbe"] = probe
for name, command in commands.items():
    program = command[0]
    if not program.startswith("/usr/bin/") or not os.path.exists(
            os.path.join(BIN, os.path.basename(program))):
        continue  # Fluent Bit, coreutils: not ours
    helptext = program_help(program) if program != "/usr/bin/airlock" else subprocess.run(
        [os.path.join(BIN, "airlock"), command[1], "--help"], capture_output=True, text=True,
        timeout=30).stdout
    for flag in flags_of(command):
        check(re.search(r"(^|[\s\[|])" + re.escape(flag) + r"\b", helptext) is not None,
              "%s: %s is in `%s --help`" % (name, flag, os.path.basename(program)))


def mount_for(container, path):
    """The mount a container sees `path` through: (mount, path inside the volume)."""
    best = None
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"]
        if path == mp or path.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) > len(best["mountPath"]):
                best = m
    if best is None:
        return None, None
    rest = os.path.relpath(path, best["mountPath"]) if path != best["mountPath"] else ""
    inside = os.path.normpath(os.path.join(best.get("subPath", ""), rest)) if (
        best.get("subPath") or rest) else ""
    return best, inside


def same_file(a, path_a, b, path_b):
    ma, ia = mount_for(a, path_a)
    mb, ib = mount_for(b, path_b)
    return ma is not None and mb is not None and ma["name"] == mb["name"] and ia == ib


acmd = airlockd["command"]
socket = argument(acmd, "--socket")
check(same_file(airlockd, socket, app, argument(app["command"], "--socket")),
      "the app's --socket is airlockd's, on a volume both mount")
check(volumes[mount_for(airlockd, socket)[0]["name"]].get("emptyDir") is not None,
      "the socket's volume is an emptyDir")
check(same_file(airlockd, socket, airlockd, argument(probe, "--socket")),
      "the probe asks airlockd's socket")
policies_mount, _ = mount_for(airlockd, argument(acmd, "--policies"))
policies_volume = volumes[policies_mount["name"]] if policies_mount else {}
check("configMap" in policies_volume, "--policies is a ConfigMap volume")
policies_cm = config_maps.get(policies_volume.get("configMap", {}).get("name"), {})
check(policies_cm, "the policies ConfigMap is in deploy/k8s")
for key in policies_cm.get("data", {}):
    check(any(i["key"] == key for i in policies_volume["configMap"].get("items", [])),
          "the policies volume projects %s" % key)
for item in policies_volume.get("configMap", {}).get("items", []):
    source = os.path.join(SOURCE, "policies", item["path"])
    if os.path.exists(source):
        with open(source) as f:
            check(policies_cm["data"][item["key"]] == f.read(),
                  "the ConfigMap's %s is policies/%s byte for byte" % (item["key"], item["path"]))
keys_mount, _ = mount_for(airlockd, argument(acmd, "--client-keys"))
check(keys_mount and "secret" in volumes[keys_mount["name"]], "--client-keys is a Secret volume")
for who, command, flag in ((airlockd, acmd, "--key"), (airlockd, probe, "--key")):
    m, _ = mount_for(who, argument(command, flag))
    check(m and "secret" in volumes[m["name"]] and m.get("subPath"),
          "%s %s is a single file (subPath) from a Secret: keys are opened with O_NOFOLLOW"
          % (who["name"], flag))
# The app's key: copied out of its Secret by an init container that makes it the app's own.
app_key = argument(app["command"], "--key")
copier = [c for c in init if c.get("restartPolicy") != "Always" and
          any(same_file(c, w, app, app_key) for w in c["command"] if w.startswith("/"))]
check(len(copier) == 1, "an init container writes the app's --key %s" % app_key)
if copier:
    owner = argument(copier[0]["command"], "-o")
    check(owner == str(app["securityContext"]["runAsUser"]),
          "the app's key is made the app's uid's (%s)" % owner)
check(airlockd["securityContext"]["runAsUser"] != app["securityContext"]["runAsUser"],
      "the app runs as another uid than airlockd (they share a PID namespace)")
check(pod.get("shareProcessNamespace") is True,
      "one PID namespace: the handshake checks the client's pid as airlockd sees it")
check(int(argument(acmd, "--socket-group")) in pod.get("securityContext", {}).get(
    "supplementalGroups", []), "the app is in the socket's group")
check(same_file(airlockd, argument(probe, "--broker-key"), app,
                argument(app["command"], "--broker-key")),
      "the probe and the app pin the same broker.pub")
audit = argument(acmd, "--audit")
fluent_cm = config_maps.get(
    volumes[mount_for(shipper, "/fluent-bit/etc")[0]["name"]]["configMap"]["name"], {})
conf = fluent_cm.get("data", {}).get("fluent-bit.conf", "")
tail_path = re.search(r"^\s*path\s+(\S+)", conf, re.M)
check(tail_path and same_file(airlockd, audit, shipper, tail_path.group(1)),
      "Fluent Bit tails the file airlockd --audit writes, on a volume both mount")
db = re.search(r"^\s*db\s+(\S+)", conf, re.M)
check(db and mount_for(shipper, db.group(1))[0] is not None,
      "Fluent Bit's offsets database is on a volume")

# Metrics: served on the pod's IP, so reachable from the pod network; a NetworkPolicy admits only
# Prometheus from the monitoring namespace, only on the metrics port.
metrics = argument(acmd, "--metrics")
check(metrics is not None and not metrics.startswith("/"), "airlockd serves --metrics on TCP")
metrics_host, _, metrics_port = (metrics or ":").rpartition(":")
env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
       for e in airlockd.get("env", [])}
check(metrics_host == "$(POD_IP)" and env.get("POD_IP") == "status.podIP",
      "--metrics listens on the pod IP ($(POD_IP) from status.podIP), not on every address")
check("--metrics-allow-remote" in acmd, "--metrics-allow-remote: the pod IP is not loopback")
ports = {p.get("name"): p for p in airlockd.get("ports", [])}
check(str(ports.get("metrics", {}).get("containerPort")) == metrics_port,
      "airlockd's container port `metrics` is --metrics's port %s" % metrics_port)
annotations = workloads[0]["spec"]["template"]["metadata"].get("annotations", {})
check(annotations.get("prometheus.io/port") == metrics_port and
      annotations.get("prometheus.io/path") == "/metrics", "the scrape annotations name the port")
labels = workloads[0]["spec"]["template"]["metadata"]["labels"]
selecting = [n for n in by_kind.get("NetworkPolicy", {}).values()
             if n["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
             and "Ingress" in n["spec"].get("policyTypes", [])]
check(len(selecting) == 1, "one ingress NetworkPolicy selects the pod")
for policy in selecting:
    for rule in policy["spec"].get("ingress", []):
        check([(p.get("protocol"), str(p.get("port"))) for p in rule.get("ports", [])] ==
              [("TCP", metrics_port)], "%s admits the metrics port and nothing else"
              % policy["metadata"]["name"])
        peers = rule.get("from", [])
        # A rule without `from` or a peer with one selector would admit a whole namespace or
        # every namespace's Prometheus-labelled pods; an ipBlock, any address.
        check(peers and all(set(peer) == {"namespaceSelector", "podSelector"} and
                            peer["namespaceSelector"].get("matchLabels") ==
                            {"kubernetes.io/metadata.name": "monitoring"}
                            for peer in peers),
              "%s admits only pods of the monitoring namespace" % policy["metadata"]["name"])

images = argument(acmd, "--define").split("=", 1)[1]
for path in app["command"]:
    if path.startswith(images + "/"):
        check(same_file(app, path, airlockd, path), "%s is the file airlockd sees" % path)

if failures:
    sys.exit(1)

# ---- the pod on this machine ---------------------------------------------------------------

work = tempfile.mkdtemp(prefix="airlock-k8s.")
os.chmod(work, 0o755)
processes = []


def cleanup():
    for p in processes:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(work, ignore_errors=True)


class Projected:
    """A ConfigMap or Secret volume as kubelet keeps it: NAME -> ..data/NAME, ..data -> ..TS."""

    def __init__(self, path, mode):
        self.path, self.mode, self.generation = path, mode, 0
        os.makedirs(path)

    def publish(self, files):
        self.generation += 1
        ts = "..2026_01_01_00_00_%02d.%09d" % (self.generation, os.getpid())
        for rel, content in files.items():
            target = os.path.join(self.path, ts, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write(content)
            os.chmod(target, self.mode)
        tmp = os.path.join(self.path, "..data_tmp")
        os.symlink(ts, tmp)
        os.rename(tmp, os.path.join(self.path, "..data"))  # the swap: one rename(2)
        for rel in files:
            top = rel.split("/")[0]
            if not os.path.lexists(os.path.join(self.path, top)):
                os.symlink(os.path.join("..data", top), os.path.join(self.path, top))
        for entry in os.listdir(self.path):
            if entry.startswith("..") and entry not in ("..data", ts):
                shutil.rmtree(os.path.join(self.path, entry))


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kwargs)


try:
    # Keys, made as docs/deploy.md says, then put where the Secrets would hold them.
    keys = os.path.join(work, "keys")
    os.makedirs(keys)
    for args in (["--out", keys + "/broker"], ["--client", "web", "--out", keys],
                 ["--client", "probe", "--out", keys]):
        made = run([os.path.join(BIN, "airlock"), "keygen"] + args)
        check(made.returncode == 0, "airlock keygen " + " ".join(args) + ": " + made.stderr)

    def read(path):
        with open(path) as f:
            return f.read()

    secrets = {
        "airlock-client-keys": {"web.pub": read(keys + "/web.pub"),
                                "probe.pub": read(keys + "/probe.pub")},
        "airlock-broker-key": {"broker.key": read(keys + "/broker.key")},
        "airlock-probe-key": {"probe.key": read(keys + "/probe.key")},
        "thumbnailer-web-key": {"web.key": read(keys + "/web.key")},
    }
    config_data = {name: dict(cm["data"]) for name, cm in config_maps.items()}
    config_data["airlock-broker-pub"] = {"broker.pub": read(keys + "/broker.pub")}

    volume_dirs, projected = {}, {}
    for name, volume in volumes.items():
        path = os.path.join(work, "volumes", name)
        volume_dirs[name] = path
        if "emptyDir" in volume:
            os.makedirs(path)
            os.chmod(path, 0o777)
            continue
        kind = "configMap" if "configMap" in volume else "secret"
        source = volume[kind].get("name") or volume[kind].get("secretName")
        data = config_data[source] if kind == "configMap" else secrets[source]
        items = volume[kind].get("items")
        files = {i["path"]: data[i["key"]] for i in items} if items else dict(data)
        projected[name] = (Projected(path, volume[kind].get("defaultMode", 0o644)), files)
        projected[name][0].publish(files)

    def host_path(container, path):
        m, inside = mount_for(container, path)
        if m is None:
            return path
        mapped = os.path.join(volume_dirs[m["name"]], inside) if inside else volume_dirs[m["name"]]
        # kubelet bind-mounts a subPath's target itself, not the volume's symlink to it.
        return os.path.realpath(mapped) if m.get("subPath") else mapped

    def local(container, command):
        """The command line with image paths mapped onto volume directories and the build."""
        out = []
        for word in command:
            if word.startswith("/usr/bin/") and os.path.exists(
                    os.path.join(BIN, os.path.basename(word))):
                out.append(os.path.join(BIN, os.path.basename(word)))
            elif word.startswith("/usr/bin/"):
                out.append(word)  # the image's coreutils: this machine's
            elif word == "/usr/lib/airlock/workers":
                out.append(BIN)  # the build puts the workers beside airlockd
            elif "=" in word and word.split("=", 1)[1].startswith("/"):
                key, value = word.split("=", 1)
                out.append(key + "=" + host_path(container, value))
            elif word.startswith("/"):
                out.append(host_path(container, word))
            else:
                out.append(word)
        return out

    # subPath key files: a bind mount of the file itself (host_path resolves to it).
    for c in containers.values():
        for m in c.get("volumeMounts", []):
            if m.get("subPath"):
                real = os.path.realpath(os.path.join(volume_dirs[m["name"]], m["subPath"]))
                os.chmod(real, 0o400)

    def confined(container):
        """setpriv as the container's securityContext: its uid, gid and groups, only the
        capabilities it adds, no_new_privs."""
        sc = container.get("securityContext", {})
        caps = ",".join("+" + c.lower() for c in sc.get("capabilities", {}).get("add", []))
        out = ["setpriv", "--bounding-set=-all" + ("," + caps if caps else ""), "--inh-caps=-all"]
        uid = sc.get("runAsUser", 0)
        groups = pod.get("securityContext", {}).get("supplementalGroups", [])
        if uid != 0:
            out += ["--reuid", str(uid), "--regid", str(sc.get("runAsGroup", uid))]
            out += ["--groups", ",".join(map(str, groups))] if groups else ["--clear-groups"]
        if sc.get("allowPrivilegeEscalation") is False:
            out.append("--no-new-privs")
        return out + ["--"]

    # The ordinary init containers, in order, before the sidecars start.
    for c in init:
        if c.get("restartPolicy") != "Always":
            made = run(confined(c) + local(c, c["command"]))
            check(made.returncode == 0, "init container %s: %s" % (c["name"], made.stdout + made.stderr))
    airlockd_log = open(os.path.join(work, "airlockd.log"), "w")
    # AIRLOCK_K8S_STRACE=FILE: an `strace -f -c` summary of airlockd and its workers serving
    # this run, for deploy/k8s/seccomp/derive.
    trace = os.environ.get("AIRLOCK_K8S_STRACE")
    traced = ["strace", "-f", "-qq", "-c", "-o", trace, "--"] if trace else []
    # The pod IP here is loopback, and the port a free one: the suite runs beside other tests.
    served = [w.replace("$(POD_IP):" + metrics_port, "127.0.0.1:0") for w in acmd]
    broker = subprocess.Popen(confined(airlockd) + traced + local(airlockd, served), stdout=airlockd_log,
                              stderr=subprocess.STDOUT)
    processes.append(broker)

    def probe_passes():
        return run(local(airlockd, probe)).returncode == 0

    for _ in range(300):
        if probe_passes() or broker.poll() is not None:
            break
        time.sleep(0.1)
    if not check(probe_passes(), "the startup probe succeeds"):
        fatal("airlockd did not start:\n" + read(os.path.join(work, "airlockd.log")))

    audit_local = host_path(airlockd, audit)
    shipped = os.path.join(work, "shipped.jsonl")
    shipper_out = open(shipped, "w")
    tail = subprocess.Popen(["tail", "-n", "+1", "-F", audit_local], stdout=shipper_out,
                            stderr=subprocess.DEVNULL)
    processes.append(tail)

    def app_run():
        return run(confined(app) + local(app, app["command"]))

    first = app_run()
    check(first.returncode == 0 and "sunset.png" in first.stdout,
          "the app makes its thumbnails: " + first.stdout + first.stderr)

    # What Prometheus would scrape: the app's calls, counted as the audit log records them.
    serving = re.search(r"metrics: serving GET /metrics on (\S+)",
                        read(os.path.join(work, "airlockd.log")))
    if check(serving is not None, "airlockd logs where it serves metrics"):
        with urllib.request.urlopen("http://%s/metrics" % serving.group(1), timeout=10) as r:
            scrape = r.read().decode()
        scraped = sum(float(m.group(1)) for m in re.finditer(
            r'^airlock_calls_total\{[^}]*unit="thumbnailer"[^}]*\} (\S+)$', scrape, re.M))
        with open(audit_local) as f:
            records = [json.loads(line) for line in f]
        recorded = sum(1 for r in records if r.get("event") == "call" and r.get("unit") == "thumbnailer")
        check(recorded > 0 and scraped == recorded,
              "the scrape counts the thumbnailer's %d recorded calls: %s" % (recorded, scraped))

    def reload_records():
        records = []
        with open(audit_local) as f:
            for line in f:
                record = json.loads(line)
                if record.get("event") == "policy.reload":
                    records.append(record)
        return records

    def wait_for_reload(count):
        for _ in range(200):
            records = reload_records()
            if len(records) >= count:
                return records[count - 1]
            time.sleep(0.05)
        fatal("no policy.reload record number %d:\n%s" % (
            count, read(os.path.join(work, "airlockd.log"))))

    # The platform team's change: kubelet swaps the ConfigMap in; airlockd reloads it.
    volume, files = projected[policies_mount["name"]]
    narrowed = dict(files)
    narrowed["thumbnailer.toml"] = files["thumbnailer.toml"].replace(
        'method = ["thumbnail", "open-directly", "decode"]', 'method = ["decode"]')
    check(narrowed["thumbnailer.toml"] != files["thumbnailer.toml"], "the narrowing applies")
    volume.publish(narrowed)
    record = wait_for_reload(1)
    check(record["result"] == "applied" and record["caller"].endswith("/..data"),
          "the ConfigMap swap is reloaded: " + json.dumps(record))
    refused = app_run()
    check(refused.returncode != 0 and "denied" in (refused.stdout + refused.stderr).lower(),
          "after the swap the app's thumbnail call is refused: " + refused.stdout + refused.stderr)
    volume.publish(files)
    record = wait_for_reload(2)
    check(record["result"] == "applied", "the swap back is reloaded")
    check(app_run().returncode == 0, "and the app is served again")

    if trace:  # strace does not pass SIGTERM on: airlockd is its child
        with open("/proc/%d/task/%d/children" % (broker.pid, broker.pid)) as f:
            os.kill(int(f.read().split()[0]), signal.SIGTERM)
    else:
        broker.send_signal(signal.SIGTERM)
    check(broker.wait(timeout=30) == 0, "airlockd stops cleanly on SIGTERM")
    for _ in range(100):
        shipper_out.flush()
        if read(shipped) == read(audit_local):
            break
        time.sleep(0.1)
    check(read(shipped) == read(audit_local), "the shipper has the whole audit log")
    verified = run([os.path.join(BIN, "airlock"), "audit", "verify", shipped, "--key",
                    keys + "/broker.pub", "--require-closed"])
    check(verified.returncode == 0, "the shipped log verifies: " + verified.stdout + verified.stderr)
finally:
    cleanup()

if failures:
    sys.exit(1)
print("ok: deploy/k8s parses, agrees with airlockd, and runs as one pod on this machine")
