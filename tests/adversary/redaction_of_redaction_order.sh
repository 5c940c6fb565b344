# A redaction of a redaction leaves the first one's content and envelope at a member who gets
# them in the other order (rows 26, 27).
# Fixed (§13.7): applied redactions are judged again both ways, with the full stands test,
# after every batch that changes control records, and a redaction of a redaction is deleted like
# any other target; the text below describes the break as it was.
# A redaction is a content record and can be redacted (`kolokol redact` refuses only control
# records, tombstones and chunks). Ingest does not wait for a reference that a redaction names
# (redaction_noted), so a member can apply Anna's redaction R1 of Boris's redaction R0 before R0
# itself — and R0 never comes to him from Anna, whose tombstone dropped its envelope. When R0
# comes later (from the relay), on_applied tombstones a noted target only if it is not itself a
# redaction (`!body.has_redaction()`): R0 is applied whole, its envelope (which holds the reason)
# kept and served to peers, while Anna and Boris hold a tombstone and no envelope.
# Boris posts a safe-house address by mistake and redacts it, naming it in the reason; Anna
# (admin) redacts his redaction, whose reason repeats the address. Carl, offline until now,
# gets Anna's sync file first, then syncs with the relay.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell (Debian: sqlcipher)"
# plain WHO — a plaintext export of WHO's store, as row 7 and row 30 check it.
plain() {
  local key
  key=$(adv home-secrets "$WORK/$1" "$WORK/$1.pass" - | awk '$1 == "database-key" {print $2}')
  rm -f "$WORK/$1.plain.db"
  sqlcipher "$WORK/$1/store.db" >/dev/null <<SQL
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
ATTACH DATABASE '$WORK/$1.plain.db' AS plaintext KEY '';
SELECT sqlcipher_export('plaintext');
DETACH DATABASE plaintext;
SQL
  [ -s "$WORK/$1.plain.db" ] || fail "could not export $1's store"
  echo "$WORK/$1.plain.db"
}
setup_group
new_member carl "Carl Offline"
invite anna carl
for r in 1 2; do for w in anna boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
P="Safe house: Lesnaya 14, flat 9, knock twice"
REASON="posted by mistake: LESNAYA-14-FLAT-9 must not be in the group"
as boris post "$G" "$P" >/dev/null
as boris sync >/dev/null 2>&1 || true
pid=$(as boris read "$G" --json | python3 -c '
import json, sys
print(next(m["id"] for m in json.load(sys.stdin) if "Lesnaya" in m.get("text", "")))')
as boris redact "$G" "${pid:0:16}" --reason "$REASON" >/dev/null || fail "Boris could not redact"
as boris sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
reads anna "$P" && fail "setup: Anna still shows the redacted post"
# A record row holds no id: it is its envelope's (seq = n) or, for a row kept without one, record_ids'.
RID="coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n))"
r0=$(sqlite3 "$(plain anna)" "SELECT hex($RID) FROM records r WHERE kind = 5" | head -1 | tr 'A-F' 'a-f')
[ -n "$r0" ] || fail "setup: no redaction record at Anna"
echo "Boris's redaction: ${r0:0:16}"
as anna redact "$G" "${r0:0:16}" --reason "the reason repeats the address" >/dev/null ||
  fail "Anna could not redact Boris's redaction"
as anna sync --to-file "$WORK/anna.sync" >/dev/null || fail "no sync file from Anna"
grep -c LESNAYA "$(plain anna)" >/dev/null && fail "setup: Anna's own store keeps the reason"
as carl sync --from-file "$WORK/anna.sync" >/dev/null 2>&1 || fail "Carl could not import Anna's file"
for r in 1 2; do for w in anna boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris carl; do
  f=$(plain $w)
  k=$(sqlite3 "$f" "SELECT kind FROM records r WHERE hex($RID) = upper('$r0')") || fail "cannot read $w's records"
  b=$(sqlite3 "$f" "SELECT length(signed) FROM records r WHERE hex($RID) = upper('$r0')") || fail "cannot read $w's records"
  e=$(sqlite3 "$f" "SELECT count(*) FROM envelopes WHERE hex(id) = upper('$r0')") || fail "cannot read $w's envelopes"
  [ -n "$k" ] || problem "$w holds no row for Boris's redaction"
  echo "$w: Boris's redaction stored as kind ${k:-?} (5 redaction, 9 tombstone), body ${b:-?} bytes, envelope held: ${e:-?}"
  [ "$k" = 9 ] || problem "row 27/26: $w keeps Boris's redaction whole (kind $k, $b bytes), which Anna redacted; Anna and Boris hold a tombstone"
  [ "$e" = 0 ] || problem "row 27: $w keeps and serves the envelope of Boris's redaction, which Anna redacted"
done
finish
