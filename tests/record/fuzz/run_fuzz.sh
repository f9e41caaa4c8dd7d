#!/bin/sh
# Builds the recording reader's libFuzzer target with clang-14 and runs it over the seed
# corpus in tests/record/corpus.
#   run_fuzz.sh SOURCE_ROOT WORK_DIR [libFuzzer options...]   (default: -runs=20000)
# The test suite runs it short; the long run (e.g. -max_total_time=600) is a bench item.
# Exit 77 (skipped) with a reason when clang-14 or its libFuzzer runtime
# (Debian: libclang-rt-14-dev) is missing.
set -eu
src=$1
work=$2
shift 2
[ $# -gt 0 ] || set -- -runs=20000
cc=${FUZZ_CC:-clang-14}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "skipped: $cc not found (apt-get install clang-14)"
    exit 77
fi
mkdir -p "$work"
probe="$work/fuzz-probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$cc" -fsanitize=fuzzer "$probe" -o "$work/fuzz-probe" 2>/dev/null; then
    echo "skipped: $cc has no libFuzzer runtime (apt-get install libclang-rt-14-dev)"
    exit 77
fi
p="$src/probe/src"
# With expat, every svg report is also checked to be well-formed XML (json and chrome are
# always checked with coscope's own strict JSON reader).
xml_check=""
if echo '#include <expat.h>
int main(void) { return XML_ParserCreate(0) == 0; }' | "$cc" -x c - -lexpat -o "$work/expat-probe" 2>/dev/null; then
    xml_check="-DFUZZ_HAVE_EXPAT -lexpat"
else
    echo "note: expat not found (apt-get install libexpat1-dev): svg reports are not parsed"
fi
# The reader, the report formats and what they use: nothing that needs BPF.
# shellcheck disable=SC2086 # $xml_check is two words or none
"$cc" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
    -I"$p/base" -I"$p/model" -I"$p/collect" -I"$p/record" -I"$p/report" \
    -I"$src/probe/bpf" -I"$src/runtime/include" \
    "$src/tests/record/fuzz/fuzz_reader.c" \
    "$p/record/recording_reader.c" "$p/record/record_encode.c" "$p/model/model.c" "$p/model/model_tasks.c" "$p/model/hist_ll.c" \
    "$p/base/json_writer.c" "$p/base/json_reader.c" "$p/base/utf8.c" "$p/base/safe_file.c" "$p/report/report_summary.c" "$p/report/report_text.c" "$p/report/report_json.c" \
    "$p/report/report_chrome.c" "$p/report/report_folded.c" "$p/report/report_svg.c" \
    $xml_check -o "$work/fuzz-reader"
# New inputs go to a scratch directory, never into the committed corpus.
scratch="$work/fuzz-new"
rm -rf "$scratch"
mkdir -p "$scratch"
cd "$work"
"$work/fuzz-reader" -max_len=65536 -timeout=10 -rss_limit_mb=1024 "$@" \
    "$scratch" "$src/tests/record/corpus"
