# A member's crafted ingest batch (rows 2, 5): a large batch is opened on every core and its
# signatures are checked on worker threads while the main thread applies records, so a record
# must be refused there exactly as one by one. Boris, a member, writes 200 records that every
# member must refuse, each on the group's current heads: the creator's name on a signature by
# another key, a body naming another group, or another epoch, than the key it is sealed under,
# and a stranger's own record (kolokol-adversary forge-batch) — followed in the same chunk by
# the 60 posts Anna wrote since Carol last synced, which Boris holds. Carol reads the file once
# as one chunk (one batch of about 260: the parallel path) and, in a copy of her home, one record
# a chunk (batches of 1: the sequential path). Both must refuse the same 200 for the same
# reasons, take Anna's 60 posts, and show the same messages, none of them forged.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
G="Legal support"
new_member anna Anna; new_member boris Boris; new_member carol Carol
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as carol group join "$(as anna group add "$G" "$(card_of carol)" 2>/dev/null)" >/dev/null
as anna post "$G" "the meeting is at six" --no-send >/dev/null 2>&1
as anna sync --to-file "$WORK/a.sync" >/dev/null
as boris sync --from-file "$WORK/a.sync" >/dev/null
as carol sync --from-file "$WORK/a.sync" >/dev/null
for n in $(seq 1 60); do as anna post "$G" "post $n" --no-send >/dev/null 2>&1; done
as anna sync --to-file "$WORK/b.sync" >/dev/null
as boris sync --from-file "$WORK/b.sync" >/dev/null
adv forge-batch "$WORK/boris" "$WORK/boris.pass" "$G" "$WORK/batch.sync" 200
adv forge-batch "$WORK/boris" "$WORK/boris.pass" "$G" "$WORK/split.sync" 200 --split
cp -a "$WORK/carol" "$WORK/carol2"; cp "$WORK/carol.pass" "$WORK/carol2.pass"
as carol sync --from-file "$WORK/batch.sync" | tee "$WORK/batch.out"
as carol2 sync --from-file "$WORK/split.sync" | tee "$WORK/split.out"
reasons() {
  as "$1" rejected --json --limit 100000 | python3 -c '
import collections, json, sys
j = json.load(sys.stdin)
rows = j if isinstance(j, list) else j.get("rejected", j.get("records", []))
c = collections.Counter(r.get("reason") for r in rows)
print(" ".join(f"{k}={v}" for k, v in sorted(c.items())))'
}
big=$(reasons carol); one=$(reasons carol2)
echo "one batch: $big"
echo "one by one: $one"
[ "$big" = "$one" ] || fail "the large batch refused other records or for other reasons than one by one"
total=$(tr ' ' '\n' <<<"$big" | sed -n 's/.*=//p' | paste -sd+ | bc)
[ "$total" -eq 200 ] || fail "$total records refused, not 200: $big"
for w in carol carol2; do
  got=$(as $w read "$G" --limit 500)
  ! grep -q "forged" <<<"$got" || fail "$w shows a forged record: $(grep forged <<<"$got" | head -3)"
  for n in 1 37 60; do grep -q "post $n\$" <<<"$got" || fail "$w lacks Anna's post $n: $got"; done
done
[ "$(as carol read "$G" --limit 500)" = "$(as carol2 read "$G" --limit 500)" ] \
  || fail "the large batch and one by one show different messages"
echo "200 forged records among 60 genuine ones: refused in one batch as one by one; none shown"
