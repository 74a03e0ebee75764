/**
 * Who wrote each version: a write made by a person signed in to the console carries them in `meta.extension`
 * (`AUTHOR_EXTENSION`, a Reference displayed as their email), so a Bot's `_history` says who deployed or rolled
 * back each version. Only the server sets it: whatever a client sends under that URL is dropped, so a token's write
 * (no person) carries none and nobody can write in another's name.
 */
import type { Extension, Reference, Resource } from '@medplum/fhirtypes';

export const AUTHOR_EXTENSION = 'https://hookbot.dev/fhir/StructureDefinition/author';

export function withAuthor<T extends Resource>(resource: T, author: Reference | undefined): T {
  const others = (resource.meta?.extension ?? []).filter((e: Extension) => e.url !== AUTHOR_EXTENSION);
  const extension = author ? [...others, { url: AUTHOR_EXTENSION, valueReference: author }] : others;
  const { extension: _dropped, ...meta } = resource.meta ?? {};
  return { ...resource, meta: extension.length ? { ...meta, extension } : meta };
}

/** The author recorded on a version, if a person wrote it. */
export function authorOf(resource: Resource): Reference | undefined {
  return resource.meta?.extension?.find((e) => e.url === AUTHOR_EXTENSION)?.valueReference;
}
