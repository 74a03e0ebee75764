/**
 * What prior authorization adds to the CapabilityStatement (PAS "Intermediary PAS Capabilities", spec-55): the
 * Claim operations, the reviewer's and CDex's operations, and Subscription with the PAS topic.
 */
import type { CapabilityStatementRest } from '@medplum/fhirtypes';
import { PAS_TOPIC } from './constants.js';

const TOPIC_CANONICAL =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';

export function pasCapabilities(rest: CapabilityStatementRest): void {
  const resource = (type: string) => rest.resource?.find((r) => r.type === type);
  const claim = resource('Claim');
  if (claim) {
    claim.operation = [
      ...(claim.operation ?? []),
      { name: 'submit', definition: 'http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-submit' },
      { name: 'inquire', definition: 'http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry' },
    ];
  }
  const claimResponse = resource('ClaimResponse');
  if (claimResponse) {
    claimResponse.operation = [
      ...(claimResponse.operation ?? []),
      { name: 'decide', definition: 'https://hookbot.dev/fhir/OperationDefinition/ClaimResponse-decide' },
    ];
  }
  const subscription = resource('Subscription');
  if (subscription) {
    subscription.extension = [...(subscription.extension ?? []), { url: TOPIC_CANONICAL, valueCanonical: PAS_TOPIC }];
    subscription.operation = [
      ...(subscription.operation ?? []),
      {
        name: 'status',
        definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
      },
    ];
  }
  rest.operation = [
    ...(rest.operation ?? []),
    {
      name: 'submit-attachment',
      definition: 'http://hl7.org/fhir/us/davinci-cdex/OperationDefinition/submit-attachment',
    },
  ];
}
