/**
 * Names that were checked before insert, which two concurrent requests could both pass, become constraints:
 * - a project's name is unique. Duplicates left by that race keep the oldest project's name; the others are renamed
 *   `<name> (<project id>)`, unique since ids are.
 * - a rule set's id names one Bot per project (its identifier `https://hookbot.dev/fhir/rule-set|<id>`, by which
 *   `Bot/$deploy-rules` finds the Bot). Where the race created several, the most recently updated keeps the
 *   identifier in the search index, so later deploys update it; the others stay as they are, unfindable by it.
 */
const RULE_SET_ID = (t: string) =>
  `${t}.resource_type = 'Bot' AND ${t}.code = 'identifier' AND ${t}.system = 'https://hookbot.dev/fhir/rule-set'`;

export const statements: string[] = [
  `UPDATE projects p SET name = p.name || ' (' || p.id || ')'
   WHERE EXISTS (
     SELECT 1 FROM projects q
     WHERE q.name = p.name AND (q.created_at < p.created_at OR (q.created_at = p.created_at AND q.id < p.id))
   )`,
  `ALTER TABLE projects ADD CONSTRAINT projects_name_key UNIQUE (name)`,
  // A Bot listing the same rule-set identifier twice keeps one index row of it.
  `DELETE FROM fhir_index a USING fhir_index b
   WHERE ${RULE_SET_ID('a')} AND ${RULE_SET_ID('b')} AND a.ctid > b.ctid
     AND a.project_id = b.project_id AND a.resource_id = b.resource_id AND a.value = b.value`,
  `DELETE FROM fhir_index i USING (
     SELECT project_id, resource_id, value FROM (
       SELECT x.project_id, x.resource_id, x.value,
              row_number() OVER (PARTITION BY x.project_id, x.value ORDER BY r.last_updated DESC, x.resource_id DESC) AS n
       FROM fhir_index x
       JOIN fhir_resources r ON r.project_id = x.project_id AND r.resource_type = x.resource_type AND r.id = x.resource_id
       WHERE ${RULE_SET_ID('x')}
     ) ranked WHERE n > 1
   ) d
   WHERE ${RULE_SET_ID('i')} AND i.project_id = d.project_id AND i.resource_id = d.resource_id AND i.value = d.value`,
  `CREATE UNIQUE INDEX fhir_index_rule_set_idx ON fhir_index (project_id, value)
   WHERE resource_type = 'Bot' AND code = 'identifier' AND system = 'https://hookbot.dev/fhir/rule-set'`,
];
