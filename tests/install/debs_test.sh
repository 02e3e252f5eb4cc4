#!/usr/bin/env bash
# The Debian packages scripts/package built, installed for real in a throwaway Debian 12 root and
# used there as a user would: a minimal root made with mmdebstrap from Debian's archive, the four
# .debs installed in it with apt-get (so their dependencies, maintainer scripts and file lists
# are the ones checked), then the guides run inside it against /usr in a podman container made
# from that root (imported: no registry pull) — docs/guide-python.md always, docs/guide.md
# too with --cxx (which installs cmake, g++ and libxml2-dev in the root).
#
#   tests/install/debs_test.sh DEBDIR [--cxx] [--keep ROOT]
#
# Not part of ctest: it needs Debian's archive over the network and a package build (about
# 40 minutes here, see docs/deploy.md). As root, with mmdebstrap and podman installed.
# The container stands in for a Debian host: only CAP_SETUID and CAP_SETGID (what airlockd needs
# as root to map its workers to nobody), no_new_privs, and no seccomp filter of the runtime's
# (the guide's shell and tools run in it too, which deploy/k8s's airlockd-only profile does not
# allow: bash calls getpgrp); podman options as tests/deploy/image_test.sh explains.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
debs=$(cd "$1" && pwd)
shift
cxx="" keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cxx) cxx=1; shift ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "debs_test: unknown argument $1" >&2; exit 2 ;;
  esac
done

fail() {
  echo "debs_test: FAIL: $*" >&2
  exit 1
}
for tool in mmdebstrap podman; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install $tool)"
done
packages=()
for name in airlock libairlock0 python3-airlock libairlock-dev; do
  deb=$(ls "$debs"/"$name"_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || fail "no ${name}_*.deb in $debs (scripts/package builds it)"
  packages+=("$deb")
done

work=${keep:-$(mktemp -d /tmp/airlock-debs-test.XXXXXX)}
mkdir -p "$work"
image=localhost/airlock-debs-test:$$
cleanup() {
  podman rmi -f "$image" >/dev/null 2>&1 || true
  [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
root=$work/root

echo "== a minimal Debian 12 root (mmdebstrap) in $root =="
extra=python3
[ -n "$cxx" ] && extra=$extra,cmake,g++,libxml2-dev,pkgconf
mmdebstrap --variant=apt --include="$extra" bookworm "$root" http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1 ||
  { tail -20 "$work/mmdebstrap.log"; fail "mmdebstrap failed (log: $work/mmdebstrap.log)"; }

echo "== apt-get install the packages in it =="
mkdir -p "$root/tmp/debs"
cp "${packages[@]}" "$root/tmp/debs/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
mount -t proc proc "$root/proc"
installed=0
# mmdebstrap leaves the root without package lists; the glob is the root's, for its shell.
in_root sh -c 'apt-get update -qq && apt-get install -y --no-install-recommends /tmp/debs/*.deb' >"$work/apt.log" 2>&1 ||
  installed=$?
umount "$root/proc"
[ "$installed" -eq 0 ] || { tail -30 "$work/apt.log"; fail "apt-get install of the packages failed"; }
rm -rf "$root/tmp/debs"
for path in /usr/bin/airlockd /usr/bin/airlock /usr/lib/x86_64-linux-gnu/libairlock.so.0 \
    /usr/lib/python3/dist-packages/airlock/__init__.py /usr/lib/airlock/libairlock-python-worker.so \
    /usr/include/airlock/airlock.h /etc/airlock/broker.key /lib/systemd/system/airlockd.service; do
  [ -e "$root$path" ] || fail "installed, the packages left no $path"
done
in_root getent passwd airlock >/dev/null || fail "the airlock package made no airlock user"

echo "== the guides, in a container of that root =="
mkdir -p "$root/srv/airlock-test"
cp "$src/tests/guide/run_guide.sh" "$src/docs/guide-python.md" "$src/docs/guide.md" "$root/srv/airlock-test/"
tar -C "$root" -cf - . | podman import --quiet - "$image" >/dev/null
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=65536
guides=(guide-python.md)
[ -n "$cxx" ] && guides+=(guide.md)
for guide in "${guides[@]}"; do
  podman run --rm --runtime runc --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096" \
    --network none --cap-drop ALL --cap-add SETUID --cap-add SETGID \
    --security-opt no-new-privileges --security-opt seccomp=unconfined \
    "$image" /srv/airlock-test/run_guide.sh "/srv/airlock-test/$guide" --prefix /usr ||
    fail "$guide against the installed packages"
done
echo "debs_test: ok"
