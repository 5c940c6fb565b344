# A member's store copied, then a key update (docs/design.md §5.13, SECURITY.md "Key updates").
# Anna (admin) and Boris share a group through a real relay. Boris's home is copied ("seized",
# passphrase known). Boris runs `kolokol rekey`; Anna's sync rotates (a member replaced their
# key) and she posts. Promises: the seized copy syncs from the relay and reads none of Anna's
# posts after the rotation, though it holds every envelope; Boris reads them. Then a copy taken
# later, holding Boris's signing key, writes a key update of its own: Boris's next sync warns
# that a key update he did not make is signed with his key and tells him to ask for a burn
# notice, and so does `doctor`.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"

setup_group
as anna post "$G" "Anna: before the copy" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
reads boris "Anna: before the copy" || fail "setup: Boris lacks Anna's first post"
cp -a "$WORK/boris" "$WORK/seized"; cp "$WORK/boris.pass" "$WORK/seized.pass"
reads seized "Anna: before the copy" || fail "setup: the copy lacks Anna's first post"

out=$(as boris rekey) || fail "rekey failed: $out"
echo "$out"
grep -q "Wrote a key update in \"$G\"" <<<"$out" || problem "rekey does not say what it did"
as boris sync >/dev/null
err=$(as anna sync 2>&1 >/dev/null) || true
echo "$err"
grep -q "a member replaced their key" <<<"$err" || problem "Anna's sync did not rotate for Boris's new key"
as anna group audit "$G" | grep -q "replace their encryption key  signed by Boris" ||
  problem "Anna's group audit does not show Boris's key update: $(as anna group audit "$G")"
as anna post "$G" "Anna: after the rotation" >/dev/null
as anna sync >/dev/null

as boris sync >/dev/null
reads boris "Anna: after the rotation" || problem "Boris does not read Anna's post after the rotation"
as seized sync >/dev/null 2>&1 || true
as seized sync >/dev/null 2>&1 || true
reads seized "Anna: before the copy" || problem "the copy lost what it held"
reads seized "Anna: after the rotation" && problem "the seized copy reads Anna's post after the rotation"

# Boris has made no key update anyone else made: no warning yet.
err=$(as boris sync 2>&1 >/dev/null) || true
grep -q "did not make" <<<"$err" && problem "Boris is warned before anyone else used his key"

# The old copy cannot write at all now (it holds no key of the current epoch). A copy taken
# now writes its own key update, signed with Boris's key.
out=$(as seized rekey "$G" 2>&1) && problem "the old copy wrote a key update after the rotation: $out"
cp -a "$WORK/boris" "$WORK/seized2"; cp "$WORK/boris.pass" "$WORK/seized2.pass"
as seized2 rekey "$G" >/dev/null || fail "the second copy could not write a key update"
as seized2 sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
err=$(as boris sync 2>&1 >/dev/null) || true
echo "$err"
grep -q "key update signed with your key that this device did not make" <<<"$err" ||
  problem "Boris's sync does not warn of the key update made with his key elsewhere"
grep -q "burn notice" <<<"$err" || problem "the warning does not say to ask for a burn notice"
doc=$(as boris doctor 2>&1) || true
grep -q "did not make" <<<"$doc" || problem "doctor does not report the key update made elsewhere"

# The group's rekey interval: a member's sync writes a key update once it has passed (Anna's
# clock moved two days on through kolokol-testhooks), not before. (Boris holds no key of the
# current epoch any more: the copy's key update took his grant.)
if [ -x "${KOLOKOL_TESTHOOKS:-}" ]; then
  out=$(as anna group rekey-interval "$G" 1d) || problem "Anna could not set the rekey interval: $out"
  grep -q "every 1 day" <<<"$out" || problem "rekey-interval does not say the interval: $out"
  err=$(as anna sync 2>&1 >/dev/null) || true
  grep -q "wrote a key update" <<<"$err" && problem "Anna rekeyed before the interval passed"
  err=$(KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" \
    KOLOKOL_FAKE_NOW_MS=$(( $(date +%s%3N) + 2 * 86400000 )) "$KOLOKOL_TESTHOOKS" sync 2>&1 >/dev/null) || true
  echo "$err"
  grep -q "wrote a key update in \"$G\"" <<<"$err" || problem "Anna's sync did not rekey after the interval"
  as anna group audit "$G" | grep -q "have members replace their keys every 24 hours" ||
    problem "Anna's group audit does not show the rekey interval"
  expect_exit 8 boris group rekey-interval "$G" 1d
fi
finish
