/**
 * What prior authorization adds to the CapabilityStatement besides its routes' operations (PAS "Intermediary PAS
 * Capabilities", spec-55): the PAS topic on Subscription. The operations come from the routes and
 * `operation-definitions.ts`.
 */
import type { CapabilityStatementRest } from '@medplum/fhirtypes';
import { PAS_TOPIC } from './constants.js';

const TOPIC_CANONICAL =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';

export function pasCapabilities(rest: CapabilityStatementRest): void {
  const subscription = rest.resource?.find((r) => r.type === 'Subscription');
  if (subscription) {
    subscription.extension = [...(subscription.extension ?? []), { url: TOPIC_CANONICAL, valueCanonical: PAS_TOPIC }];
  }
}
