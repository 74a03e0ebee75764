/**
 * FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html): a `Parameters` resource of `operation`s (`add`,
 * `insert`, `delete`, `replace`, `move`), each a `path` in FHIRPath. Paths are evaluated with @medplum/core, whose
 * results are the resource's own objects: an element found is changed in place (on a copy of the resource) by
 * finding its container. A primitive target (a string, a date) has no identity, so its path must end in a plain
 * element name, optionally indexed (`Patient.birthDate`, `Patient.name[0].given[1]`).
 */
import { evalFhirPathTyped, toTypedValue, tryGetDataType, type TypedValue } from '@medplum/core';
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../infra/errors.js';
import { ensureDefinitions } from '../definitions.js';

type Json = Record<string, unknown>;

/** Where an element sits: `container[key]`, or `container[key][index]` in a list. */
interface Location {
  container: Json;
  key: string;
  index?: number;
}

const invalid = (message: string) => badRequest('fhir.invalid-patch', message);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `body` is a FHIRPath Patch (rather than a JSON Patch, a list). */
export function isFhirPathPatch(body: unknown): body is Parameters {
  return isObject(body) && body.resourceType === 'Parameters';
}

/** `resource` with the operations of `patch` applied, in order; the input is not changed. */
export function applyFhirPathPatch(resource: Resource, patch: Parameters): Resource {
  ensureDefinitions();
  const copy = structuredClone(resource) as Resource & Json;
  const operations = patch.parameter ?? [];
  if (!Array.isArray(operations) || operations.length === 0) throw invalid('A FHIRPath Patch needs operations');
  operations.forEach((operation, i) => {
    try {
      applyOperation(copy, operation);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw invalid(`Operation ${i}: ${message.replace(/^Operation \d+: /, '')}`);
    }
  });
  return copy;
}

/** An operation's parts by name (`type`, `path`, `name`, `value`, `index`, `source`, `destination`). */
function partsOf(operation: ParametersParameter): Map<string, ParametersParameter> {
  if (operation.name !== 'operation' || !Array.isArray(operation.part)) {
    throw new Error('each parameter must be an "operation" with parts');
  }
  return new Map(operation.part.map((p) => [p.name, p]));
}

function stringPart(parts: Map<string, ParametersParameter>, name: string): string {
  const part = parts.get(name);
  const value = part?.valueString ?? part?.valueCode;
  if (typeof value !== 'string' || value === '') throw new Error(`"${name}" is required`);
  return value;
}

function integerPart(parts: Map<string, ParametersParameter>, name: string): number {
  const value = parts.get(name)?.valueInteger;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`"${name}" must be a non-negative integer`);
  }
  return value;
}

/** The `value` part: a `value[x]` (with its type's name, for choice elements) or, for a complex type, its parts. */
function valuePart(parts: Map<string, ParametersParameter>): { value: unknown; type?: string } {
  const part = parts.get('value');
  if (!part) throw new Error('"value" is required');
  const key = Object.keys(part).find((k) => k.startsWith('value') && k.length > 5);
  if (key) return { value: structuredClone((part as unknown as Json)[key]), type: key.slice(5) };
  if (Array.isArray(part.part)) return { value: fromParts(part.part) };
  throw new Error('"value" has no value[x] nor parts');
}

/** An element given as parts (complex types that are not data types): each part a property, repeated ones a list. */
function fromParts(parts: ParametersParameter[]): Json {
  const out: Json = {};
  for (const part of parts) {
    const key = Object.keys(part).find((k) => k.startsWith('value') && k.length > 5);
    const value = key ? (part as unknown as Json)[key] : Array.isArray(part.part) ? fromParts(part.part) : undefined;
    if (value === undefined || !part.name) continue;
    const existing = out[part.name];
    out[part.name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return out;
}

function evaluate(resource: Resource, path: string): TypedValue[] {
  try {
    return evalFhirPathTyped(path, [toTypedValue(resource)]);
  } catch (err) {
    throw new Error(`path "${path}" is not FHIRPath: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function applyOperation(resource: Resource & Json, operation: ParametersParameter): void {
  const parts = partsOf(operation);
  const type = stringPart(parts, 'type');
  const path = stringPart(parts, 'path');
  switch (type) {
    case 'add': {
      const [target, ...more] = evaluate(resource, path);
      if (!target || more.length > 0 || !isObject(target.value)) throw new Error(`"${path}" must be one element`);
      const name = stringPart(parts, 'name');
      const { value, type: valueType } = valuePart(parts);
      const element = tryGetDataType(target.type)?.elements;
      const key = element && `${name}[x]` in element && valueType ? `${name}${valueType}` : name;
      const existing = target.value[key];
      if (Array.isArray(existing)) existing.push(value);
      else if (existing === undefined && element?.[name]?.isArray) target.value[key] = [value];
      else if (existing === undefined) target.value[key] = value;
      else throw new Error(`"${path}.${name}" already has a value: use replace`);
      return;
    }
    case 'insert': {
      const { list } = listAt(resource, path);
      const index = integerPart(parts, 'index');
      if (index > list.length) throw new Error(`index ${index} is beyond the list's ${list.length} elements`);
      list.splice(index, 0, valuePart(parts).value);
      return;
    }
    case 'move': {
      const { list } = listAt(resource, path);
      const source = integerPart(parts, 'source');
      const destination = integerPart(parts, 'destination');
      if (source >= list.length || destination >= list.length) {
        throw new Error(`source and destination must be below the list's ${list.length} elements`);
      }
      list.splice(destination, 0, ...list.splice(source, 1));
      return;
    }
    case 'delete': {
      const found = locate(resource, path);
      if (found.length > 1) throw new Error(`"${path}" matches ${found.length} elements: delete removes one`);
      // Deleting what is not there leaves the resource as it is (fhirpatch.html: no error).
      if (found[0]) remove(found[0]);
      return;
    }
    case 'replace': {
      const found = locate(resource, path);
      if (found.length !== 1) throw new Error(`"${path}" matches ${found.length} elements: replace needs one`);
      const { container, key, index } = found[0] as Location;
      const { value } = valuePart(parts);
      if (index === undefined) container[key] = value;
      else (container[key] as unknown[])[index] = value;
      return;
    }
    default:
      throw new Error(`unknown type "${type}": expected add, insert, delete, replace or move`);
  }
}

/** Splits `parent.name` or `parent.name[n]`; a path ending otherwise (a function) has no such container. */
function splitPath(path: string): { parent: string; name: string; index?: number } | undefined {
  const match = /^(.+)\.([a-z][A-Za-z0-9]*)(?:\[(\d+)\])?$/s.exec(path.trim());
  if (!match) return undefined;
  const [, parent = '', name = '', index] = match;
  return { parent, name, ...(index === undefined ? {} : { index: Number(index) }) };
}

/** The key holding element `name` in `container`: itself, or a choice element's `name[Type]`. */
function keyIn(container: Json, name: string): string {
  if (name in container) return name;
  return Object.keys(container).find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length))) ?? name;
}

/** The one container of `path`'s last element, evaluated from its parent path. */
function parentOf(resource: Resource, path: string): { container: Json; key: string; index?: number } {
  const split = splitPath(path);
  if (!split) throw new Error(`"${path}" must end in an element name`);
  const parents = evaluate(resource, split.parent).filter((t) => isObject(t.value));
  if (parents.length !== 1) throw new Error(`"${split.parent}" matches ${parents.length} elements, not one`);
  const container = (parents[0] as TypedValue).value as Json;
  return { container, key: keyIn(container, split.name), ...(split.index === undefined ? {} : { index: split.index }) };
}

/** The list `path` names (created empty when missing, so that insert can start it). */
function listAt(resource: Resource, path: string): { list: unknown[] } {
  const { container, key, index } = parentOf(resource, path);
  if (index !== undefined) throw new Error(`"${path}" must name a list, not one of its elements`);
  const existing = container[key];
  if (existing !== undefined && !Array.isArray(existing)) throw new Error(`"${path}" is not a list`);
  if (existing === undefined) container[key] = [];
  return { list: container[key] as unknown[] };
}

/** Where each element `path` matches sits: objects by identity, primitives through their parent path. */
function locate(resource: Resource & Json, path: string): Location[] {
  const results = evaluate(resource, path);
  if (results.length === 0) return [];
  if (results.every((r) => isObject(r.value))) {
    return results.map((r) => {
      const found = findObject(resource, r.value as Json);
      if (!found) throw new Error(`"${path}" matches an element that is not part of the resource`);
      return found;
    });
  }
  const { container, key, index } = parentOf(resource, path);
  const value = container[key];
  if (!Array.isArray(value)) return value === undefined ? [] : [{ container, key }];
  if (index !== undefined) return index < value.length ? [{ container, key, index }] : [];
  return value.map((_, i) => ({ container, key, index: i }));
}

/** Depth-first search for `target` (by identity) below `node`. */
function findObject(node: Json, target: Json): Location | undefined {
  for (const [key, value] of Object.entries(node)) {
    if (value === target) return { container: node, key };
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) {
        if (item === target) return { container: node, key, index };
        if (isObject(item)) {
          const found = findObject(item, target);
          if (found) return found;
        }
      }
    } else if (isObject(value)) {
      const found = findObject(value, target);
      if (found) return found;
    }
  }
  return undefined;
}

/** Removes the element; a list left empty is removed too (FHIR has no empty lists). */
function remove({ container, key, index }: Location): void {
  const value = container[key];
  if (index === undefined || !Array.isArray(value)) {
    delete container[key];
    return;
  }
  value.splice(index, 1);
  if (value.length === 0) delete container[key];
}
