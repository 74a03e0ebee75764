/**
 * The OperationDefinitions of the rule-set operations (`routes.ts`). Their bodies and answers are JSON documents
 * (rule sets, CDS Hooks requests, verdicts), not Parameters: parameters without a FHIR type are such properties.
 */
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
  operationDefinition({
    id: 'Bot-validate-rules',
    code: 'validate-rules',
    title: 'Validate a rule set',
    description:
      'The checks of `hookbot rules validate`: always 200 with the verdict (an invalid rule set is the answer, not a ' +
      'failed request), each issue with its JSON pointer and, when the text was sent, its line and column.',
    affectsState: false,
    resource: ['Bot'],
    system: false,
    type: true,
    instance: false,
    parameter: [
      parameter('in', 'text', 'string', 0, 'The rule set as JSON or YAML text (or send the rule set as the body)'),
      parameter('in', 'fileName', 'string', 0, "The text's file name, named in errors; .json reads it as JSON"),
      parameter('in', 'ruleSet', undefined, 0, 'The rule set (JSON), instead of text'),
      parameter('out', 'valid', 'boolean', 1, 'Whether the rule set has no errors'),
      parameter('out', 'errors', undefined, 0, 'Each error: pointer, message, line, column', '*'),
      parameter('out', 'warnings', undefined, 0, 'Each warning: pointer, message, line, column', '*'),
      parameter('out', 'ruleSet', undefined, 0, 'The parsed document, when text was sent'),
    ],
  }),
  operationDefinition({
    id: 'Bot-preview-rules',
    code: 'preview-rules',
    title: 'Preview what a rule set answers to a hook request',
    description:
      "Runs the bot a deploy would build, in the sandbox with a deployed rule set's limits, on one CDS Hooks request " +
      "of the rule set's hook, and checks its answer as a CDS call's is checked; deploys nothing.",
    affectsState: false,
    resource: ['Bot'],
    system: false,
    type: true,
    instance: false,
    parameter: [
      parameter('in', 'ruleSet', undefined, 1, 'The rule set (JSON); not a prior-authorization one'),
      parameter('in', 'request', undefined, 1, "A CDS Hooks request for the rule set's hook"),
      parameter('out', 'response', undefined, 1, 'The CDS Hooks response (cards)'),
      parameter('out', 'valid', 'boolean', 1, 'Whether the response is a valid CDS Hooks answer'),
      parameter('out', 'errors', undefined, 0, 'What makes the response invalid', '*'),
      parameter('out', 'warnings', undefined, 0, 'What an EHR may render differently', '*'),
    ],
  }),
  operationDefinition({
    id: 'Bot-evaluate-fact',
    code: 'evaluate-fact',
    title: 'Evaluate a FHIRPath fact on a hook request',
    description:
      'What one rule-set fact gives on a sample CDS Hooks request, for each order a rule set would judge (%order ' +
      "bound to it); the expression passes a rule set's checks first and runs in the sandbox.",
    affectsState: false,
    resource: ['Bot'],
    system: false,
    type: true,
    instance: false,
    parameter: [
      parameter('in', 'fhirpath', 'string', 1, "The fact's FHIRPath expression"),
      parameter('in', 'request', undefined, 1, 'A CDS Hooks request (not prior-authorization)'),
      parameter('out', 'results', undefined, 1, 'Per judged order: order (null without one) and value (a list)', '*'),
    ],
  }),
  operationDefinition({
    id: 'Bot-rule-set',
    code: 'rule-set',
    title: 'Read the rule set a Bot version serves',
    description:
      'The rule set a version of a rule-set Bot serves (the current version without `version`); 422 for a Bot ' +
      'that serves code.',
    affectsState: false,
    resource: ['Bot'],
    system: false,
    type: false,
    instance: true,
    parameter: [
      parameter('in', 'version', 'string', 0, "A versionId from the Bot's _history"),
      parameter('out', 'botId', 'id', 1, "The Bot's id"),
      parameter('out', 'version', 'string', 1, 'The versionId read'),
      parameter('out', 'lastUpdated', 'instant', 0, "That version's lastUpdated"),
      parameter('out', 'ruleSet', undefined, 1, 'The rule set (JSON)'),
    ],
  }),
  operationDefinition({
    id: 'Bot-rule-set-diff',
    code: 'rule-set-diff',
    title: 'Diff the rule sets of two Bot versions',
    description: 'A line diff of the rule sets two versions of a rule-set Bot serve (two-space JSON).',
    affectsState: false,
    resource: ['Bot'],
    system: false,
    type: false,
    instance: true,
    parameter: [
      parameter('in', 'from', 'string', 1, "The older versionId, from the Bot's _history"),
      parameter('in', 'to', 'string', 1, 'The newer versionId'),
      parameter('out', 'from', 'string', 1, 'The versionId diffed from'),
      parameter('out', 'to', 'string', 1, 'The versionId diffed to'),
      parameter('out', 'changed', 'integer', 1, 'How many lines differ'),
      parameter('out', 'lines', undefined, 1, "Each line: op ('=', '-', '+') and text", '*'),
    ],
  }),
];
