#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted input, then a report.
#
#   fuzz/run.sh            each target until 1,000,000 executions or 10 minutes (make fuzz)
#   fuzz/run.sh --smoke    each target for a few seconds (make test)
#
# .NET targets: SharpFuzz instruments the assemblies, AFL++ drives fuzz/Vio4wd.Fuzz in persistent
# mode. C targets: libFuzzer with AddressSanitizer and UBSan (fuzz/native). Inputs that found new
# paths stay in out/fuzz/<target>/queue; a crash or hang fails the run and is listed with the
# command that replays it. Crashes fixed go into fuzz/corpus/<target>, which `make test` replays.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/out/fuzz
EXECS=${FUZZ_EXECS:-1000000}
SECONDS_EACH=${FUZZ_SECONDS:-600}
if [ "${1:-}" = "--smoke" ]; then
	EXECS=${FUZZ_EXECS:-20000}
	SECONDS_EACH=${FUZZ_SECONDS:-8}
fi

mkdir -p "$OUT"
cd "$ROOT"

# The .NET harness, published apart from the build so that instrumenting it changes nothing else
# (instrumented code runs only under afl-fuzz: ask for the targets before).
dotnet tool restore >/dev/null
rm -rf "$OUT/bin"
dotnet publish fuzz/Vio4wd.Fuzz -c Release -o "$OUT/bin" --nologo -v quiet >/dev/null
targets=$(dotnet "$OUT/bin/vio4wd-fuzz.dll" --list)

# The saved corpus first, uninstrumented: every input that once crashed or hung a parser.
for target in $targets; do
	dotnet "$OUT/bin/vio4wd-fuzz.dll" "$target" "fuzz/corpus/$target" 2>/dev/null
done
for assembly in Vio4wd.Core Vio4wd.Contracts Vio4wd.Configuration Vio4wd.Ovsdb Vio4wd.Sources Vio4wd.Api Vio4wd.Zmq; do
	dotnet sharpfuzz "$OUT/bin/$assembly.dll" >/dev/null
done

# The C harnesses.
make -s -C "$ROOT" fuzz-native >/dev/null

report=()
failed=0

# AFL++ writes fuzzer_stats; the keys are those of afl-fuzz 4.x.
stat() { sed -n "s/^$2 *: *//p" "$1/default/fuzzer_stats"; }

for target in $targets; do
	findings=$OUT/$target
	rm -rf "$findings"
	AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 \
	AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_QUIET=1 \
		afl-fuzz -i "fuzz/corpus/$target" -o "$findings" -E "$EXECS" -V "$SECONDS_EACH" -t 5000 -m none \
		-- dotnet "$OUT/bin/vio4wd-fuzz.dll" "$target" >"$findings.log" 2>&1 || {
		echo "fuzz: afl-fuzz failed on $target; see $findings.log" >&2
		tail -n 20 "$findings.log" >&2
		exit 1
	}
	execs=$(stat "$findings" execs_done)
	crashes=$(stat "$findings" saved_crashes)
	hangs=$(stat "$findings" saved_hangs)
	secs=$(( $(stat "$findings" last_update) - $(stat "$findings" start_time) ))
	report+=("$(printf '%-18s %-8s %10s execs %5ss  %s crashes  %s hangs' "$target" afl++ "$execs" "$secs" "$crashes" "$hangs")")
	if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
		failed=1
		for input in "$findings"/default/crashes/id* "$findings"/default/hangs/id*; do
			[ -e "$input" ] && report+=("    replay: dotnet fuzz/Vio4wd.Fuzz/bin/Release/net10.0/vio4wd-fuzz.dll $target '$input'")
		done
	fi
done

for harness in "$OUT"/native/*_fuzz; do
	target=$(basename "$harness" _fuzz)
	findings=$OUT/native-$target
	rm -rf "$findings" && mkdir -p "$findings"
	log=$findings.log
	if "$harness" -max_total_time="$SECONDS_EACH" -runs="$EXECS" -artifact_prefix="$findings/" \
		-print_final_stats=1 "$findings" "fuzz/corpus/native-$target" >"$log" 2>&1; then
		result="0 crashes"
	else
		result="CRASH: $(ls "$findings"/crash-* "$findings"/leak-* "$findings"/timeout-* 2>/dev/null | head -n 1)"
		failed=1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	report+=("$(printf '%-18s %-8s %10s execs %5s/s  %s' "native-$target" libFuzzer "$execs" "$secs" "$result")")
done

echo "fuzz report ($EXECS executions or ${SECONDS_EACH}s per target):"
printf '  %s\n' "${report[@]}"
exit $failed
