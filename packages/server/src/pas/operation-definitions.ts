/**
 * The OperationDefinitions of the prior authorization routes (`routes.ts`): Da Vinci PAS's and CDex's under their
 * implementation guides' canonical URLs, Hookbot's own under its.
 */
import type { OperationDefinition } from '@medplum/fhirtypes';
import { operationDefinition, parameter } from '../fhir/capability/operation-definitions.js';

const PAS_GUIDE = 'http://hl7.org/fhir/us/davinci-pas/OperationDefinition';

export const PAS_OPERATIONS: OperationDefinition[] = [
  operationDefinition({
    id: 'Claim-submit',
    url: `${PAS_GUIDE}/Claim-submit`,
    name: 'PASClaimSubmit',
    code: 'submit',
    title: 'Submit a prior authorization request',
    description: 'Da Vinci PAS: a PAS request Bundle in, a PAS response Bundle (with the ClaimResponse) out.',
    affectsState: true,
    resource: ['Claim'],
    system: false,
    type: true,
    instance: false,
    parameter: [
      parameter('in', 'resource', 'Bundle', 1, 'The PAS Request Bundle'),
      parameter('out', 'return', 'Bundle', 1, 'The PAS Response Bundle'),
    ],
  }),
  operationDefinition({
    id: 'Claim-inquiry',
    url: `${PAS_GUIDE}/Claim-inquiry`,
    name: 'PASClaimInquiry',
    code: 'inquire',
    title: 'Inquire about a prior authorization',
    description: 'Da Vinci PAS: a PAS inquiry request Bundle in, the matching decisions out.',
    affectsState: false,
    resource: ['Claim'],
    system: false,
    type: true,
    instance: false,
    parameter: [
      parameter('in', 'resource', 'Bundle', 1, 'The PAS Inquiry Request Bundle'),
      parameter('out', 'return', 'Bundle', 1, 'The PAS Inquiry Response Bundle'),
    ],
  }),
  operationDefinition({
    id: 'ClaimResponse-decide',
    code: 'decide',
    title: "Record a reviewer's decision",
    description:
      "A payer's reviewer decides items of a prior authorization: {items: [{sequence, action, …}]} or a Parameters " +
      'whose `decision` is that JSON as valueString. Each decision is a new ClaimResponse version.',
    affectsState: true,
    resource: ['ClaimResponse'],
    system: false,
    type: false,
    instance: true,
    parameter: [
      parameter('in', 'decision', 'string', 1, 'The decision (JSON: items with sequence and action)'),
      parameter('out', 'return', 'Bundle', 1, 'The PAS Response Bundle with the new ClaimResponse'),
    ],
  }),
  operationDefinition({
    id: 'submit-attachment',
    url: 'http://hl7.org/fhir/us/davinci-cdex/OperationDefinition/submit-attachment',
    name: 'SubmitAttachment',
    code: 'submit-attachment',
    title: 'Submit attachments for a pended prior authorization',
    description: 'Da Vinci CDex with AttachTo = preauthorization; the answer is an OperationOutcome.',
    affectsState: true,
    system: true,
    type: false,
    instance: false,
    parameter: [
      parameter('in', 'TrackingId', 'Identifier', 1, 'The Claim identifier or PAS reference of the request'),
      parameter('in', 'AttachTo', 'code', 1, 'preauthorization'),
      parameter('in', 'MemberId', 'Identifier', 1, "The member's identifier"),
      parameter('in', 'AdminRefNumber', 'string', 0, "The payer's reference number"),
      {
        ...parameter('in', 'Attachment', undefined, 1, 'One attachment', '*'),
        part: [
          parameter('in', 'LineItem', 'string', 0, 'The item sequence it is for', '*'),
          parameter('in', 'Code', 'CodeableConcept', 0, 'What it is (LOINC)'),
          parameter('in', 'Content', 'Resource', 1, 'The document (DocumentReference, QuestionnaireResponse…)'),
        ],
      },
      parameter('out', 'return', 'OperationOutcome', 1, 'Accepted'),
    ],
  }),
  operationDefinition({
    id: 'Bot-bind-pas',
    code: 'bind-pas',
    title: "Make a Bot the project's prior authorization adjudicator",
    description: 'One Bot per project decides PAS requests; binding another replaces it. No body.',
    affectsState: true,
    resource: ['Bot'],
    system: false,
    type: false,
    instance: true,
    parameter: [
      parameter('out', 'bot', 'string', 1, 'Bot/{id}'),
      parameter('out', 'name', 'string', 0, "The Bot's name"),
    ],
  }),
];
