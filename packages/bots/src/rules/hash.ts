/**
 * Deterministic identifiers (card and suggestion uuids, coverage-assertion-id) derived from the hookInstance, so
 * that the same request gives the same response in process and in the sandbox (which has no crypto).
 */
import { uuidV4 } from '../cds/util.js';

function hash32(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

/** A version-4-shaped UUID from the parts (not random: unique because hookInstance is). */
export function stableUuid(...parts: string[]): string {
  const text = parts.join('\u0000');
  return uuidV4([hash32(text, 1), hash32(text, 2), hash32(text, 3), hash32(text, 4)].map(hex).join(''));
}
