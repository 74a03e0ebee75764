/**
 * What a caller may do. Built from the caller's token (SMART scopes) by `auth/`; consulted by the repository on
 * every read and write, so no route can forget it.
 */
import type { Reference } from '@medplum/fhirtypes';

export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export interface AccessPolicy {
  /** The tenant: every read and write is confined to it. */
  readonly projectId: string;
  /** The server's own work, not a client's: it alone writes the types the server writes (`isServerWritten`). */
  readonly system?: boolean;
  /**
   * A member's access (Patient Access API): the id of their Patient. Every read is then confined to the Patient's
   * compartment (`fhir/compartment.ts`), in the SQL of the read itself.
   */
  readonly patient?: string;
  /** A person signed in to the console: every resource it writes names them (`fhir/author.ts`). */
  readonly author?: Reference;
  allows(resourceType: string, interaction: Interaction): boolean;
}

/** Full access inside one project: for the server's own work (seeding, audit writes, bot deploys). */
export function projectSystemAccess(projectId: string): AccessPolicy {
  return { projectId, system: true, allows: () => true };
}
