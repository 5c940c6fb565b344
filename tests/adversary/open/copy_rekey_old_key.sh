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
# Needs sqlcipher (to put the forged envelope into the copy's store, with the database key
# `kolokol-adversary home-secrets` prints), protoc (with the tree's proto/) and
# python3-cryptography; the record is made by the Python below (XChaCha20-Poly1305 as §7.2).
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
export KOLOKOL_PROTO_DIR="$(cd "$(dirname "$0")/../../../proto" && pwd)"
FORGE="$WORK/forge_key_update.py"
cat > "$FORGE" <<'PYEOF'
#!/usr/bin/env python3
"""Signs and seals one KeyUpdate record as a member whose identity seed is known (a copy of
the member's home): forge_key_update.py SEED GROUP EPOCH SEQ PREV_ID PREV_EPOCH LAMPORT
PARENTS(id:epoch,...) CONTROL_HEADS(id,...) BOX_KEY CONTROL_KEY MAILBOX -> envelope hex."""
import hashlib, os, struct, subprocess, sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 7)
def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    s += list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', nonce16))
    for _ in range(10):
        qr(s, 0, 4, 8, 12); qr(s, 1, 5, 9, 13); qr(s, 2, 6, 10, 14); qr(s, 3, 7, 11, 15)
        qr(s, 0, 5, 10, 15); qr(s, 1, 6, 11, 12); qr(s, 2, 7, 8, 13); qr(s, 3, 4, 9, 14)
    return struct.pack('<8I', *(s[0:4] + s[12:16]))
def xseal(key, nonce, ad, pt):
    sub = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(sub).encrypt(b'\0\0\0\0' + nonce[16:], pt, ad)
def esc(b): return '"' + ''.join('\\x%02x' % x for x in b) + '"'
def encode(msg, text):
    return subprocess.run(['protoc', '-I', os.environ['KOLOKOL_PROTO_DIR'], '--encode=kolokol.pb.' + msg,
                           'record.proto'], input=text.encode(), capture_output=True,
                          check=True).stdout

(seed, group, epoch, seq, prev_id, prev_epoch, lamport, parents, heads, box_key, control_key,
 mailbox) = sys.argv[1:13]
h = bytes.fromhex
sk = Ed25519PrivateKey.from_private_bytes(h(seed))
author = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
t = f'group_id: {esc(h(group))}\nepoch_id: {esc(h(epoch))}\nauthor: {esc(author)}\nseq: {seq}\n'
if prev_id:
    t += f'prev {{ id: {esc(h(prev_id))} epoch_id: {esc(h(prev_epoch))} }}\n'
t += f'lamport: {lamport}\n'
for p in filter(None, parents.split(',')):
    i, e = p.split(':')
    t += f'parents {{ id: {esc(h(i))} epoch_id: {esc(h(e))} }}\n'
for c in filter(None, heads.split(',')):
    t += f'control_heads: {esc(h(c))}\n'
t += f'wall_clock_ms: {int(time.time() * 1000)}\n'
t += f'key_update {{ box_key: {esc(h(box_key))} }}\n'
body = encode('RecordBody', t)
sig = sk.sign(b'kolokol/record/v1\0' + body)
signed = encode('SignedRecord', f'body: {esc(body)}\nsignature: {esc(sig)}\n')
nonce = os.urandom(24)
head = b'\x01' + h(mailbox)
env = head + nonce + xseal(h(control_key), nonce, head, signed)
print(env.hex())
print(hashlib.blake2b(env, digest_size=32).hexdigest(), file=sys.stderr)
PYEOF
for t in sqlcipher protoc python3; do command -v $t >/dev/null || fail "needs $t"; done

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
# per-group key the copy holds the secret of (K1), push it to the relay, and take it back.
forge_old_key() {
  as seized sync >/dev/null 2>&1 || true
  # What the copy's store gives: keys, and the newest key update on Boris's chain.
  sec=$(adv home-secrets "$WORK/seized" "$WORK/seized.pass" -)
  dbkey=$(awk '$1=="database-key"{print $2}' <<<"$sec")
  seed=$(awk '$1=="identity-seed"{print $2}' <<<"$sec")
  me=$(python3 -c 'import sys; from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey as K; from cryptography.hazmat.primitives.serialization import Encoding as E, PublicFormat as P; print(K.from_private_bytes(bytes.fromhex(sys.argv[1])).public_key().public_bytes(E.Raw, P.Raw).hex().upper())' "$seed")
  sq() { sqlcipher "$WORK/seized/store.db" "PRAGMA key = \"x'$dbkey'\"; PRAGMA cipher_page_size = 4096; $1" | { grep -v '^ok$' || true; }; }
  IFS='|' read -r ku_id ku_epoch ku_seq gid < <(sq "SELECT hex(id), hex(epoch_id), seq, hex(group_id) FROM records WHERE kind = 11 AND author = x'$me' ORDER BY seq DESC LIMIT 1")
  lamport=$(( $(sq "SELECT max(lamport) FROM records") + 1 ))
  k1=$(sq "SELECT hex(public_key) FROM box_keys WHERE secret IS NOT NULL ORDER BY rowid DESC LIMIT 1")
  [ -n "$k1" ] && [ -n "$ku_id" ] || fail "setup: the copy holds no per-group key or no key update"
  ctl=$(awk -v p="epoch-control:$(tr A-F a-f <<<"${ku_epoch:0:8}")" '$1==p{print $2}' <<<"$sec")
  mbox=$(adv home-epochs "$WORK/seized" "$WORK/seized.pass" "$G" | awk -v e="$(tr A-F a-f <<<"$ku_epoch")" '$1==e{print $2}')
  [ -n "$ctl" ] && [ -n "$mbox" ] || fail "setup: the copy lacks the key update's epoch keys"
  echo "Boris's key update $ku_id (seq $ku_seq); the copy names K1 = $k1 at seq $((ku_seq + 1))"

  env=$(python3 "$FORGE" "$seed" "$gid" "$ku_epoch" $((ku_seq + 1)) "$ku_id" "$ku_epoch" "$lamport" \
    "$ku_id:$ku_epoch" "$ku_id" "$k1" "$ctl" "$mbox" 2>/dev/null) || fail "forging failed"
  id=$(python3 -c 'import hashlib,sys;print(hashlib.blake2b(bytes.fromhex(sys.argv[1]),digest_size=32).hexdigest())' "$env")
  # The copy pushes it (an envelope of its store the relay lacks), then takes it back from the relay.
  sq "INSERT INTO envelopes(id, mailbox, bytes, size, received_ms, expires_ms) VALUES (x'$id', x'$mbox', x'$env', $(( ${#env} / 2 )), $(date +%s%3N), 0)"
  as seized sync >/dev/null 2>&1 || true
  sq "DELETE FROM envelopes WHERE id = x'$id'"
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
as anna group audit "$G" --json | grep -q "\"${id}\"" || { echo "$err"; as anna group audit "$G"; fail "Anna does not hold the copy's key update"; }
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
