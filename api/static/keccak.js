// Keccak-256 (the original Keccak padding used by Ethereum, not NIST SHA3-256), self-contained.
// The 1600-bit state is 25 lanes of 64 bits, each held as two 32-bit words (lo, hi) in a Uint32Array(50):
// lane i = x + 5y lives in words 2i (low half) and 2i + 1 (high half), so byte j of the state is byte j & 3 of
// word j >> 2 (little-endian), which is how bytes are absorbed and squeezed.

const RATE = 136; // bytes absorbed per permutation: 1600 - 2 * 256 bits

const ROUND_CONSTANTS = [
  "0000000000000001", "0000000000008082", "800000000000808a", "8000000080008000",
  "000000000000808b", "0000000080000001", "8000000080008081", "8000000000008009",
  "000000000000008a", "0000000000000088", "0000000080008009", "000000008000000a",
  "000000008000808b", "800000000000008b", "8000000000008089", "8000000000008003",
  "8000000000008002", "8000000000000080", "000000000000800a", "800000008000000a",
  "8000000080008081", "8000000000008080", "0000000080000001", "8000000080008008",
].map((hex) => [parseInt(hex.slice(8), 16) >>> 0, parseInt(hex.slice(0, 8), 16) >>> 0]); // [lo, hi]

// Rotation offsets (rho) by lane index x + 5y.
const RHO = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

// Destination of lane x + 5y under pi: (x, y) -> (y, 2x + 3y).
const PI = RHO.map((_, i) => {
  const x = i % 5, y = Math.floor(i / 5);
  return y + 5 * ((2 * x + 3 * y) % 5);
});

// Rotate the 64-bit value (lo, hi) left by n bits; returns [lo, hi].
function rotl(lo, hi, n) {
  if (n === 0) return [lo, hi];
  if (n === 32) return [hi, lo];
  if (n > 32) { [lo, hi] = [hi, lo]; n -= 32; }
  return [((lo << n) | (hi >>> (32 - n))) >>> 0, ((hi << n) | (lo >>> (32 - n))) >>> 0];
}

function keccakF(s) {
  const c = new Uint32Array(10), b = new Uint32Array(50);
  for (let round = 0; round < 24; round++) {
    // theta
    for (let x = 0; x < 5; x++) {
      c[2 * x] = s[2 * x] ^ s[2 * x + 10] ^ s[2 * x + 20] ^ s[2 * x + 30] ^ s[2 * x + 40];
      c[2 * x + 1] = s[2 * x + 1] ^ s[2 * x + 11] ^ s[2 * x + 21] ^ s[2 * x + 31] ^ s[2 * x + 41];
    }
    for (let x = 0; x < 5; x++) {
      const next = (x + 1) % 5, prev = (x + 4) % 5;
      const [rl, rh] = rotl(c[2 * next], c[2 * next + 1], 1);
      const dl = c[2 * prev] ^ rl, dh = c[2 * prev + 1] ^ rh;
      for (let y = 0; y < 25; y += 5) {
        s[2 * (x + y)] ^= dl;
        s[2 * (x + y) + 1] ^= dh;
      }
    }
    // rho and pi
    for (let i = 0; i < 25; i++) {
      const [lo, hi] = rotl(s[2 * i], s[2 * i + 1], RHO[i]);
      b[2 * PI[i]] = lo;
      b[2 * PI[i] + 1] = hi;
    }
    // chi
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) {
        const i = 2 * (x + y), j = 2 * (((x + 1) % 5) + y), k = 2 * (((x + 2) % 5) + y);
        s[i] = b[i] ^ (~b[j] & b[k]);
        s[i + 1] = b[i + 1] ^ (~b[j + 1] & b[k + 1]);
      }
    }
    // iota
    s[0] ^= ROUND_CONSTANTS[round][0];
    s[1] ^= ROUND_CONSTANTS[round][1];
  }
}

/** Keccak-256 of `input` (a string, hashed as UTF-8, or a Uint8Array) as the raw 32 bytes. */
export function keccak256Bytes(input) {
  const data = typeof input === "string" ? new TextEncoder().encode(input) : Uint8Array.from(input);
  // Pad: a 0x01 byte after the message, 0x80 in the block's last byte (both in the same byte if they meet).
  const padded = new Uint8Array((Math.floor(data.length / RATE) + 1) * RATE);
  padded.set(data);
  padded[data.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const s = new Uint32Array(50);
  for (let offset = 0; offset < padded.length; offset += RATE) {
    for (let j = 0; j < RATE; j++) s[j >> 2] ^= padded[offset + j] << (8 * (j & 3));
    keccakF(s);
  }
  const out = new Uint8Array(32);
  for (let j = 0; j < 32; j++) out[j] = (s[j >> 2] >>> (8 * (j & 3))) & 0xff;
  return out;
}

/** Keccak-256 of `input` (string as UTF-8, or bytes) as a 0x-prefixed lowercase hex string. */
export function keccak256(input) {
  return "0x" + Array.from(keccak256Bytes(input), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
