# Shared by the attack scripts in tests/adversary/ (sourced after tests/integration/lib.bash).
: "${KOLOKOL_ADVERSARY:?set KOLOKOL_ADVERSARY to the kolokol-adversary binary}"
adv() { "$KOLOKOL_ADVERSARY" "$@"; }
"$KOLOKOL_ADVERSARY" version >/dev/null || fail "kolokol-adversary does not run"
