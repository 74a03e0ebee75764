/**
 * GET [base]/metadata → the CapabilityStatement (FHIR R4 http §3.1.0.11; `capability/statement.ts` builds it from
 * the app's routes); answered without a token.
 */
import type { RouterContext } from '@koa/router';
import type { Capabilities } from '../capability/statement.js';
import { sendJson } from './respond.js';

export function metadataHandler(capabilities: () => Capabilities) {
  // Serialised once too: the statement is ~60 KB, ~2 ms of JSON.stringify per request otherwise.
  let body: string | undefined;
  return (ctx: RouterContext): void => {
    body ??= JSON.stringify(capabilities().statement);
    sendJson(ctx, body);
  };
}
