#!/usr/bin/env bash
# Builds the libFuzzer target for the SRT parser and runs it for a fixed time on the seed
# corpus in corpus/. Exits non-zero when libFuzzer finds a crash, a failed check or a slow
# input (over 10 s); the input that did it is left in Fuzz/artifacts/.
#
# Usage: Fuzz/run.sh [SECONDS]     (default 30, or $FUZZ_SECONDS)
#
# Build note: SwiftPM's own `--sanitize=fuzzer` is what works here. Passing
# `-Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library` instead fails at link time
# ("undefined symbol 'SRTFuzzer_main'"): SwiftPM renames an executable's entry point to
# <Target>_main and links with --defsym main=<Target>_main, and -parse-as-library means no such
# function exists. With --sanitize=fuzzer SwiftPM leaves main to libFuzzer.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-${FUZZ_SECONDS:-30}}"
# Swift's own crash backtracer would catch a trap before libFuzzer does, and then no crashing
# input is saved; leave crashes to libFuzzer.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

swift build -c debug --sanitize=fuzzer --product SRTFuzzer
fuzzer="$(swift build -c debug --sanitize=fuzzer --show-bin-path)/SRTFuzzer"

# New interesting inputs go to a scratch directory, so the committed corpus stays as written.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p artifacts

status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix=artifacts/ -print_final_stats=1 "$scratch" corpus || status=$?
if [ "$status" -ne 0 ]; then
    echo "SRTFuzzer failed (exit $status); reproduce with: $fuzzer $PWD/artifacts/<file>" >&2
    exit "$status"
fi
echo "SRTFuzzer: no crash in ${seconds}s"
