# A removed member keeps the old epochs' file keys, so they can still make sync files the group
# opens. Filled with 100 MiB of junk — envelopes for random mailboxes, noise in the old epochs'
# own mailboxes (also as 16 MiB of the smallest envelopes), or records by strangers that wait
# forever for a reference nobody has — such a file must grow a member's store by no more than the unverified quota, say what it refused
# (exit 14), and leave everything else working: the late joiner still keeps what it cannot
# read, and later messages still arrive.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

MIB=100
QUOTA_MIB=64  # the default unverified quota
# What a store may grow by: the quota, and the list of rejected records (at most 10,000 notes).
LIMIT=$(( (QUOTA_MIB + 2) << 20 ))
G="Prisoner support"
size_of() { du -sb "$WORK/$1" | cut -f1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member clara "Clara Smirnova"
as anna group create "$G" >/dev/null
as anna post "$G" "written before Clara came"
token=$(as anna group add "$G" "$(card_of boris)" --with-history 2>/dev/null)
as boris group join "$token" >/dev/null
token=$(as anna group add "$G" "$(card_of clara)" 2>/dev/null)  # no history: she gets control keys only
as clara group join "$token" >/dev/null
as anna sync --to-file "$WORK/all.sync" >/dev/null
as boris sync --from-file "$WORK/all.sync" >/dev/null
out=$(as clara sync --from-file "$WORK/all.sync")
grep -q "[1-9][0-9]* not readable by you" <<<"$out" || fail "clara kept nothing unopened: $out"
# Boris is removed; the group rotates. He keeps the file keys of the epochs he was in.
as anna group remove "$G" "Boris Ivanov" >/dev/null
as anna post "$G" "after the removal"
as anna sync --to-file "$WORK/all.sync" >/dev/null
as clara sync --from-file "$WORK/all.sync" >/dev/null
grep -q "after the removal" <<<"$(as clara read "$G")" || fail "clara did not get the later message"
[ "$(as clara settings --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["unverified-quota"]["quota"])')" \
  = $((QUOTA_MIB << 20)) ] || fail "the default quota is not $QUOTA_MIB MiB"

# Tiny envelopes (73 bytes) make the per-envelope costs count: 16 MiB of them is 230,000.
declare -A refused=([anna]=0 [clara]=0) start=([anna]=$(size_of anna) [clara]=$(size_of clara))
for spec in foreign:$MIB unopenable:$MIB tiny:16 waiting:$MIB; do
  kind=${spec%:*} mib=${spec#*:}
  adv junk-sync-file "$WORK/boris" "$WORK/boris.pass" "$WORK/junk-$kind.sync" "$mib" "$kind" >/dev/null
  file=$(stat -c %s "$WORK/junk-$kind.sync")
  [ "$file" -ge $((mib << 20)) ] || fail "the junk file is only $file bytes"
  for who in anna clara; do
    before=$(size_of "$who")
    rc=0; out=$(as "$who" sync --from-file "$WORK/junk-$kind.sync" 2>&1) || rc=$?
    after=$(size_of "$who")
    grew=$((after - before))
    echo "$kind → $who: home $(mib "$before") → $(mib "$after") (+$(mib "$grew")) from a $(mib "$file") file; exit $rc"
    [ "$grew" -le $LIMIT ] || fail "$kind junk grew $who's store by $(mib "$grew")"
    case "$rc" in
      0) ;;
      14) grep -q "unverified quota (64 MiB) is full" <<<"$out" || fail "$who's refusal does not say why: $out"
          refused[$who]=1 ;;
      *) fail "$who: exit $rc for $kind junk: $out" ;;
    esac
    # Anna holds every key of the epochs Boris knows: noise does not open and is not kept.
    if [ "$who" = anna ] && [ "$kind" != waiting ]; then
      [ "$grew" -le $((2 << 20)) ] || fail "anna kept $(mib "$grew") of $kind junk"
    fi
    if [ "$kind" = foreign ]; then
      [ "$rc" -eq 0 ] && grep -q "Dropped [0-9]* envelopes that no member writes" <<<"$out" \
        || fail "$who did not drop the envelopes for random mailboxes: $out"
      [ "$grew" -le $((2 << 20)) ] || fail "$who kept $(mib "$grew") of envelopes for random mailboxes"
    fi
  done
  rm -f "$WORK/junk-$kind.sync"
done
# The waiting records (and, for Clara, the noise in her control-only epoch) filled each quota,
# and both were told; over all four files neither store grew by more than the quota.
for who in anna clara; do
  [ "${refused[$who]}" = 1 ] || fail "$who never reached the quota: the junk was too small to show it"
  grew=$(( $(size_of "$who") - ${start[$who]} ))
  echo "$who: +$(mib "$grew") from 316 MiB of junk files"
  [ "$grew" -le $LIMIT ] || fail "all the junk grew $who's store by $(mib "$grew")"
done
total=$(( $(size_of clara) ))
grep -q "^unverified-quota 64 MiB" <<<"$(as clara settings)" || fail "settings do not show the quota"

# Everything else still works: a later message arrives and is read. (Anna's file carries the
# junk she kept within her own quota; Clara's is full, so she may refuse it again: exit 14.)
as anna post "$G" "still here after the junk"
as anna sync --to-file "$WORK/later.sync" >/dev/null
rc=0; as clara sync --from-file "$WORK/later.sync" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 14 ] || fail "clara's next sync failed: exit $rc"
grep -q "still here after the junk" <<<"$(as clara read "$G")" || fail "clara lost later messages"
# Lowering the quota drops what it no longer holds room for: 0 clears every unverified envelope.
as clara settings set unverified-quota 0 >/dev/null
[ "$(as clara settings --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["unverified-quota"]["bytes"])')" = 0 ] \
  || fail "quota 0 left unverified envelopes behind"
echo "clara after quota 0: $(mib "$(size_of clara)")"
as clara settings set unverified-quota 64MiB >/dev/null
grep -q "still here after the junk" <<<"$(as clara read "$G")" || fail "clearing the junk lost messages"
echo "junk_sync_file: 100 MiB junk files grew each store by at most the quota (clara ends at $(mib "$total"))"
