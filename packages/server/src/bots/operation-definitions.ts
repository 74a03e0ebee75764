/**
 * The OperationDefinitions of the bot operations (`routes.ts`), served at `/fhir/R4/OperationDefinition/{id}`.
 * Their bodies are Medplum's: plain JSON objects, not Parameters (its CLI and client send them so).
 */
import type { OperationDefinition } from '@medplum/fhirtypes';
import { operationDefinition, parameter } from '../fhir/capability/operation-definitions.js';

export const BOT_OPERATIONS: OperationDefinition[] = [
  operationDefinition({
    id: 'Bot-deploy',
    code: 'deploy',
    title: 'Deploy a Bot',
    description:
      'Checks that the compiled JavaScript compiles in the sandbox and stores it as a new Bot version. The body is a ' +
      'JSON object {code, filename?, sourceCode?}; the answer an OperationOutcome, the new version in the ETag.',
    affectsState: true,
    resource: ['Bot'],
    system: false,
    type: false,
    instance: true,
    parameter: [
      parameter('in', 'code', 'string', 1, "The bot's compiled JavaScript (at most 5 MB)"),
      parameter('in', 'filename', 'string', 0, 'The file name the code was built to (stack traces)'),
      parameter('in', 'sourceCode', 'string', 0, 'The source, kept with the version'),
      parameter('out', 'return', 'OperationOutcome', 1, 'Deployed Bot/{id} version {n}'),
    ],
  }),
  operationDefinition({
    id: 'Bot-execute',
    code: 'execute',
    title: 'Run a Bot',
    description:
      'Runs the Bot with the request body (POST, any media type) or the query parameters (GET) as its input and ' +
      "answers the bot's result as JSON (text when it returns a string). At type level (POST Bot/$execute) the Bot " +
      'is the one whose identifier is the `identifier` query parameter.',
    affectsState: true,
    resource: ['Bot'],
    system: false,
    type: true,
    instance: true,
    parameter: [
      parameter('in', 'identifier', 'string', 0, 'system|value of the Bot to run (type level only)'),
      parameter('in', 'input', undefined, 0, 'The body (or query) as sent: the input the bot receives'),
      parameter('out', 'return', undefined, 0, 'What the bot returns'),
    ],
  }),
  operationDefinition({
    id: 'Bot-rollback',
    code: 'rollback',
    title: 'Make an earlier Bot version current again',
    description:
      "The body is a JSON object {version}: a versionId from the Bot's _history; the restore is a new version.",
    affectsState: true,
    resource: ['Bot'],
    system: false,
    type: false,
    instance: true,
    parameter: [
      parameter('in', 'version', 'string', 1, 'The versionId to restore'),
      parameter('out', 'return', 'Bot', 1, 'The Bot as now current'),
    ],
  }),
];
