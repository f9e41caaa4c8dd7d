#!/bin/sh
# speedscope's own importer reads a `coscope stalls --pprof` profile of stallgen and finds
# stallgen's stall functions in it. speedscope comes from npm into a cache directory
# (./dev installs it); if it is missing and npm cannot fetch it, the test skips (77) and
# says why.
# usage: speedscope_check.sh COSCOPE STALLGEN SOURCE_DIR
set -u
coscope=$1 stallgen=$2 src=$3
cache=${COSCOPE_NPM_CACHE:-/var/cache/coscope/npm}
release=$cache/node_modules/speedscope/dist/release
command -v node >/dev/null 2>&1 || { echo "skip: no node"; exit 77; }
if [ ! -d "$release" ]; then
    if ! command -v npm >/dev/null 2>&1 ||
        ! { mkdir -p "$cache" && npm install --no-audit --no-fund --prefix "$cache" speedscope@1.25.0 >/dev/null 2>&1; }; then
        echo "skip: speedscope is not in $cache and npm could not fetch it"
        exit 77
    fi
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
port=$((20000 + $$ % 20000))
"$coscope" stalls -t 80ms --pprof "$tmp/stalls.pb.gz" -- "$stallgen" --port "$port" \
    --every 400ms --count 2 --stalls cpu:120ms,sleep:100ms >"$tmp/out" 2>&1 || {
    cat "$tmp/out"
    echo "FAIL: coscope stalls --pprof failed"
    exit 1
}
node "$src/tests/record/speedscope_import.mjs" "$release" "$tmp/stalls.pb.gz" >"$tmp/import" 2>&1
rc=$?
cat "$tmp/import"
[ $rc -eq 0 ] || { echo "FAIL: speedscope's importer refused the profile"; exit 1; }
for f in stall_cpu_burn stall_blocking_sleep stall_task; do
    grep -q "frames .*$f" "$tmp/import" || { echo "FAIL: $f is not among speedscope's frames"; exit 1; }
done
echo "ok: speedscope imported the profile"
