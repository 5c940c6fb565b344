# A copy of a member's home writes a key update that names a key the member made before
# (docs/design.md §5.13; SECURITY.md row 75).
# Anna (admin) and Boris share a group through a real relay. Boris runs `kolokol rekey` (key K1)
# and Anna's sync rotates; his home is then copied ("seized", passphrase known): the copy holds
# K1's secret. The copy signs with Boris's key a key update one step further along his chain,
# on his newest key update alone, naming K1 again (an ordinary record: Ed25519 under
# kolokol/record/v1, sealed with the control key of an epoch the copy holds) and pushes it to
# the relay. Boris keeps K1's row in box_keys (kept "so that a key update naming it is known as
# this device's own"), and K1's hash is among the keys he made: neither check sees a stranger.
#  Part 1: Boris rekeys (K2); the copy answers before an admin rotates, naming K1 again; then an
#   explicit `group rotate`: the copy must not read what Anna writes after it.
#  Part 2: Boris rekeys (K3), Anna rotates, Boris takes the grant and erases K1 and K2. The copy
#   answers again: Boris must go on reading, and be warned.
# Promises (row 75): a copy taken before the key update opens nothing written after the
# rotation that follows it; a key update signed with the member's key that this device did not
# make makes his `sync` and `doctor` warn. The fold voids a key update naming a key its author
# named before, and Boris's client reports it (this device never names a key twice).
# The copy's record is made by `kolokol-adversary forge-key-update` (the project's own sealing,
# with the copy's passphrase) and stored in the copy's home, whose next sync sends it.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"

setup_group
as anna post "$G" "Anna: before the copy" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as boris rekey >/dev/null || fail "Boris's first rekey failed"
as boris sync >/dev/null
err=$(as anna sync 2>&1 >/dev/null) || true
grep -q "a member replaced their key" <<<"$err" || fail "setup: Anna did not rotate for K1"
as boris sync >/dev/null
cp -a "$WORK/boris" "$WORK/seized"; cp "$WORK/boris.pass" "$WORK/seized.pass"

# forge_old_key — as the copy: sign with Boris's key a key update one past the newest on his
# chain, on that record alone (so concurrent with any later rotation), naming the newest
# per-group key the copy holds the secret of (K1); the copy's sync pushes it to the relay.
forge_old_key() {
  as seized sync >/dev/null 2>&1 || true
  local out
  out=$(adv forge-key-update "$WORK/seized" "$WORK/seized.pass" "$G") ||
    fail "setup: the copy could not write its key update"
  id=$(awk '$1=="record"{print $2}' <<<"$out")
  [ ${#id} = 64 ] || fail "setup: forge-key-update printed no record id: $out"
  echo "the copy's key update $id (seq $(awk '$1=="seq"{print $2}' <<<"$out")) names K1 = $(awk '$1=="box-key"{print $2}' <<<"$out")"
  as seized sync >/dev/null 2>&1 || true
}

# holds_record WHO ID — WHO's audit lists the control record ID. (The audit is read whole before
# it is searched: `grep -q` on the pipe ends at the first match, and under pipefail the audit's
# next write then fails with SIGPIPE and the check with it.)
holds_record() {
  local audit
  audit=$(as "$1" group audit "$G" --json) || return 1
  grep -q "\"$2\"" <<<"$audit"
}

no_warning() {
  local berr doc
  berr=$(as boris sync 2>&1 >/dev/null) || true
  grep -q "did not make" <<<"$berr" ||
    problem "$1: Boris's sync does not warn of the key update signed with his key that his device did not make"
  doc=$(as boris doctor 2>&1) || true
  grep -q "did not make" <<<"$doc" || problem "$1: Boris's doctor does not warn either"
}

# Part 1: the copy answers Boris's key update K2 before an admin rotates for it.
as boris rekey >/dev/null || fail "Boris's second rekey failed"
as boris sync >/dev/null
forge_old_key
err=$(as anna sync 2>&1 >/dev/null) || true
holds_record anna "$id" || { echo "$err"; as anna group audit "$G"; fail "Anna does not hold the copy's key update"; }
grep -q "a member replaced their key" <<<"$err" ||
  echo "Anna's sync did not rotate: the fold gives Boris K1 again, the key of the current epoch's grant"
as anna group rotate "$G" >/dev/null 2>&1 || fail "Anna's group rotate failed"
as anna post "$G" "Anna: after the key update and a rotation" >/dev/null
as anna sync >/dev/null 2>&1 || true
as seized sync >/dev/null 2>&1 || true; as seized sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
reads boris "Anna: after the key update and a rotation" && echo "Boris reads it (the grant sealed to K1 opens for him too)"
reads seized "Anna: after the key update and a rotation" &&
  problem "part 1: the copy taken before Boris's key update K2 reads what Anna wrote after K2 and a rotation"
no_warning "part 1"

# Part 2: Boris rekeys again (K3), the rotation for it comes and he erases K1 and K2; only then
# does the copy answer, naming K1 again. Anna's next sync rotates ("a member replaced their key")
# with Boris's grant sealed to K1.
as boris rekey >/dev/null || fail "Boris's third rekey failed"
as boris sync >/dev/null
err=$(as anna sync 2>&1 >/dev/null) || true
grep -q "a member replaced their key" <<<"$err" || fail "setup: Anna did not rotate for K3"
as boris sync >/dev/null 2>&1 || true
as anna post "$G" "Anna: after K3 and its rotation" >/dev/null
as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
reads boris "Anna: after K3 and its rotation" || fail "setup: Boris does not read Anna's post after K3"
as seized sync >/dev/null 2>&1 || true
reads seized "Anna: after K3 and its rotation" && fail "setup: the copy reads the post after K3's rotation"
forge_old_key
err=$(as anna sync 2>&1 >/dev/null) || true
echo "Anna's sync: $err"
as anna post "$G" "Anna: after the copy's key update" >/dev/null
as anna sync >/dev/null 2>&1 || true
as seized sync >/dev/null 2>&1 || true; as seized sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
reads boris "Anna: after the copy's key update" || echo "Boris no longer reads what Anna writes (his grant is sealed to K1, which he erased)"
reads seized "Anna: after the copy's key update" &&
  problem "part 2: the copy reads what Anna wrote after the rotation that the copy's key update (naming K1) made her write"
no_warning "part 2"
finish
