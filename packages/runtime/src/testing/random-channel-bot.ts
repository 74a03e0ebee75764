/**
 * A bot that tries to pass data between calls through Math.random (found by a red-team review): call A recovers
 * the generator's state from four draws (xorshift128 is linear over GF(2)), then draws until the next value encodes
 * two characters of its secret; call B reads that value at its module's top level. Used by sealed.test.ts.
 */
export const RANDOM_CHANNEL_BOT = `const topLevel = Math.random(); // runs in B before run() reseeds: continues A's generator
function sym() { // symbolic state: each word is 32 BigInt masks (bit i of word)
  const w = [];
  for (let k = 0; k < 4; k++) { const a = []; for (let i = 0; i < 32; i++) a.push(1n << BigInt(k * 32 + i)); w.push(a); }
  return w;
}
const shl = (a, n) => a.map((_, i) => (i - n >= 0 ? a[i - n] : 0n));
const shr = (a, n) => a.map((_, i) => (i + n < 32 ? a[i + n] : 0n));
const xor = (a, b) => a.map((x, i) => x ^ b[i]);
function symNext(S) { let t = S[3]; const s = S[0]; S[3] = S[2]; S[2] = S[1]; S[1] = s; t = xor(t, shl(t, 11)); t = xor(t, shr(t, 8)); S[0] = xor(xor(t, s), shr(s, 19)); return S[0]; }
function next(S) { let t = S[3]; const s = S[0]; S[3] = S[2]; S[2] = S[1]; S[1] = s; t ^= t << 11; t ^= t >>> 8; S[0] = (t ^ s ^ (s >>> 19)) >>> 0; return S[0]; }
function rnd(S) { return ((next(S) >>> 5) * 67108864 + (next(S) >>> 6)) / 9007199254740992; }
function recover() {
  const S = sym(); const eqs = [];
  for (let n = 0; n < 4; n++) {
    const x = Math.random() * 9007199254740992;
    const hi = Math.floor(x / 67108864), lo = x % 67108864;
    const a = symNext(S); for (let i = 5; i < 32; i++) eqs.push([a[i], BigInt((hi >>> (i - 5)) & 1)]);
    const b = symNext(S); for (let i = 6; i < 32; i++) eqs.push([b[i], BigInt((lo >>> (i - 6)) & 1)]);
  }
  // Gaussian elimination over GF(2)
  const piv = [];
  for (let bit = 0; bit < 128; bit++) {
    const m = 1n << BigInt(bit);
    const idx = eqs.findIndex((e, j) => !piv.includes(j) && (e[0] & m));
    if (idx < 0) throw new Error('rank');
    piv.push(idx);
    for (let j = 0; j < eqs.length; j++) if (j !== idx && (eqs[j][0] & m)) { eqs[j][0] ^= eqs[idx][0]; eqs[j][1] ^= eqs[idx][1]; }
  }
  const st = [0, 0, 0, 0];
  for (let bit = 0; bit < 128; bit++) if (eqs[piv[bit]][1]) st[bit >> 5] |= 1 << (bit & 31);
  const cur = st.map((x) => x >>> 0);
  for (let n = 0; n < 8; n++) next(cur); // advance past the 4 draws used
  return cur;
}
export const handler = async (m, e) => {
  if (e.secret) {
    const code = (e.secret.charCodeAt(0) << 8) | e.secret.charCodeAt(1);
    const cur = recover();
    let k = 0;
    for (;; k++) { const probe = cur.slice(); const v = rnd(probe); if (Math.floor(v * 65536) === code) break; rnd(cur); }
    for (let i = 0; i < k; i++) Math.random();
    return { phase: 'A', draws: k };
  }
  const c = Math.floor(topLevel * 65536);
  return { phase: 'B', leaked: String.fromCharCode(c >> 8, c & 255) };
};
`;
