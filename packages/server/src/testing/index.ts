/** `@hookbot/server/testing`: fixtures, test stores and the server internals that tests and benchmarks drive. */
export { bot, coverage, patient, testAccess } from './fixtures.js';
export { createTestPostgresDatabase, openTestStore, STORE_KINDS, type StoreKind } from './stores.js';
export { pgliteFromTemplate } from './pglite-template.js';
export { createRepository, type Repository } from '../fhir/repository.js';
export { runBundle } from '../fhir/rest/bundle.js';
export { claimJob, createJob } from '../fhir/export/jobs.js';
export { runChunk } from '../fhir/export/chunk.js';
export { runMigrations } from '../infra/migrations/index.js';
export { createLogger } from '../infra/logger.js';
export { ownAuthentication, publicRoute } from '../infra/router.js';
export { RedisSharedState } from '../infra/shared-state.js';
export { pendInterrupted } from '../pas/recover.js';
export { setClientSecret } from '../auth/clients.js';
// Member tokens come from the SMART launch; tests of the Patient Access API sign them with the server's key.
export { signAccessToken } from '../auth/access-token.js';
export { patientAccess } from '../auth/patient-access.js';
export { parseScopes } from '../auth/scopes.js';
