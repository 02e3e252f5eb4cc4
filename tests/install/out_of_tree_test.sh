#!/usr/bin/env bash
# The install tree works for someone outside this source tree: installs the build into a
# temporary prefix and moves it (so any absolute path in the installed CMake package, pkg-config
# files or airlockd's default workers directory breaks the rest), copies examples/thumbnailer out
# of the tree, builds it with find_package(airlock) and again with only pkg-config
# (thumbnailer.mk), and runs each build's host against the installed airlockd with that build's
# worker: the CMake-built worker from the installed default workers directory, the
# pkg-config-built one through --workers.
#
#   out_of_tree_test.sh BUILD_DIR SOURCE_DIR LIBDIR
#
# LIBDIR is CMAKE_INSTALL_LIBDIR (where the .pc files and the CMake package are). Exits non-zero
# with a FAIL line naming the step that broke.
set -euo pipefail
build=$1 source=$2 libdir=$3
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/airlock-install-test.XXXXXX")
chmod 755 "$work"   # the sandboxed worker runs as another uid and must reach its executable
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid"
    wait "$broker_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "out_of_tree_test: FAIL: $*" >&2
  exit 1
}
step() { echo "== $* =="; }
# Runs a command with its output in LOG, shown only if it fails.
quietly() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 || { cat "$log"; return 1; }
}

step "install into a temporary prefix, then move it"
quietly "$work/install.log" cmake --install "$build" --prefix "$work/staged" ||
  fail "cmake --install $build failed"
mv "$work/staged" "$work/prefix"
prefix=$work/prefix
for file in bin/airlockd bin/airlock \
    include/airlock/worker/worker.h include/airlock/worker/fs.h include/airlock/host/client.h \
    include/airlock/capnp/worker.capnp.h include/airlock/capnp/host.capnp.h \
    share/airlock/capnp/worker.capnp share/airlock/capnp/host.capnp \
    "$libdir/cmake/airlock/airlockConfig.cmake" "$libdir/cmake/airlock/airlockConfigVersion.cmake" \
    "$libdir/pkgconfig/airlock-worker.pc" "$libdir/pkgconfig/airlock-host.pc" \
    include/airlock/airlock.h "$libdir/libairlock.so.0" "$libdir/libairlock.so" \
    "$libdir/pkgconfig/airlock.pc" lib/python3/dist-packages/airlock/__init__.py \
    lib/python3/dist-packages/airlock/worker.py lib/airlock/libairlock-python-worker.so \
    lib/systemd/system/airlockd.service lib/systemd/system/airlockd.socket; do
  [ -e "$prefix/$file" ] || fail "the install tree has no $file"
done
[ -d "$prefix/lib/airlock/workers" ] || fail "the install tree has no lib/airlock/workers/"
# The Python package finds the installed libairlock.so.0 by its name, as the dynamic linker does.
# (The host side loads it on first use, so import airlock.client, which uses it.)
env -u AIRLOCK_LIBRARY LD_LIBRARY_PATH="$prefix/$libdir" \
    PYTHONPATH="$prefix/lib/python3/dist-packages" python3 -B -c "import airlock.client" ||
  fail "the installed airlock Python package cannot load the installed libairlock.so.0"
# A Python worker's side loads the library airlockd names (sandbox/python_worker.h); importing
# it checks the installed library's ABI version.
env AIRLOCK_WORKER_LIBRARY="$prefix/lib/airlock/libairlock-python-worker.so" \
    PYTHONPATH="$prefix/lib/python3/dist-packages" \
    python3 -B -c "from airlock import worker; assert callable(worker.serve)" ||
  fail "the installed airlock Python package cannot load libairlock-python-worker.so"
grep -q "^ExecStart=$work/staged/bin/airlockd " "$prefix/lib/systemd/system/airlockd.service" ||
  fail "airlockd.service's ExecStart does not name the installed airlockd"
# Paths into the build, the sources or the prefix installed to would tie the package to them.
for path in "$build" "$source" "$work/staged"; do
  if leaks=$(grep -rlF "$path" "$prefix/include" "$prefix/$libdir/cmake" "$prefix/$libdir/pkgconfig"); then
    fail "installed files name $path: $leaks"
  fi
done

step "copy examples/thumbnailer and its policy out of the tree"
cp -r "$source/examples/thumbnailer" "$work/thumbnailer"
mkdir "$work/policies"
cp "$source/policies/thumbnailer.toml" "$work/policies/"
cp -r "$source/policies/interfaces" "$work/policies/"

step "build with find_package(airlock)"
quietly "$work/cmake-configure.log" cmake -S "$work/thumbnailer" -B "$work/build-cmake" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DTHUMBNAILER_INTERFACES="$work/policies/interfaces" ||
  fail "configuring the thumbnailer with find_package(airlock) failed"
quietly "$work/cmake-build.log" cmake --build "$work/build-cmake" -j2 ||
  fail "building the thumbnailer with find_package(airlock) failed"
# airlock_add_worker's install rule puts the worker where the installed airlockd looks.
quietly "$work/cmake-install.log" cmake --install "$work/build-cmake" ||
  fail "installing the find_package-built worker failed"
[ -x "$prefix/lib/airlock/workers/thumbnailer-worker" ] ||
  fail "airlock_add_worker did not install thumbnailer-worker into lib/airlock/workers"

step "build with pkg-config"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
pkg-config --exists --print-errors airlock-worker airlock-host ||
  fail "pkg-config cannot use airlock-worker.pc / airlock-host.pc"
mkdir "$work/build-pc"
quietly "$work/pc-build.log" make -C "$work/build-pc" -j2 -f "$here/thumbnailer.mk" \
  SRC="$work/thumbnailer" INTERFACES="$work/policies/interfaces" ||
  fail "building the thumbnailer with pkg-config failed"

step "keys and sample images"
"$prefix/bin/airlock" keygen --out "$work/broker" >/dev/null
mkdir -m 700 "$work/web" "$work/client-keys"
"$prefix/bin/airlock" keygen --client web --out "$work/web" >/dev/null
mv "$work/web/web.pub" "$work/client-keys/"
mkdir "$work/images"
"$work/build-cmake/thumbnailer-samples" "$work/images"

# start_broker NAME [airlockd options...]: the installed airlockd on the copied policy.
start_broker() {
  local name=$1
  shift
  socket=$work/$name.sock
  "$prefix/bin/airlockd" --policies "$work/policies" --socket "$socket" \
    --audit "$work/$name-audit.jsonl" --key "$work/broker.key" --client-keys "$work/client-keys" \
    --define "images_dir=$work/images" "$@" 2>"$work/$name-airlockd.log" &
  broker_pid=$!
  for _ in $(seq 1 200); do
    [ -S "$socket" ] && return 0
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat "$work/$name-airlockd.log"
  fail "the installed airlockd did not start ($name)"
}
stop_broker() {
  kill -TERM "$broker_pid"
  wait "$broker_pid" || fail "airlockd did not stop cleanly: $(cat "$work/$1-airlockd.log")"
  broker_pid=""
}
# run_host NAME HOST: a thumbnail through the broker, and a path the policy refuses.
run_host() {
  local name=$1 host=$2 out
  out=$("$host" --socket "$socket" --key "$work/web/web.key" --broker-key "$work/broker.pub" \
    "$work/images/sunset.png" 2>&1) || fail "$name: thumbnail failed: $out"
  [[ $out == *"sunset.png: 96x64 digest "* ]] || fail "$name: no thumbnail in: $out"
  echo "$name: ${out%%$'\n'*}"
  out=$("$host" --socket "$socket" --key "$work/web/web.key" --broker-key "$work/broker.pub" \
    /etc/passwd 2>&1) && fail "$name: /etc/passwd was not refused: $out"
  [[ $out == *"broker refused"* ]] || fail "$name: /etc/passwd failed, but not as refused: $out"
}

step "run the find_package build: installed airlockd, its default workers directory"
start_broker cmake
run_host find_package "$work/build-cmake/thumbnailer-host"
stop_broker cmake

step "run the pkg-config build: installed airlockd, --workers the pkg-config build"
rm "$prefix/lib/airlock/workers/thumbnailer-worker"   # so only the pkg-config worker can answer
start_broker pc --workers "$work/build-pc"
run_host pkg-config "$work/build-pc/thumbnailer-host"
stop_broker pc
echo "out_of_tree_test: PASS"
