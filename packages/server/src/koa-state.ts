/** Types of what Hookbot's middleware puts on `ctx.state`. */
import type { Caller } from './auth/access-token.js';
import type { CdsCaller } from './cds/authenticate.js';
import type { Repository } from './fhir/repository.js';
import type { Logger } from './infra/logger.js';
import type { RequestIds } from './infra/request-context.js';

declare module 'koa' {
  interface DefaultState {
    ids: RequestIds;
    /** The request's logger, bound to its ids. */
    log: () => Logger;
    caller: Caller;
    /** The route authenticates its caller itself, and reads the request body only after that. */
    ownAuthentication: boolean;
    /** The caller of a CDS Hooks route, as that route authenticated it. */
    cdsCaller: CdsCaller;
    repo: Repository;
    baseUrl: string;
  }
}
