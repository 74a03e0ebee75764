/**
 * Validation run by create and update: the baseline every resource gets (JSON object, supported type, id format,
 * server-managed `meta`, structure against the FHIR R4 StructureDefinitions via @medplum/core's validator), then
 * the validators registered per type (the Bot `cdsService` one lives with the bots domain).
 */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { badRequest, invalidIssues, type Issue, type IssueType } from '../infra/errors.js';
import { findUnstorable } from '../infra/storable.js';
import { ensureDefinitions } from './definitions.js';
import { ID_PATTERN, isSupportedResourceType } from './resource-types.js';

export type ResourceValidator = (resource: Resource & Record<string, unknown>) => Issue[];

const validators = new Map<string, ResourceValidator[]>();

/** Adds a validator for a resource type; returns a function that removes it. */
export function registerResourceValidator(resourceType: string, validator: ResourceValidator): () => void {
  const list = validators.get(resourceType) ?? [];
  list.push(validator);
  validators.set(resourceType, list);
  return () => {
    const current = validators.get(resourceType) ?? [];
    validators.set(
      resourceType,
      current.filter((v) => v !== validator),
    );
  };
}

/**
 * Elements Hookbot adds to a type beyond the R4/Medplum definitions; removed before the structural check and
 * validated by the registered validators instead.
 */
const EXTENSION_ELEMENTS: Record<string, string[]> = { Bot: ['cdsService'] };

export interface WriteExpectations {
  /**
   * Skip the StructureDefinition check: only for resources the server builds from typed code (audit events), whose
   * shape is proven by a unit test, never for anything a caller sent.
   */
  serverBuilt?: boolean;
}

/** Returns the resource to store: validated, `meta.versionId`/`meta.lastUpdated` removed (the server sets them). */
export function validateForWrite(input: unknown, expect: WriteExpectations = {}): Resource {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw badRequest('fhir.invalid-resource', 'Resource must be a JSON object');
  }
  const resource = { ...(input as Record<string, unknown>) };
  const type = resource.resourceType;
  if (typeof type !== 'string' || type === '') {
    throw badRequest('fhir.invalid-resource', 'Missing resourceType', 'resourceType');
  }
  if (!isSupportedResourceType(type)) {
    throw badRequest('fhir.unsupported-type', `Unsupported resource type "${type}"`, 'resourceType');
  }
  // Before the structural check, which recurses, and the store, which cannot hold such strings.
  const unstorable = findUnstorable(input);
  if (unstorable) {
    const where = unstorable.path ? `${type}.${unstorable.path}` : type;
    throw badRequest('request.unstorable', `${where}: ${unstorable.message}`, where);
  }
  if (resource.id !== undefined && (typeof resource.id !== 'string' || !ID_PATTERN.test(resource.id))) {
    throw badRequest('fhir.invalid-id', 'Invalid id: 1-64 characters of A-Z, a-z, 0-9, "-" and "."', `${type}.id`);
  }
  if (resource.meta !== undefined) {
    if (typeof resource.meta !== 'object' || resource.meta === null || Array.isArray(resource.meta)) {
      throw badRequest('fhir.invalid-resource', 'meta must be an object', `${type}.meta`);
    }
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta as Record<string, unknown>;
    resource.meta = meta;
  }
  const issues = [...(expect.serverBuilt ? [] : structuralIssues(type, resource)), ...customIssues(type, resource)];
  if (issues.some((i) => i.severity !== 'warning' && i.severity !== 'information')) {
    throw invalidIssues('fhir.invalid-resource', issues);
  }
  return resource as unknown as Resource;
}

function structuralIssues(type: string, resource: Record<string, unknown>): Issue[] {
  ensureDefinitions();
  const copy = { ...resource };
  for (const element of EXTENSION_ELEMENTS[type] ?? []) {
    delete copy[element];
  }
  try {
    return validateResource(copy as unknown as Resource)
      .filter((i) => i.severity === 'error')
      .map(toIssue);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return (err.outcome.issue ?? []).map(toIssue);
    }
    throw err;
  }
}

function customIssues(type: string, resource: Record<string, unknown>): Issue[] {
  return (validators.get(type) ?? []).flatMap((validate) => validate(resource as Resource & Record<string, unknown>));
}

function toIssue(issue: OperationOutcomeIssue): Issue {
  return {
    severity: issue.severity === 'fatal' ? 'fatal' : (issue.severity ?? 'error'),
    code: (issue.code ?? 'invalid') as IssueType,
    diagnostics: issue.details?.text ?? issue.diagnostics ?? 'Invalid resource',
    ...(issue.expression ? { expression: issue.expression } : {}),
  };
}
