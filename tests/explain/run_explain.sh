#!/usr/bin/env bash
# run_explain.sh — every diagnostic code has an explanation (`streamrun explain CODE`), and each
# explanation's example gives its code: the fenced blocks marked `mistake=FILE` are written to a
# directory and checked (`compat running.yaml example.yaml` when there is a running.yaml,
# else `validate example.tests.yaml` when there is one, else `validate example.yaml`), which must
# report an error, warning or note with that code; the blocks marked `fix=FILE`, written over a
# copy of the mistake's files, must pass (exit 0) with no error or warning of that code.
# Codes whose mistake needs a Kafka cluster or a model package have no example: they are listed
# in no_example below, and one listed there that has an example fails (the list stays honest).
#
#   bash tests/explain/run_explain.sh build/streamrun

set -u
bin=${1:?usage: $0 PATH/TO/streamrun}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

# the mistake needs a cluster (up, compat --broker), a model package or an editor (lsp); or
# is too large to show (SR0410: 1,000 levels of operators, SR0508: 256 levels of nesting), or
# is no file's content (SR0510: a file that cannot be read)
no_example=" SR0218 SR0219 SR0702 SR0703 SR0911 SR0991 SR0410 SR0508 SR0510 "

# writes the blocks of explanation $1 marked $2=FILE into directory $3
blocks() {
    awk -v role="$2" -v dir="$3" '
        /^```/ && out == "" {
            n = split($0, w, " ")
            for (i = 2; i <= n; i++) if (index(w[i], role "=") == 1) out = dir "/" substr(w[i], length(role) + 2)
            if (out != "") { printf "" > out; next }
        }
        /^```$/ && out != "" { close(out); out = ""; next }
        out != "" { print >> out }
    ' "$1"
}

# runs the check the files of directory $1 call for; prints its output, returns its exit code
check() {
    (
        cd "$1" || exit 2
        if [ -f running.yaml ]; then "$bin" compat running.yaml example.yaml
        elif [ -f example.tests.yaml ]; then "$bin" validate example.tests.yaml
        else "$bin" validate example.yaml; fi
    ) 2>&1
}

codes=$("$bin" explain | awk '{print $1}')
[ -n "$codes" ] || { echo "FAIL: streamrun explain lists no codes"; exit 1; }
for code in $codes; do
    text=$tmp/$code.md
    if ! "$bin" explain "$code" >"$text"; then bad "$code: explain exits $?"; continue; fi
    if ! head -1 "$text" | grep -q "^# $code: "; then bad "$code: no explanation (see runner/base/explain/)"; continue; fi
    if ! grep -q '^```[a-z]* mistake=' "$text"; then
        case $no_example in *" $code "*) pass=$((pass + 1)) ;; *) bad "$code: no example (a block marked mistake=FILE)" ;; esac
        continue
    fi
    case $no_example in *" $code "*) bad "$code: has an example, but is listed in no_example" ; continue ;; esac
    m=$tmp/$code-mistake f=$tmp/$code-fix
    mkdir -p "$m" "$f"
    blocks "$text" mistake "$m"
    out=$(check "$m")
    if ! grep -qE "(error|warning|note)\[$code\]" <<<"$out"; then
        bad "$code: the example does not give $code:"
        echo "$out" | head -20
        continue
    fi
    if grep -q '^```[a-z]* fix=' "$text"; then
        cp -r "$m"/. "$f"/
        blocks "$text" fix "$f"
        out=$(check "$f")
        rc=$?
        if [ $rc -ne 0 ] || grep -qE "(error|warning)\[$code\]" <<<"$out"; then
            bad "$code: the fix does not pass (exit $rc):"
            echo "$out" | head -20
            continue
        fi
    fi
    pass=$((pass + 1))
done

# an unknown code is a usage error with the closest one
"$bin" explain SR0199 >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "unknown code 'SR0199'; did you mean" "$tmp/err"; then pass=$((pass + 1)); else bad "explain SR0199: exit $rc, $(cat "$tmp/err")"; fi
# a code as users type it
if "$bin" explain sr101 | head -1 | grep -q '^# SR0101: '; then pass=$((pass + 1)); else bad "explain sr101"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
