# One minute of the relay under churning honest clients and hostile ones (bench/bench_soak.cpp):
# slowloris, oversized frames, garbage, mailbox scraping and quota exhaustion. Honest clients
# keep syncing (no failure), lose nothing the relay acknowledged, scrapers get nothing, and the
# relay's memory stays under the bound. KOLOKOL_SOAK_SECONDS changes the length.
set -euo pipefail
: "${KOLOKOL_BUILD:?set KOLOKOL_BUILD to the build directory}"
soak="$KOLOKOL_BUILD/bench/bench_soak"
[ -x "$soak" ] || { echo "FAIL: $soak is not built" >&2; exit 1; }
bound=256
# The sanitizers' shadow memory and quarantine multiply the footprint.
grep -qs 'KOLOKOL_SANITIZE:BOOL=ON' "$KOLOKOL_BUILD/CMakeCache.txt" && bound=1536
grep -qs 'KOLOKOL_TSAN:BOOL=ON' "$KOLOKOL_BUILD/CMakeCache.txt" && bound=2048
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
"$soak" --seconds "${KOLOKOL_SOAK_SECONDS:-60}" --max-rss-mib "$bound" > "$out" || rc=$?
cat "$out"
[ "$rc" -eq 0 ] || { echo "FAIL: the soak failed (exit $rc)" >&2; exit 1; }
grep -q '"lost": 0' "$out" || { echo "FAIL: honest envelopes lost" >&2; exit 1; }
grep -q '"scrape_leaked": 0' "$out" || { echo "FAIL: a scraper received envelopes" >&2; exit 1; }
echo "ok: soak passed"
