# lib.sh — helpers of the command-line test scripts (sourced, with STREAMRUN as $1): a scratch
# directory $work, checks counted and summed up by finish; has FILE REGEX, has_text FILE TEXT.
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fail=$((fail + 1)); fi
}
expect_exit() { # expect_exit CODE CMD...: stdout and stderr go to $work/stdout, $work/stderr
  local want=$1; shift
  "$@" >"$work/stdout" 2>"$work/stderr"
  local got=$?
  [ "$got" = "$want" ] || { echo "  exit $got, wanted $want: ${*:1:6}..."; head -c 2000 "$work/stderr"; return 1; }
}
has() { grep -q -- "$2" "$1" || { echo "  '$2' not in $1:"; head -c 2000 "$1"; return 1; }; }
has_text() { grep -qF -- "$2" "$1" || { echo "  '$2' not in $1:"; head -c 2000 "$1"; return 1; }; }
finish() { # prints "N passed, N failed"; fails when a check did
  echo "$pass passed, $fail failed"
  [ $fail = 0 ]
}
