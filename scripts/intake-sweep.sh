#!/usr/bin/env bash
# Reads every file under the given folders one by one with `medlens inspect` and tallies the outcome:
# decoded, or refused with which reason code, or crashed (any exit status other than 0 and 2).
#   scripts/intake-sweep.sh ../shared/data/dicom ../shared/data/oct
set -uo pipefail
BIN=${MEDLENS:-$(dirname "$0")/../.build/release/medlens}
declare -A tally
crashes=0 total=0
while IFS= read -r -d '' file; do
    total=$((total + 1))
    out=$("$BIN" inspect "$file" 2>/dev/null)
    status=$?
    if [[ $status -eq 0 ]]; then
        tally[decoded]=$((${tally[decoded]:-0} + 1))
    elif [[ $status -eq 2 ]]; then
        reason=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["failures"][0]["reason"])' <<<"$out")
        tally[$reason]=$((${tally[$reason]:-0} + 1))
    else
        crashes=$((crashes + 1))
        echo "CRASH (status $status): $file"
    fi
done < <(find "$@" -type f ! -name 'MANIFEST.md' -print0 | sort -z)
for key in "${!tally[@]}"; do printf '%8d  %s\n' "${tally[$key]}" "$key"; done | sort -rn
echo "$total files, $crashes crashes"
[[ $crashes -eq 0 ]]
