/** The OperationDefinitions of the rule-set operations (`routes.ts`); their bodies are rule-set JSON documents. */
import type { OperationDefinition } from '@medplum/fhirtypes';
import { operationDefinition, parameter } from '../fhir/capability/operation-definitions.js';

export const RULE_SET_OPERATIONS: OperationDefinition[] = [
  operationDefinition({
    id: 'Bot-deploy-rules',
    code: 'deploy-rules',
    title: 'Deploy a rule set',
    description:
      'Validates a rule set (the body, or {ruleSet}) and creates or updates the Bot that serves it: 201 when it ' +
      'created the Bot, 200 otherwise; an invalid rule set is a 400 naming each problem and deploys nothing.',
    affectsState: true,
    resource: ['Bot'],
    system: false,
    type: true,
    instance: false,
    parameter: [
      parameter('in', 'ruleSet', undefined, 1, 'The rule set (JSON), as `hookbot rules validate` checks it'),
      parameter('out', 'bot', 'Bot', 1, 'The Bot serving the rule set'),
      parameter('out', 'version', 'string', 1, "The Bot's new versionId"),
      parameter('out', 'created', 'boolean', 1, 'Whether the Bot was created'),
    ],
  }),
  operationDefinition({
    id: 'Bot-test-rules',
    code: 'test-rules',
    title: "Run a rule set's test cases",
    description:
      "Runs the rule set's own test cases in the sandbox, as the deployed Bot would, without deploying anything.",
    affectsState: false,
    resource: ['Bot'],
    system: false,
    type: true,
    instance: false,
    parameter: [
      parameter('in', 'ruleSet', undefined, 1, 'The rule set (JSON) with its tests, requests inline'),
      parameter('out', 'passed', 'boolean', 1, 'Whether every case passed'),
      parameter('out', 'results', undefined, 1, 'Each case: name, passed, diff', '*'),
    ],
  }),
];
