/**
 * Events the server records carry a record-origin tag (fhir/record-origin.ts) that clients cannot write, and
 * whatever trusts events (feedback statistics) counts only those. Events stored before the tag existed are marked
 * here when they have the shape the server gives its own (Hookbot's event type system and the `hookbot` observer),
 * so that statistics keep their history; an event a client forged in that shape before this migration cannot be
 * told apart. The current row, its history rows (events older than append-only storage) and the `_tag` search
 * index are all updated.
 */
const TAG = JSON.stringify({
  system: 'https://hookbot.dev/fhir/CodeSystem/record-origin',
  code: 'server',
  display: 'Recorded by the Hookbot server',
});
const ORIGIN_SYSTEM = JSON.stringify([{ system: 'https://hookbot.dev/fhir/CodeSystem/record-origin' }]);

const serverShaped = `resource_type = 'AuditEvent' AND content IS NOT NULL
  AND content->'type'->>'system' = 'https://hookbot.dev/fhir/CodeSystem/audit-event-type'
  AND content->'source'->'observer'->>'display' = 'hookbot'
  AND NOT COALESCE(content->'meta'->'tag', '[]'::jsonb) @> '${ORIGIN_SYSTEM}'::jsonb`;

const tagged = `jsonb_set(content, '{meta}', COALESCE(content->'meta', '{}'::jsonb)
  || jsonb_build_object('tag', COALESCE(content->'meta'->'tag', '[]'::jsonb) || '[${TAG}]'::jsonb))`;

export const statements: string[] = [
  `UPDATE fhir_history SET content = ${tagged} WHERE ${serverShaped}`,
  `WITH marked AS (
     UPDATE fhir_resources SET content = ${tagged} WHERE ${serverShaped}
     RETURNING project_id, resource_type, id
   )
   INSERT INTO fhir_index (project_id, resource_type, resource_id, code, system, value)
   SELECT project_id, resource_type, id, '_tag', 'https://hookbot.dev/fhir/CodeSystem/record-origin', 'server'
   FROM marked`,
];
