#!/usr/bin/env bash
# Runs a guide (docs/guide.md) literally: its ```sh blocks as commands, in order, in one shell
# started in an empty directory outside the source tree, and its ```LANG file=PATH blocks
# written to PATH (relative to that shell's directory at that point), so every command and every
# file the guide shows is checked. Against:
#
#   run_guide.sh GUIDE --build BUILD_DIR   an install tree made from BUILD_DIR with
#                                          `cmake --install` into a temporary prefix (ctest)
#   run_guide.sh GUIDE --prefix PREFIX     an airlock already installed in PREFIX, e.g. /usr
#                                          for the Debian packages
#
# PREFIX/bin goes first in PATH, PREFIX in CMAKE_PREFIX_PATH, PREFIX/lib/python3/dist-packages in
# PYTHONPATH and the directory of libairlock.so.0 in LD_LIBRARY_PATH, as the guides tell users of
# an install tree (for /usr, the Debian packages, each is where it is looked for anyway). Block kinds (the fence's info string):
#   ```sh            run; the guide fails if any command in it fails (set -e)
#   ```sh fails=N    a refusal the guide shows: must exit with status N
#   ```LANG file=P   written to P
# Any other block (```text, a bare ```) is shown to readers only. Exits non-zero naming the
# guide line of the first block that did not do what the guide says.
set -euo pipefail

usage() {
  echo "usage: run_guide.sh GUIDE.md (--build BUILD_DIR | --prefix PREFIX)" >&2
  exit 2
}
[ $# -eq 3 ] || usage
guide=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mode=$2 where=$3
[ -f "$guide" ] || { echo "run_guide: $guide: no such file" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/airlock-guide.XXXXXX")
chmod 755 "$work"   # the sandboxed worker runs as another uid and must reach its executable
trap 'rm -rf "$work"' EXIT

case "$mode" in
  --build)
    echo "== cmake --install $where into a temporary prefix =="
    if ! cmake --install "$where" --prefix "$work/prefix" >"$work/install.log" 2>&1; then
      cat "$work/install.log"
      echo "run_guide: FAIL: cmake --install $where failed" >&2
      exit 1
    fi
    prefix=$work/prefix
    ;;
  --prefix)
    prefix=$where
    [ -x "$prefix/bin/airlockd" ] || {
      echo "run_guide: $prefix/bin/airlockd: not installed there" >&2
      exit 2
    }
    ;;
  *) usage ;;
esac

# The guide as one script. Each block is preceded by a line naming where it is in the guide; an
# EXIT trap in the script stops what the guide left running in the background (airlockd) and
# names the block that failed.
script=$work/guide.sh
awk -v guide="$(basename "$guide")" '
  function header(kind) {
    printf "__guide_at=%s:%d\n", guide, start
    printf "echo \"== %s:%d (%s) ==\"\n", guide, start, kind
  }
  function quote(line) { gsub(/\047/, "\047\\\047\047", line); return "\047" line "\047" }
  BEGIN {
    print "set -euo pipefail"
    print "__guide_at=\"\""
    print "__guide_end() {"
    print "  local code=$?"
    print "  for job in $(jobs -p); do kill -TERM \"$job\" 2>/dev/null || true; done"
    print "  wait || true"
    print "  if [ $code -ne 0 ]; then"
    print "    echo \"run_guide: FAIL: the block at $__guide_at ${__guide_why:-exited $code}\" >&2"
    print "    if [ -f airlockd.log ]; then echo \"--- the end of airlockd.log:\"; tail -n 30 airlockd.log; fi"
    print "  fi"
    print "  exit $code"
    print "}"
    print "trap __guide_end EXIT"
  }
  !inblock && /^```/ {
    info = substr($0, 4)
    start = NR
    inblock = 1
    kind = "show"
    body = ""
    shown = ""
    if (info == "sh") { kind = "run"; header("sh") }
    else if (info ~ /^sh fails=[0-9]+$/) {
      kind = "fails"
      status = substr(info, 10)
      header("must exit " status)
    } else if (match(info, /file=[^ ]+/)) {
      kind = "file"
      path = substr(info, RSTART + 5, RLENGTH - 5)
      header("file " path)
      printf "mkdir -p \"$(dirname %s)\"\ncat >%s <<\047__GUIDE_FILE_EOF__\047\n", path, path
    }
    next
  }
  inblock && /^```$/ {
    if (kind == "file") print "__GUIDE_FILE_EOF__"
    if (kind == "run") { printf "%s%s", shown, body }
    if (kind == "fails") {
      # In a subshell, so the refusal does not stop the guide; its status must be the one the
      # guide states (a missing program, 127, or a crash must not pass for a refusal).
      printf "%s__guide_status=0\n(\n%s) || __guide_status=$?\n", shown, body
      printf "if [ $__guide_status -ne %d ]; then\n", status
      printf "  __guide_why=\"exited $__guide_status, not %d\"\n", status
      print "  exit 1"
      print "fi"
    }
    inblock = 0
    next
  }
  inblock && (kind == "run" || kind == "fails") {
    shown = shown "echo " quote("$ " $0) "\n"
    body = body $0 "\n"
    next
  }
  inblock && kind == "file" { print; next }
  END { if (inblock) { printf "echo \"run_guide: %s:%d: unterminated block\" >&2; exit 1\n", guide, start } }
' "$guide" >"$script"

mkdir "$work/run"
cd "$work/run"
echo "== running $(basename "$guide") in $work/run against $prefix =="
libairlock=$(find "$prefix/lib" -maxdepth 2 -name libairlock.so.0 -print -quit)
[ -n "$libairlock" ] || { echo "run_guide: no libairlock.so.0 under $prefix/lib" >&2; exit 2; }
PATH="$prefix/bin:$PATH" CMAKE_PREFIX_PATH="$prefix" \
  PYTHONPATH="$prefix/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}" \
  LD_LIBRARY_PATH="$(dirname "$libairlock")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" bash "$script"
echo "run_guide: PASS"
