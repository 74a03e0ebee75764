/**
 * Subscription notification Bundles (R4 backport): `history` Bundles whose first entry is the SubscriptionStatus
 * (a Parameters), and for an event the full PAS response Bundle as the `notification-event.focus` (PAS spec-61);
 * a `handshake` Bundle when a Subscription is created.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { PAS_TOPIC } from '../pas/constants.js';

export function statusParameters(
  fhirBase: string,
  subscriptionId: string,
  type: 'handshake' | 'event-notification' | 'query-status',
  status: string,
  eventsSinceStart: number,
  event?: { number: number; focus: string },
  error?: string,
): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: `${fhirBase}/Subscription/${subscriptionId}` } },
    { name: 'topic', valueCanonical: PAS_TOPIC },
    { name: 'status', valueCode: status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: String(eventsSinceStart) },
  ];
  if (event) {
    parameter.push({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(event.number) },
        { name: 'timestamp', valueInstant: new Date().toISOString() },
        { name: 'focus', valueReference: { reference: event.focus } },
      ],
    });
  }
  if (error) parameter.push({ name: 'error', valueCodeableConcept: { text: error } });
  return { resourceType: 'Parameters', id: randomUUID(), parameter };
}

function statusEntry(fhirBase: string, subscriptionId: string, status: Parameters) {
  return {
    fullUrl: `urn:uuid:${status.id}`,
    resource: status,
    request: { method: 'GET' as const, url: `${fhirBase}/Subscription/${subscriptionId}/$status` },
    response: { status: '200' },
  };
}

export function handshakeBundle(fhirBase: string, subscriptionId: string): Bundle {
  const status = statusParameters(fhirBase, subscriptionId, 'handshake', 'requested', 0);
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: [statusEntry(fhirBase, subscriptionId, status)],
  };
}

export function notificationBundle(
  fhirBase: string,
  subscriptionId: string,
  eventNumber: number,
  response: Bundle,
): Bundle {
  const focus = `urn:uuid:${response.id ?? randomUUID()}`;
  const status = statusParameters(fhirBase, subscriptionId, 'event-notification', 'active', eventNumber, {
    number: eventNumber,
    focus,
  });
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: [
      statusEntry(fhirBase, subscriptionId, status),
      { fullUrl: focus, resource: response, request: { method: 'PUT', url: 'Bundle' }, response: { status: '200' } },
    ],
  };
}
