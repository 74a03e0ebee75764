/**
 * References inside a PAS Bundle: every `reference` a resource holds (with its FHIRPath location) and how one
 * resolves to another entry — by exact `fullUrl` (`urn:uuid:`, absolute URLs) or by `Type/id` (the resource's own
 * type and id, or a `fullUrl` ending in it), as FHIR's Bundle reference resolution rules say.
 */
import type { Resource } from '@medplum/fhirtypes';

export interface BundleEntry {
  index: number;
  fullUrl: string;
  resource: Resource & Record<string, unknown>;
}

export interface FoundReference {
  /** FHIRPath of the Reference element, e.g. `Bundle.entry[0].resource.insurance[0].coverage`. */
  path: string;
  reference: string;
}

const MAX_REFERENCES = 2000;

/** The references a resource holds (contained-resource `#id` references excluded). */
export function referencesIn(resource: unknown, basePath: string): FoundReference[] {
  const found: FoundReference[] = [];
  const stack: [unknown, string][] = [[resource, basePath]];
  while (stack.length && found.length < MAX_REFERENCES) {
    const [value, path] = stack.pop() as [unknown, string];
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push([v, `${path}[${i}]`]));
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    const record = value as Record<string, unknown>;
    if (typeof record.reference === 'string' && !record.reference.startsWith('#')) {
      found.push({ path, reference: record.reference });
    }
    for (const [key, child] of Object.entries(record)) {
      if (key === 'contained' || key === 'reference') continue;
      if (typeof child === 'object' && child !== null) stack.push([child, `${path}.${key}`]);
    }
  }
  return found.reverse();
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export function resolveReference(entries: BundleEntry[], reference: string): BundleEntry | undefined {
  const byUrl = entries.find((e) => e.fullUrl === reference);
  if (byUrl) return byUrl;
  const tail = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference)?.[1];
  const match = RELATIVE.exec(tail ?? '');
  if (!match) return undefined;
  const [, type, id] = match;
  // A relative reference names a resource by type and id; an absolute one must name the same server's entry.
  if (reference !== tail && !RELATIVE.test(reference)) return undefined;
  return entries.find(
    (e) => (e.resource.resourceType === type && e.resource.id === id) || e.fullUrl.endsWith(`/${type}/${id}`),
  );
}

/** The entries reachable from `start` through references, `start` included (spec-13 requires all of them). */
export function reachableFrom(
  entries: BundleEntry[],
  start: BundleEntry,
): { reached: BundleEntry[]; dangling: FoundReference[] } {
  const reached = new Set<BundleEntry>([start]);
  const dangling: FoundReference[] = [];
  const queue = [start];
  while (queue.length) {
    const entry = queue.shift() as BundleEntry;
    for (const ref of referencesIn(entry.resource, `Bundle.entry[${entry.index}].resource`)) {
      const target = resolveReference(entries, ref.reference);
      if (!target) dangling.push(ref);
      else if (!reached.has(target)) {
        reached.add(target);
        queue.push(target);
      }
    }
  }
  return { reached: [...reached], dangling };
}
