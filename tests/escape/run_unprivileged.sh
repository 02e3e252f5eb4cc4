#!/usr/bin/env bash
# Runs the escape suite as an unprivileged user, so every attack is checked both as root (the
# plain ctest entries) and as a user with no privileges at all: airlockd may run as either.
# Then checks `airlock sandbox run` as that user: /bin/true exits 0, /bin/false exits 1.
# Invoked by ctest as root: drops to nobody (uid/gid 65534, no groups, no capabilities). Run as
# anyone else, it runs the suite as that user.
#
# The binaries are copied to a fresh directory nobody can read and execute: the build tree may
# sit under a directory only root can enter.
set -euo pipefail
tests=$1
probe=$2
airlock=$3

check_sandbox_run() {  # $@: how to run a copy of the airlock CLI
  "$@" sandbox run -- /bin/true || { echo "sandbox run -- /bin/true failed" >&2; exit 1; }
  set +e
  "$@" sandbox run -- /bin/false
  status=$?
  set -e
  [ "$status" = 1 ] || { echo "sandbox run -- /bin/false exited $status, not 1" >&2; exit 1; }
}

if [ "$(id -u)" != 0 ]; then
  AIRLOCK_ESCAPE_PROBE="$probe" "$tests"
  check_sandbox_run "$airlock"
  exit
fi
dir=$(mktemp -d /tmp/airlock-escape-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cp "$tests" "$dir/escape-tests"
cp "$probe" "$dir/escape-probe"
cp "$airlock" "$dir/airlock"
chmod 755 "$dir" "$dir/escape-tests" "$dir/escape-probe" "$dir/airlock"
cd "$dir"
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
AIRLOCK_ESCAPE_PROBE="$dir/escape-probe" "${as_nobody[@]}" "$dir/escape-tests"
check_sandbox_run "${as_nobody[@]}" "$dir/airlock"
