import type { CdsRequest } from '../../cds/types.js';
import type { RuleSetDocument } from '../types.js';

/** A small valid CRD rule set; tests clone and break it. */
export function minimalRuleSet(): RuleSetDocument {
  return {
    id: 'pa-test',
    hook: 'order-sign',
    title: 'PA test',
    description: 'Test rule set',
    crd: true,
    source: { label: 'Test Payer' },
    facts: {
      plan: "prefetch.coverage.class.where(type.coding.code='group').value",
      codes: { fhirpath: '%order.code.coding', many: true },
      cpt: {
        fhirpath: "%order.code.coding.where(system='http://www.ama-assn.org/go/cpt').code",
        many: true,
        maxLength: 10,
      },
    },
    rules: [
      {
        name: 'pa-93456',
        conditions: {
          all: [
            { fact: 'plan', operator: 'equal', value: 'GRP2245' },
            { fact: 'codes', operator: 'codeIn', value: { system: 'cpt', codes: ['93456'] } },
          ],
        },
        events: [
          { type: 'coverage-information', covered: 'covered', paNeeded: 'auth-needed' },
          { type: 'card', summary: 'Prior auth needed for CPT {{cpt}}', indicator: 'info' },
        ],
      },
    ],
    defaultCoverage: { covered: 'covered', paNeeded: 'no-auth' },
  };
}

export function orderSignRequest(codes: { system: string; code: string }[][], plan = 'GRP2245'): CdsRequest {
  return {
    hook: 'order-sign',
    hookInstance: 'b6f1a8f0-6a3e-4a55-9b67-0d7c1b0e0c11',
    context: {
      patientId: 'p1',
      userId: 'Practitioner/u1',
      draftOrders: {
        resourceType: 'Bundle',
        type: 'collection',
        entry: codes.map((coding, i) => ({
          resource: {
            resourceType: 'ServiceRequest',
            id: `sr${i}`,
            status: 'draft',
            intent: 'order',
            subject: { reference: 'Patient/p1' },
            code: { coding },
          },
        })),
      },
    },
    prefetch: {
      coverage: {
        resourceType: 'Coverage',
        id: 'cov1',
        status: 'active',
        beneficiary: { reference: 'Patient/p1' },
        payor: [{ reference: 'Organization/o1' }],
        class: [{ type: { coding: [{ code: 'group' }] }, value: plan }],
      },
    },
  };
}

export const CPT = 'http://www.ama-assn.org/go/cpt';
