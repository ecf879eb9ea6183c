// Protocol facts the page needs (as choir_chain.protocol has them): message ids and author kinds.

const INDEX_BITS = 64n;
const INDEX_MASK = (1n << INDEX_BITS) - 1n;

/** The global message id `thread << 64 | index` (BigInt). */
export function messageId(thread, index) {
  return (BigInt(thread) << INDEX_BITS) | BigInt(index);
}

/** [thread, index] of a global message id (BigInts). */
export function splitMessageId(globalId) {
  const g = BigInt(globalId);
  return [g >> INDEX_BITS, g & INDEX_MASK];
}

/** The author kinds a message declares on chain: [value, label]. */
export const AUTHOR_KINDS = [
  ["human", "Human (ugc)"],
  ["ai", "AI (aigc)"],
  ["ai_prompted", "AI on a person's prompt (aiugc)"],
];
