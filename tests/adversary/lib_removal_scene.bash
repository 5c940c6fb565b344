# Shared by refused_post_not_restored.sh and refused_post_quota_full.sh (sourced after
# lib_adversary.bash): quorum 2; admins Anna, Boris, Clara (seized); members Mila, Nina, Xavier;
# a real relay. Xavier writes a post (--no-send); Boris proposes removing Xavier; Anna sends the
# burn notice for Clara and Boris approves it without syncing; the seized copy of Clara approves
# the removal, and Mila syncs while it stands. removal_scene plays it; members_of and pending_id
# read the members and the waiting proposals.
source "$(dirname "${BASH_SOURCE[0]}")/lib_tokens.bash"
members_of() {
  as "$1" group members "$G" --json |
    python3 -c 'import json,sys; print(";".join(sorted(m["name"] + (" admin" if m["admin"] else "") for m in json.load(sys.stdin))))'
}
pending_id() {  # pending_id WHO burn|remove|add — first 8 hex digits of a waiting proposal
  as "$1" group pending "$G" --json | python3 -c '
import json,sys
want = sys.argv[1]
for p in json.load(sys.stdin):
    if (want == "burn") == bool(p.get("compromised")) and (want == "burn" or p["kind"] == want):
        print(p["id"][:8]); break' "$2"
}
removal_scene() {
  start_relay
  new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Seized"
  new_member mila "Mila Member"; new_member nina "Nina Member"; new_member xavier "Xavier Member"
  as anna group create "$G" >/dev/null
  as anna group relay add "$G" "$RELAY" >/dev/null
  for w in boris clara; do
    as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null
  done
  for w in mila nina xavier; do invite anna $w; done
  as anna group quorum "$G" 2 >/dev/null 2>&1
  for r in 1 2; do for w in anna boris clara mila nina xavier; do as $w sync >/dev/null 2>&1 || true; done; done
  [ "$(as nina group quorum "$G" 2>&1 | grep -o '[0-9]\+' | head -1)" = 2 ] || fail "setup: quorum is not 2 at Nina"
  cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"
  as xavier post --no-send "$G" "Xavier was here" >/dev/null || fail "Xavier could not post"
  as boris group remove "$G" "Xavier Member" >/dev/null 2>&1 || fail "Boris could not propose removing Xavier"
  as boris sync >/dev/null 2>&1 || true
  out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "Anna's notice: $out"
  echo "anna: $out"
  as anna sync >/dev/null 2>&1 || true
  as boris sync >/dev/null 2>&1 || true
  echo "boris: $(as boris group approve "$G" "$(pending_id boris burn)" 2>&1 | head -1)"
  # Boris does not sync yet. The seized copy approves the removal of Xavier.
  as seized sync >/dev/null 2>&1 || true
  echo "seized: $(as seized group approve "$G" "$(pending_id seized remove)" 2>&1 | head -1)"
  as seized sync >/dev/null 2>&1 || true
  as mila sync >/dev/null 2>&1 || true
  echo "mila after the seized approval: $(members_of mila)"
}
