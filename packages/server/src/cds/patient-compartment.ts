/** The search parameter that confines a search of the EHR's FHIR server to one patient's compartment. */
import { compartmentParams } from '../fhir/compartment.js';
import { searchParameter } from '../fhir/definitions.js';

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
