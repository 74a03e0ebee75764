/**
 * FHIR Bulk Data Access 2.0 `$export` at its three levels, under the implementation guide's canonical URLs. They
 * are listed (and served) only where the app has the route: `statement.ts` pairs definitions with routes.
 */
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { operationDefinition, parameter } from './operation-definitions.js';

const GUIDE = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';

const PARAMETERS: OperationDefinitionParameter[] = [
  parameter('in', '_outputFormat', 'string', 0, 'application/fhir+ndjson (also application/ndjson, ndjson)'),
  parameter('in', '_since', 'instant', 0, 'Only resources changed since this instant'),
  parameter('in', '_type', 'string', 0, 'Comma-separated resource types to export', '*'),
];

const DESCRIPTION =
  'Asynchronous (Prefer: respond-async): 202 with Content-Location to a status URL that answers 202 while the ' +
  'export runs and 200 with the manifest of NDJSON files when it is done; DELETE on it cancels.';

export const BULK_EXPORT_OPERATIONS: OperationDefinition[] = [
  operationDefinition({
    id: 'export',
    url: `${GUIDE}/export`,
    name: 'BulkDataExport',
    code: 'export',
    title: "Export the project's data",
    description: DESCRIPTION,
    affectsState: false,
    system: true,
    type: false,
    instance: false,
    parameter: PARAMETERS,
  }),
  operationDefinition({
    id: 'patient-export',
    url: `${GUIDE}/patient-export`,
    name: 'PatientLevelExport',
    code: 'export',
    title: "Export the project's patients' compartments",
    description: DESCRIPTION,
    affectsState: false,
    resource: ['Patient'],
    system: false,
    type: true,
    instance: false,
    parameter: PARAMETERS,
  }),
  operationDefinition({
    id: 'group-export',
    url: `${GUIDE}/group-export`,
    name: 'GroupLevelExport',
    code: 'export',
    title: "Export a Group's members' compartments",
    description: DESCRIPTION,
    affectsState: false,
    resource: ['Group'],
    system: false,
    type: false,
    instance: true,
    parameter: PARAMETERS,
  }),
];
