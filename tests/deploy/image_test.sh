#!/usr/bin/env bash
# The OCI image: built by scripts/image (buildah, FROM scratch, offline), then run with podman
# the way deploy/k8s runs it: airlockd in one container under deploy/k8s/seccomp/airlockd.json,
# with only CAP_SETUID and CAP_SETGID, no_new_privs and a read-only root, serving the demo's
# thumbnailer unit; thumbnailer-host in a second container on the shared socket directory; the
# audit log verified after airlockd's clean stop.
#
#   image_test.sh SOURCE_DIR BUILD_DIR [--debs DIR]
#
# Without --debs the image is made from BUILD_DIR's install tree (the files the package holds;
# see scripts/image). Run as root.
#
# On this machine podman needs `--runtime runc` (Debian's crun 1.8 refuses a host whose cgroups
# are mounted in hybrid v1/v2 mode: "cgroups in hybrid mode not supported, drop all controllers
# from cgroupv2") and explicit --ulimit values no higher than the current hard limits
# (the runtime's defaults raise RLIMIT_NOFILE/RLIMIT_NPROC past them, which needs
# CAP_SYS_RESOURCE, which this machine's root lacks: "crun: setrlimit `RLIMIT_NPROC`: Operation
# not permitted"). Both are set below and are harmless elsewhere.
set -euo pipefail

src=$1 build=$2
shift 2
from=(--install-tree "$build")
[ "${1:-}" = "--debs" ] && from=(--debs "$2")
bin=$build/bin
tag=image-test-$$

fail() {
  echo "image_test: FAIL: $*" >&2
  exit 1
}
command -v podman >/dev/null || fail "podman is not installed (scripts/install-deps installs it)"

work=$(mktemp -d /tmp/airlock-image-test.XXXXXX)
chmod 755 "$work"
broker=""
cleanup() {
  [ -n "$broker" ] && podman rm -f "$broker" >/dev/null 2>&1 || true
  podman rmi -f "localhost/airlock:$tag" "localhost/airlock-demo:$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the images =="
"$src/scripts/image" "${from[@]}" --demo "$bin" --tag "$tag"
podman image exists "localhost/airlock:$tag" || fail "no localhost/airlock:$tag"
podman image exists "localhost/airlock-demo:$tag" || fail "no localhost/airlock-demo:$tag"

nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=65536
# 4096 processes: far more than airlockd and the demo's workers use, and under the limit this
# machine's runtime may set (48183 of a hard 96367 was refused, 32768 accepted).
run=(podman run --runtime runc --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096"
  --network none)

echo "== the image's programs run =="
# Whole outputs are captured before they are looked at: a reader that stops early (head, grep -q)
# would end podman's write with EPIPE, which pipefail turns into a failure now and then.
help=$("${run[@]}" --rm "localhost/airlock:$tag" --help) || fail "airlockd --help in the image"
[[ "$help" == "usage: airlockd"* ]] || fail "airlockd --help in the image: $help"
help=$("${run[@]}" --rm --entrypoint /usr/bin/airlock "localhost/airlock:$tag" --help) ||
  fail "airlock --help in the image"
[[ "$help" == *"audit verify"* ]] || fail "airlock --help in the image: $help"

echo "== airlockd serving the demo, confined as deploy/k8s confines it =="
mkdir -p "$work"/{keys,socket,audit,images,clients}
chmod 777 "$work/socket" "$work/images"
"$bin/airlock" keygen --out "$work/keys/broker" >/dev/null
"$bin/airlock" keygen --client web --out "$work/keys" >/dev/null
cp "$work/keys/web.pub" "$work/clients/"
"${run[@]}" --rm -v "$work/images:/srv/images" --entrypoint /usr/bin/thumbnailer-samples \
  "localhost/airlock-demo:$tag" /srv/images >/dev/null || fail "thumbnailer-samples in the image"

broker=$("${run[@]}" -d --read-only --cap-drop ALL --cap-add SETUID --cap-add SETGID \
  --security-opt no-new-privileges \
  --security-opt "seccomp=$src/deploy/k8s/seccomp/airlockd.json" \
  -v "$work/socket:/run/airlock" -v "$work/audit:/var/log/airlock" \
  -v "$work/keys/broker.key:/etc/airlock/broker.key:ro" -v "$work/clients:/etc/airlock/clients:ro" \
  -v "$work/images:/srv/images:ro" \
  "localhost/airlock-demo:$tag" \
  --policies /usr/share/airlock/demo/policies --client-keys /etc/airlock/clients --watch-policies \
  --socket /run/airlock/airlock.sock --audit /var/log/airlock/audit.jsonl \
  --key /etc/airlock/broker.key --define images_dir=/srv/images \
  --define inbox_dir=/srv/images --define output_dir=/tmp)
for _ in $(seq 1 100); do
  [ -S "$work/socket/airlock.sock" ] && break
  [ "$(podman inspect -f '{{.State.Running}}' "$broker")" = true ] || break
  sleep 0.1
done
[ -S "$work/socket/airlock.sock" ] || { podman logs "$broker"; fail "airlockd did not start in the image"; }

# The host shares airlockd's PID namespace, as shareProcessNamespace does in the pod: the
# handshake checks the client's pid as airlockd sees it.
out=$("${run[@]}" --rm --pid "container:$broker" -v "$work/socket:/run/airlock" -v "$work/images:/srv/images:ro" \
  -v "$work/keys/web.key:/etc/airlock/web.key:ro" -v "$work/keys/broker.pub:/etc/airlock/broker.pub:ro" \
  --entrypoint /usr/bin/thumbnailer-host "localhost/airlock-demo:$tag" \
  --socket /run/airlock/airlock.sock --key /etc/airlock/web.key --broker-key /etc/airlock/broker.pub \
  /srv/images/sunset.png /srv/images/checker.png 2>&1) || { podman logs "$broker"; echo "$out"; fail "thumbnailer-host"; }
echo "$out"
[[ "$out" == *sunset.png* ]] || fail "no thumbnail of sunset.png"

podman stop -t 30 "$broker" >/dev/null
status=$(podman inspect -f '{{.State.ExitCode}}' "$broker")
podman logs "$broker" 2>&1 | tail -5
[ "$status" = 0 ] || fail "airlockd exited $status"
"$bin/airlock" audit verify "$work/audit/audit.jsonl" --key "$work/keys/broker.pub" --require-closed ||
  fail "the image's audit log does not verify"
grep -q '"event":"worker.spawn"' "$work/audit/audit.jsonl" || fail "no worker was started"
echo "image_test: ok"
