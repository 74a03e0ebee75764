/** Small JSON helpers shared by the CDS functions. Pure: safe to bundle into a bot running in the sandbox. */

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

interface MaybeCrypto {
  crypto?: { randomUUID?: () => string };
}

/**
 * A random v4 UUID. Uses Web Crypto where the host has it; isolated-vm contexts have no `crypto`, so bot code
 * bundled with this package falls back to Math.random (these ids are correlation ids, not secrets).
 */
export function randomUuid(): string {
  const native = (globalThis as MaybeCrypto).crypto?.randomUUID;
  if (native) return native.call((globalThis as MaybeCrypto).crypto);
  return uuidV4(Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join(''));
}

/** 32 hex digits as a UUID, with the version (4) and variant bits set. */
export function uuidV4(hex: string): string {
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `Type/id`, optionally absolute and with `/_history/v`; ids are not length-checked (Epic's are ~194 chars). */
const REFERENCE_RE =
  /^(?:[a-z][a-z0-9+.-]*:\/\/.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]+)(?:\/_history\/[A-Za-z0-9\-.]+)?$/;

export interface ParsedReference {
  type: string;
  id: string;
}

export function parseReference(value: string): ParsedReference | undefined {
  const match = REFERENCE_RE.exec(value.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return { type: match[1], id: match[2] };
}

export function isAbsoluteHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.host.length > 0;
  } catch {
    return false;
  }
}
