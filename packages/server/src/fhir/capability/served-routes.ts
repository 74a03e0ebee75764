/**
 * The routes the app serves under `/fhir/R4`, read from its routers' layers, and what each one is in FHIR terms
 * (an interaction, an operation at a level). The CapabilityStatement is built from these, so a route added on any
 * router shows in it, and a route removed leaves it.
 */
import { METHODS } from 'node:http';
import type Router from '@koa/router';

export const FHIR_PREFIX = '/fhir/R4';

/** A route under `/fhir/R4`: `GET /:type/:id` (path relative to the prefix, `''` for the prefix itself). */
export interface ServedRoute {
  method: string;
  path: string;
}

/** `:type` in a route: every type the store serves; otherwise the literal type. */
export const ANY_TYPE = ':type';

export type TypeInteraction =
  'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type';
export type SystemInteraction = 'transaction' | 'batch' | 'search-system' | 'history-system';

export type RouteMeaning =
  | { kind: 'type'; type: string; interaction: TypeInteraction | 'conditional-update' | 'conditional-delete' }
  | { kind: 'system'; interaction: 'bundle' | 'search-system' | 'history-system' }
  | { kind: 'operation'; level: 'system' | 'type' | 'instance'; type?: string; code: string }
  /** A URL an operation hands out (`$export-status/{job}`): no FHIR interaction, part of `$export`. */
  | { kind: 'operation-support'; code: string }
  | { kind: 'capabilities' }
  | { kind: 'discovery' }
  | { kind: 'unknown' };

/**
 * The method routes of `routers` under `/fhir/R4`. Layers serving every method (the 405 `Allow` answers) and the
 * methods Koa adds (HEAD beside GET, OPTIONS) are not routes of their own.
 */
export function servedRoutes(routers: Router[]): ServedRoute[] {
  const out = new Map<string, ServedRoute>();
  for (const router of routers) {
    for (const layer of router.stack) {
      const path = layer.path;
      if (typeof path !== 'string' || (path !== FHIR_PREFIX && !path.startsWith(`${FHIR_PREFIX}/`))) continue;
      // `router.all` lists every method node's HTTP parser knows.
      if (METHODS.every((m) => layer.methods.includes(m))) continue;
      const methods = layer.methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS');
      for (const method of methods) {
        const route = { method, path: path.slice(FHIR_PREFIX.length) };
        out.set(`${method} ${route.path}`, route);
      }
    }
  }
  return [...out.values()];
}

const unknown: RouteMeaning = { kind: 'unknown' };
const isParam = (segment: string | undefined) => segment?.startsWith(':') === true;
const isType = (segment: string | undefined) => segment === ANY_TYPE || /^[A-Z][A-Za-z]+$/.test(segment ?? '');

/** What a route is (FHIR R4 http §3.1.0 "RESTful API" summary table). */
export function meaningOf({ method, path }: ServedRoute): RouteMeaning {
  // `[base]/` is the base too (clients post Bundles there).
  const segments = path === '/' ? [] : path.split('/').slice(1);
  const [first, second, third, fourth] = segments;
  const operation = segments.at(-1)?.startsWith('$') ? (segments.at(-1) ?? '').slice(1) : undefined;
  if (segments.length === 0) {
    if (method === 'POST') return { kind: 'system', interaction: 'bundle' };
    if (method === 'GET') return { kind: 'system', interaction: 'search-system' };
    return { kind: 'unknown' };
  }
  if (first === '.well-known') return { kind: 'discovery' };
  if (segments.length === 1 && first === 'metadata') return method === 'GET' ? { kind: 'capabilities' } : unknown;
  if (segments.length === 1 && operation) return { kind: 'operation', level: 'system', code: operation };
  if (first?.startsWith('$')) return { kind: 'operation-support', code: first.slice(1) };
  if (segments.length === 1 && first === '_history' && method === 'GET') {
    return { kind: 'system', interaction: 'history-system' };
  }
  if (segments.length === 1 && first === '_search' && method === 'POST') {
    return { kind: 'system', interaction: 'search-system' };
  }
  if (!isType(first)) return unknown;
  const type = first ?? '';
  const on = (interaction: (RouteMeaning & { kind: 'type' })['interaction']): RouteMeaning => ({
    kind: 'type',
    type,
    interaction,
  });
  if (segments.length === 1) {
    const byMethod = {
      GET: 'search-type',
      POST: 'create',
      PUT: 'conditional-update',
      DELETE: 'conditional-delete',
    } as const;
    const interaction = byMethod[method as keyof typeof byMethod];
    return interaction ? on(interaction) : unknown;
  }
  if (segments.length === 2) {
    if (operation) return { kind: 'operation', level: 'type', type, code: operation };
    if (second === '_search') return method === 'POST' ? on('search-type') : unknown;
    if (second === '_history') return method === 'GET' ? on('history-type') : unknown;
    if (!isParam(second)) return unknown;
    const byMethod = { GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as const;
    const interaction = byMethod[method as keyof typeof byMethod];
    return interaction ? on(interaction) : unknown;
  }
  if (!isParam(second)) return unknown;
  if (segments.length === 3 && operation) return { kind: 'operation', level: 'instance', type, code: operation };
  if (segments.length === 3 && third === '_history' && method === 'GET') return on('history-instance');
  if (segments.length === 4 && third === '_history' && isParam(fourth) && method === 'GET') return on('vread');
  return unknown;
}
