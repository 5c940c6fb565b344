# No numbered row of SECURITY.md promises a member's CPU; this measures what the change to
# dropped_held costs (docs/design.md §5.4 "Content records").
# Records kept as `removed_author` (dropped_held) are judged again in full after every ingest
# batch that changed a control record, and after the first batch of every process (docs/design.md
# §5.4, §7.9). Judging one walks the removed author's chain back from the removal's cutoff to
# the record's seq, one store lookup a link. A removed member's copy of his home from before
# a long run of his posts writes many records at low seq: each costs a walk of that length, and
# that is paid again by every later `sync` that receives anything, for as long as they are kept.
# Anna (admin), Boris (member) and Ivan share a group through a real relay. Ivan's home is copied;
# Ivan then posts L lines (his chain is L records longer); Anna removes him (cutoff at his
# last post); Boris syncs. The copy posts M lines (--no-send, unaware of the removal) and syncs:
# Boris refuses and keeps them. Then Anna posts one message at a time and Boris syncs each:
# every such sync costs M·L/2 lookups more than before. Exits 1 when a sync that receives one
# post takes more than 10 times (and 5 s more than) what it took before the copy's records.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
L=${KOLOKOL_REJUDGE_L:-4000}
M=${KOLOKOL_REJUDGE_M:-4000}
secs() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }

setup_group
new_member ivan "Ivan Member"
invite anna ivan
for w in anna boris ivan; do as $w sync >/dev/null 2>&1 || true; done
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
seq "$L" | sed 's/^/Ivan: line /' | as ivan post --each-line --no-send "$G" >/dev/null || fail "Ivan could not post"
as ivan sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
out=$(as anna group remove "$G" "Ivan Member" 2>&1) || fail "Anna could not remove Ivan: $out"; echo "$out"
as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as boris group members "$G" | grep -q "Ivan Member" && fail "setup: Ivan is still a member at Boris: $(as boris group members "$G")"

base=0
for i in 1 2; do
  as anna post "$G" "Anna: before the flood $i" >/dev/null 2>&1 || true
  t=$(secs as boris sync); echo "Boris's sync receiving one post, before: ${t} ms"; base=$(( base > t ? base : t ))
done

t0=$(date +%s)
seq "$M" | sed 's/^/Ivan copy: line /' | as ivan_before post --each-line --no-send "$G" >/dev/null ||
  fail "the copy could not post"
as ivan_before sync >/dev/null 2>&1 || true
t=$(secs as boris sync); echo "Boris's sync taking the copy's $M records: ${t} ms"
rej=$(as boris rejected 2>&1 | head -1 || true); echo "Boris: $rej"
reads boris "Ivan copy: line 1" && fail "setup: Boris shows the copy's post"

worst=0
for i in 1 2 3; do
  as anna post "$G" "Anna: after the flood $i" >/dev/null 2>&1 || true
  t=$(secs as boris sync); echo "Boris's sync receiving one post, after: ${t} ms"; worst=$(( worst > t ? worst : t ))
done
reads boris "Anna: after the flood 3" || echo "(Boris lacks Anna's last post)"
[ "$worst" -gt $(( base * 10 )) ] && [ "$worst" -gt $(( base + 5000 )) ] &&
  problem "every sync of Boris that receives one post takes ${worst} ms instead of ${base} ms, for as long as the removed member's $M records are kept"
finish
