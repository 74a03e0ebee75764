/**
 * The resources a rule set judges one at a time (CRD resp-29: one coverage-information action per in-scope order):
 * `draftOrders` for order-sign, the `selections` among them for order-select, the dispatched orders for
 * order-dispatch (1.0 `order` or 1.1 `dispatchedOrders`, found in `draftOrders` or prefetch), `appointments` for
 * appointment-book. Other hooks are judged once, without an order.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { CdsRequest } from '../cds/types.js';
import { isRecord } from '../cds/util.js';

export function subjectsOf(request: CdsRequest): Resource[] {
  const context = isRecord(request.context) ? request.context : {};
  switch (request.hook) {
    case 'order-sign':
      return resourcesIn(context['draftOrders']);
    case 'order-select': {
      const drafts = resourcesIn(context['draftOrders']);
      const selected = referencesIn(context['selections']);
      const chosen = drafts.filter((r) => selected.has(referenceOf(r)));
      return chosen.length > 0 ? chosen : drafts;
    }
    case 'order-dispatch': {
      const wanted = referencesIn(context['dispatchedOrders'] ?? context['order']);
      const pool = [...resourcesIn(context['draftOrders']), ...prefetchResources(request)];
      return [...wanted].map((ref) => pool.find((r) => referenceOf(r) === ref)).filter((r): r is Resource => !!r);
    }
    case 'appointment-book':
      return resourcesIn(context['appointments']);
    default:
      return [];
  }
}

export function referenceOf(resource: Resource): string {
  return `${resource.resourceType}/${resource.id ?? ''}`;
}

/** A Bundle's entry resources, or a bare array of resources. */
function resourcesIn(value: unknown): Resource[] {
  const items =
    isRecord(value) && Array.isArray(value['entry'])
      ? value['entry'].map((e) => (isRecord(e) ? e['resource'] : undefined))
      : Array.isArray(value)
        ? value
        : [];
  return items.filter((r): r is Resource => isRecord(r) && typeof r['resourceType'] === 'string').slice(0, 100);
}

function referencesIn(value: unknown): Set<string> {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const refs = new Set<string>();
  for (const item of list) {
    const text =
      typeof item === 'string'
        ? item
        : isRecord(item) && typeof item['reference'] === 'string'
          ? item['reference']
          : '';
    const parts = text.split('/');
    if (parts.length >= 2) refs.add(parts.slice(-2).join('/'));
  }
  return refs;
}

export function prefetchResources(request: CdsRequest): Resource[] {
  const out: Resource[] = [];
  for (const value of Object.values(request.prefetch ?? {})) {
    if (!isRecord(value)) continue;
    if (value['resourceType'] === 'Bundle') out.push(...resourcesIn(value));
    else if (typeof value['resourceType'] === 'string') out.push(value as unknown as Resource);
  }
  return out;
}
