/**
 * GET [base]/metadata → the CapabilityStatement (FHIR R4 http §3.1.0.11; `capability/statement.ts` builds it from
 * the app's routes); answered without a token.
 */
import type { RouterContext } from '@koa/router';
import type { Capabilities } from '../capability/statement.js';
import { sendJson } from './respond.js';

export function metadataHandler(capabilities: () => Capabilities) {
  return (ctx: RouterContext): void => sendJson(ctx, capabilities().statement);
}
