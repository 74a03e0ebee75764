/**
 * The Patient Access API (CMS-0057-F): a member's app, with a token naming the member's Patient, reads and searches
 * the member's own records, and nothing else. The store confines every read to the member's compartment
 * (`AccessPolicy.patient`, `fhir/compartment.ts`); this file builds that policy, refuses anything but reads before a
 * route runs, and records each access as an AuditEvent the payer can search.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Middleware } from 'koa';
import { AUDIT_TYPE_SYSTEM } from '../bots/audit.js';
import { isMemberType } from '../fhir/compartment.js';
import { forbidden, HookbotError } from '../infra/errors.js';
import { storableText } from '../infra/storable.js';
import type { Services } from '../services.js';
import type { AccessPolicy } from './access.js';
import { grantingScopes, type ScopeSet } from './scopes.js';

/**
 * A member's view of the store: read and search, of the types of the Patient Access API their scopes name
 * (`patient/` scopes, or `user/` ones: the user is the patient), confined to their Patient's compartment.
 */
export function patientAccess(caller: { projectId: string; patient?: string; scopes: ScopeSet }): AccessPolicy {
  const patient = caller.patient;
  if (!patient) throw forbidden('auth.no-patient', 'A member app token must name its patient: sign the member in');
  const cache = new Map<string, boolean>();
  return {
    projectId: caller.projectId,
    patient,
    allows(resourceType, interaction) {
      const key = `${resourceType}.${interaction}`;
      let allowed = cache.get(key);
      if (allowed === undefined) {
        allowed =
          (interaction === 'r' || interaction === 's') &&
          isMemberType(resourceType) &&
          grantingScopes(caller.scopes, resourceType, interaction, ['patient', 'user']).some((s) => !s.query);
        cache.set(key, allowed);
      }
      return allowed;
    },
  };
}

/** Reads: GET (and HEAD) of a resource, a search or a history, and a search by POST; no operation (`$…`). */
function isRead(method: string, path: string): boolean {
  if (path.includes('/$')) return false;
  return method === 'GET' || method === 'HEAD' || (method === 'POST' && path.endsWith('/_search'));
}

/** The FHIR restful interaction of a read (http://hl7.org/fhir/restful-interaction). */
function interactionOf(segments: string[], method: string): string {
  if (method === 'POST' || segments.length === 1) return 'search-type';
  if (segments[2] === '_history') return segments.length === 4 ? 'vread' : 'history-instance';
  return segments.length === 2 && segments[1] === '_history' ? 'history-type' : 'read';
}

const OUTCOME = (status: number): '0' | '4' | '8' => (status < 400 ? '0' : status < 500 ? '4' : '8');

export interface MemberAccess {
  /** Absent only when the token names none (and was refused). */
  patient?: string;
  clientId: string;
  method: string;
  /** The path below the FHIR base, e.g. `/ExplanationOfBenefit`. */
  path: string;
  /** The query string, and for a POST search its body's parameters. */
  query: string;
  status: number;
}

/** What the payer's audit trail keeps of one access: who (the member, through which app), what, and the outcome. */
export function memberAccessEvent(access: MemberAccess, recorded = new Date()): AuditEvent {
  const segments = access.path.split('/').filter(Boolean);
  const interaction = interactionOf(segments, access.method);
  const [type, id] = segments;
  const patient = access.patient ? { reference: `Patient/${access.patient}` } : undefined;
  const query = storableText(access.query);
  const target = interaction === 'read' || interaction === 'history-instance' || interaction === 'vread';
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_TYPE_SYSTEM, code: 'patient-access', display: 'Patient Access API' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: interaction }],
    action: interaction === 'search-type' ? 'E' : 'R',
    recorded: recorded.toISOString(),
    outcome: OUTCOME(access.status),
    outcomeDesc: `HTTP ${access.status}`,
    agent: [
      ...(patient ? [{ who: patient, requestor: true }] : []),
      { who: { display: access.clientId }, altId: access.clientId, requestor: !patient },
    ],
    source: { observer: { display: 'hookbot' } },
    entity: [
      ...(patient ? [{ what: patient }] : []),
      {
        ...(target && type && id ? { what: { reference: storableText(`${type}/${id}`) } } : {}),
        description: storableText(`${access.method} ${access.path}`),
        ...(query
          ? { query: Buffer.from(query).toString('base64'), detail: [{ type: 'query', valueString: query }] }
          : {}),
      },
    ],
  };
}

/** The parameters of a POST search body as a query string, for the audit trail (search.ts checks them). */
function bodyQuery(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return '';
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) {
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, String(v));
  }
  return query.toString();
}

const MAX_AUDITED_QUERY = 2000;

/**
 * On the FHIR routes, for a member's token: anything but a read is 403 before the route runs, and every request,
 * refused or not, is queued on the audit writer (batched; written off the response's critical path).
 */
export function patientAccessGuard(services: Services, fhirBasePath: string): Middleware {
  return async (ctx, next) => {
    const caller = ctx.state.caller as typeof ctx.state.caller | undefined;
    if (caller?.role !== 'member-app' || !caller.projectId) return next();
    const path = ctx.path.slice(fhirBasePath.length) || '/';
    let status = 500;
    try {
      if (!isRead(ctx.method, path)) {
        throw forbidden('auth.member-read-only', 'A member app may only read: writes and operations are refused');
      }
      await next();
      status = ctx.status;
    } catch (err) {
      status = err instanceof HookbotError ? err.status : 500;
      throw err;
    } finally {
      const body = (ctx.request as { body?: unknown }).body;
      const query = [ctx.querystring, ctx.method === 'POST' ? bodyQuery(body) : '']
        .filter(Boolean)
        .join('&')
        .slice(0, MAX_AUDITED_QUERY);
      const event = memberAccessEvent({
        ...(caller.patient ? { patient: caller.patient } : {}),
        clientId: caller.clientId,
        method: ctx.method,
        path,
        query,
        status,
      });
      await services.audit.add({ projectId: caller.projectId, event });
    }
  };
}
