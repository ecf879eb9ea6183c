// keccak256 of a string's UTF-8 bytes as 0x-hex (Ethereum's Keccak-256, not NIST SHA3-256), from @noble/hashes,
// which `make setup` copies from node_modules into vendor/ (the version is pinned in package.json). The dashboard
// hashes message bodies with it; the browser end-to-end test imports it to compare with eth_utils.

import { keccak_256 } from "./vendor/noble-hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "./vendor/noble-hashes/utils.js";

export function keccak256(text) {
  return "0x" + bytesToHex(keccak_256(utf8ToBytes(text)));
}
