/** The OperationDefinitions of the delivery routes (`routes.ts`). */
import type { OperationDefinition } from '@medplum/fhirtypes';
import { operationDefinition, parameter } from '../fhir/capability/operation-definitions.js';

export const DELIVERY_OPERATIONS: OperationDefinition[] = [
  operationDefinition({
    id: 'backport-subscription-status',
    url: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
    code: 'status',
    title: 'Subscription status',
    description: "The status of one of the caller's PAS Subscriptions (Subscriptions R5 Backport).",
    affectsState: false,
    resource: ['Subscription'],
    system: false,
    type: false,
    instance: true,
    parameter: [parameter('out', 'return', 'Bundle', 1, 'A subscription-notification Bundle of type history')],
  }),
  operationDefinition({
    id: 'pas-callback',
    code: 'pas-callback',
    title: "Register the caller's decision callback",
    description:
      "Registers where the calling partner's prior authorization decisions are also posted: a callback URL and the " +
      'OAuth2 client-credentials token endpoint that protects it. The body is a JSON object; one per client.',
    affectsState: true,
    system: true,
    type: false,
    instance: false,
    parameter: [
      parameter('in', 'url', 'uri', 1, 'The callback URL (https, public)'),
      parameter('in', 'tokenUrl', 'uri', 1, "The callback's token endpoint"),
      parameter('in', 'clientId', 'string', 1, 'Client id at that token endpoint'),
      parameter('in', 'clientSecret', 'string', 1, 'Client secret (sealed, never returned)'),
      parameter('out', 'url', 'uri', 1, 'The callback URL registered'),
    ],
  }),
];
