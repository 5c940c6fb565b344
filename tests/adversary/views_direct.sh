# Views compared in a direct session (SECURITY.md row 76, docs/design.md §5.12). Anna (admin)
# and Boris share a group through a real relay; Anna renames the group. Boris then syncs
# directly with Anna's `serve`: once the session exchanged everything, each side's store says
# what it holds of the group (the digest and count of its valid control records, signed, and
# sealed under the epoch's control key) and compares the other's with its own. First the honest
# case: both audits show the same view, and nothing is warned. Then Boris's store refuses what
# Anna's holds: with his passphrase the attacker deletes the rename from his store (a store that
# dropped a record the others applied, as a copy tampered with or an old version would). The
# envelope stays, so syncing brings nothing new; the views can no longer be reconciled, and
# only the comparison can tell: Boris's `sync` warns, and both audits show the difference. The
# relay, which cannot read what a view says, is never sent one.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell (Debian: sqlcipher)"

setup_group
digest_of() { as "$1" group audit "$G" --json | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["digest_hex"], a["valid"])'; }
[ "$(digest_of anna)" = "$(digest_of boris)" ] || fail "setup: Anna and Boris hold different views"

serve_anna() {
  local port
  port=$(pick_port)
  : > "$WORK/serve.out"
  ( as_bg anna serve --listen "127.0.0.1:$port" > "$WORK/serve.out" 2>"$WORK/serve.err" ) &
  SERVE_PID=$!
  CLEANUP_PIDS+=("$SERVE_PID")
  for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
  ANNA=$(head -1 "$WORK/serve.out")
  [[ "$ANNA" == kolokol://* ]] || fail "serve did not start: $(cat "$WORK/serve.err")"
}
stop_anna() { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null || true; }
compared() { # compared WHO PEER-NAME — WHO's audit: "same", "different" or "none" for PEER-NAME
  as "$1" group audit "$G" --json | python3 -c '
import json, sys
c = [x for x in json.load(sys.stdin).get("compared", []) if x["name"] == sys.argv[1]]
print("none" if not c else ("same" if c[0]["same"] else "different"))' "$2"
}

# The honest case. Anna's serve is running when she sets the retention from another command:
# what the serve compares is what her store holds, not what it held when it started.
serve_anna
as anna group retention "$G" 30d >/dev/null || fail "setup: Anna could not set the retention"
err=$(as boris sync --group "$G" "$ANNA" 2>&1 >/dev/null) || fail "Boris's direct sync failed: $err"
grep -q "views of the group still differ" <<<"$err" && problem "a direct sync of equal views warned: $err"
stop_anna
[ "$(compared boris "Anna Petrova")" = same ] ||
  problem "Boris's audit does not show his view compared with Anna's as the same: $(compared boris "Anna Petrova")"
[ "$(compared anna "Boris Ivanov")" = same ] ||
  problem "Anna's audit does not show her view compared with Boris's as the same: $(compared anna "Boris Ivanov")"
# A relay is a peer too, and was synced with above: nobody compared views with it.
[ "$(as boris group audit "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["compared"]))')" = 1 ] ||
  problem "Boris's audit lists comparisons with someone other than Anna"

# A member's serve listed as one of the group's relays is a relay to the others: they never
# offer it views, so nothing is compared there.
serve_anna
as anna group relay add "$G" "$ANNA" >/dev/null || fail "Anna could not list her serve as a relay"
as anna sync "$RELAY" >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
relays=$(as boris group relay list "$G" 2>/dev/null) || true
grep -qF "$ANNA" <<<"$relays" || fail "setup: Boris does not list Anna's serve as a relay: $relays"
before=$(as boris group audit "$G" --json | python3 -c 'import json,sys; print([c["at_ms"] for c in json.load(sys.stdin)["compared"]])')
as boris sync >/dev/null 2>&1 || true
after=$(as boris group audit "$G" --json | python3 -c 'import json,sys; print([c["at_ms"] for c in json.load(sys.stdin)["compared"]])')
stop_anna
[ "$before" = "$after" ] || problem "a sync with a listed relay compared views ($before, then $after)"

# Boris's store drops the retention record (kind 4, settings) that Anna's holds.
key=$(adv home-secrets "$WORK/boris" "$WORK/boris.pass" - | awk '$1 == "database-key" {print $2}')
[ -n "$key" ] || fail "no database key from Boris's home"
sqlcipher "$WORK/boris/store.db" >/dev/null <<SQL || fail "sqlcipher could not edit Boris's store"
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
CREATE TEMP TABLE gone AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind = 4 ORDER BY lamport DESC LIMIT 1;
DELETE FROM heads WHERE id IN (SELECT id FROM gone);
DELETE FROM records WHERE n IN (SELECT n FROM gone);
SQL
[ "$(digest_of anna)" != "$(digest_of boris)" ] || fail "setup: Boris's view did not change"
# A sync through the relay brings nothing new and says nothing: only a comparison can tell.
err=$(as boris sync 2>&1 >/dev/null) || true
grep -q "views of the group still differ" <<<"$err" && fail "setup: a relay sync compared views: $err"

serve_anna
err=$(as boris sync --group "$G" "$ANNA" 2>&1 >/dev/null) || true
stop_anna
echo "Boris's direct sync after the drop: $err"
grep -q "views of the group still differ" <<<"$err" ||
  problem "Boris's direct sync with Anna does not warn that their views differ"
[ "$(compared boris "Anna Petrova")" = different ] ||
  problem "Boris's audit does not show his view as different from Anna's: $(compared boris "Anna Petrova")"
[ "$(compared anna "Boris Ivanov")" = different ] ||
  problem "Anna's audit does not show her view as different from Boris's: $(compared anna "Boris Ivanov")"
audit=$(as boris group audit "$G" 2>/dev/null) || true
grep -q "DIFFERENT view" <<<"$audit" ||
  problem "Boris's audit text does not say the view differs"

finish
