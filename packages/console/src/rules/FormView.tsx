/**
 * The form view of a rule set: service, facts (by hand or from a template), value sets, rules with their conditions
 * (the rule-set format's operators) and events. Each field shows the validation messages whose JSON pointer is its
 * own, as `hookbot rules validate` names them.
 */
import { useId, useState, type ReactNode } from 'react';
import type { RuleSetIssue } from '../api';
import { escapePointer, getAt, renameKey, setAt, type Json, type JsonObject } from './document';
import type { Editing } from './RuleSetPage';
import { FACT_TEMPLATES } from './templates';

export const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'codeIn',
  'inValueSet',
  'dateBefore',
  'dateAfter',
  'dateOnOrBefore',
  'dateOnOrAfter',
  'dateWithin',
  'ageAtDate',
  'quantityCompare',
  'exists',
];
const HOOKS = [
  'order-sign',
  'order-select',
  'order-dispatch',
  'appointment-book',
  'patient-view',
  'encounter-start',
  'encounter-discharge',
  'prior-authorization',
];
const INDICATORS = ['info', 'warning', 'critical'];

const asObject = (v: Json | undefined): JsonObject => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const asArray = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);

/** Messages at exactly this pointer (or below it, with `below`). */
function issuesAt(errors: RuleSetIssue[] | undefined, pointer: string, below = false): RuleSetIssue[] {
  return (errors ?? []).filter((e) => e.pointer === pointer || (below && e.pointer.startsWith(`${pointer}/`)));
}

function Errors({ id, issues }: { id: string; issues: RuleSetIssue[] }) {
  if (issues.length === 0) return null;
  return (
    <ul className="field-errors" id={id}>
      {issues.map((e, i) => (
        <li key={i}>{e.message}</li>
      ))}
    </ul>
  );
}

interface FieldProps {
  label: string;
  pointer: string;
  editing: Editing;
  below?: boolean;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}

function Field({ label, pointer, editing, below, children }: FieldProps) {
  const id = useId();
  const issues = issuesAt(editing.verdict?.errors, pointer, below);
  const errId = `${id}-errors`;
  return (
    <div className={`field${issues.length ? ' invalid' : ''}`} data-pointer={pointer}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': issues.length > 0, ...(issues.length ? { 'aria-describedby': errId } : {}) })}
      <Errors id={errId} issues={issues} />
    </div>
  );
}

function TextField({
  label,
  pointer,
  editing,
  multiline,
}: {
  label: string;
  pointer: string;
  editing: Editing;
  multiline?: boolean;
}) {
  const value = getAt(editing.doc, pointer);
  const set = (v: string) => editing.setDoc(setAt(editing.doc, pointer, v === '' ? undefined : v));
  return (
    <Field label={label} pointer={pointer} editing={editing}>
      {(p) =>
        multiline ? (
          <textarea
            {...p}
            value={typeof value === 'string' ? value : ''}
            onChange={(e) => set(e.target.value)}
            rows={2}
          />
        ) : (
          <input
            {...p}
            type="text"
            value={typeof value === 'string' ? value : ''}
            onChange={(e) => set(e.target.value)}
          />
        )
      }
    </Field>
  );
}

function SelectField({
  label,
  pointer,
  editing,
  options,
}: {
  label: string;
  pointer: string;
  editing: Editing;
  options: string[];
}) {
  const value = getAt(editing.doc, pointer);
  const current = typeof value === 'string' ? value : '';
  const all = current && !options.includes(current) ? [current, ...options] : options;
  return (
    <Field label={label} pointer={pointer} editing={editing}>
      {(p) => (
        <select {...p} value={current} onChange={(e) => editing.setDoc(setAt(editing.doc, pointer, e.target.value))}>
          {!current && <option value="">—</option>}
          {all.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * A value as text: a string stays a string (what the analyst types is the value), anything else is JSON and is
 * kept as typed until it parses.
 */
function ValueField({ label, pointer, editing }: { label: string; pointer: string; editing: Editing }) {
  const value = getAt(editing.doc, pointer);
  const isString = typeof value === 'string';
  const shown = value === undefined ? '' : isString ? value : JSON.stringify(value);
  const [draft, setDraft] = useState<string | undefined>(undefined);
  return (
    <Field label={label} pointer={pointer} editing={editing}>
      {(p) => (
        <input
          {...p}
          type="text"
          value={draft ?? shown}
          onChange={(e) => {
            const text = e.target.value;
            if (isString) return editing.setDoc(setAt(editing.doc, pointer, text));
            setDraft(text);
            try {
              editing.setDoc(setAt(editing.doc, pointer, JSON.parse(text) as Json));
              setDraft(undefined);
            } catch {
              // Kept as a draft until it is JSON.
            }
          }}
        />
      )}
    </Field>
  );
}

function Condition({
  pointer,
  editing,
  facts,
  depth,
}: {
  pointer: string;
  editing: Editing;
  facts: string[];
  depth: number;
}) {
  const node = asObject(getAt(editing.doc, pointer));
  const remove = () => editing.setDoc(setAt(editing.doc, pointer, undefined));
  for (const group of ['all', 'any'] as const) {
    if (Array.isArray(node[group])) {
      const items = asArray(node[group]);
      return (
        <fieldset className="condition-group">
          <legend>{group === 'all' ? 'All of these are true' : 'Any of these is true'}</legend>
          {items.map((_, i) => (
            <Condition key={i} pointer={`${pointer}/${group}/${i}`} editing={editing} facts={facts} depth={depth + 1} />
          ))}
          <div className="row-actions">
            <button
              type="button"
              onClick={() =>
                editing.setDoc(
                  setAt(editing.doc, `${pointer}/${group}/${items.length}`, {
                    fact: facts[0] ?? '',
                    operator: 'equal',
                    value: '',
                  }),
                )
              }
            >
              Add a condition
            </button>
            {depth > 0 && (
              <button type="button" className="link" onClick={remove}>
                Remove group
              </button>
            )}
          </div>
        </fieldset>
      );
    }
  }
  if ('not' in node) {
    return (
      <fieldset className="condition-group">
        <legend>Not</legend>
        <Condition pointer={`${pointer}/not`} editing={editing} facts={facts} depth={depth + 1} />
      </fieldset>
    );
  }
  if ('condition' in node) {
    return (
      <div className="condition">
        <TextField label="Shared condition" pointer={`${pointer}/condition`} editing={editing} />
        <button type="button" className="link" onClick={remove}>
          Remove
        </button>
      </div>
    );
  }
  return (
    <div className="condition">
      <SelectField label="Fact" pointer={`${pointer}/fact`} editing={editing} options={facts} />
      <SelectField label="Operator" pointer={`${pointer}/operator`} editing={editing} options={OPERATORS} />
      <ValueField label="Value" pointer={`${pointer}/value`} editing={editing} />
      <Errors id={`${pointer}-errors`} issues={issuesAt(editing.verdict?.errors, pointer)} />
      <button type="button" className="link" onClick={remove}>
        Remove
      </button>
    </div>
  );
}

function Event({ pointer, editing }: { pointer: string; editing: Editing }) {
  const event = asObject(getAt(editing.doc, pointer));
  const type = typeof event.type === 'string' ? event.type : '';
  return (
    <fieldset className="event">
      <legend>
        {type === 'card'
          ? 'Card'
          : type === 'coverage-information'
            ? 'Coverage information'
            : type === 'suggestion'
              ? 'Suggestion'
              : type}
      </legend>
      {type === 'card' && (
        <>
          <TextField label="Summary" pointer={`${pointer}/summary`} editing={editing} />
          <SelectField label="Indicator" pointer={`${pointer}/indicator`} editing={editing} options={INDICATORS} />
          <TextField label="Detail" pointer={`${pointer}/detail`} editing={editing} multiline />
        </>
      )}
      {type === 'coverage-information' && (
        <>
          <SelectField
            label="Covered"
            pointer={`${pointer}/covered`}
            editing={editing}
            options={['covered', 'not-covered', 'conditional']}
          />
          <SelectField
            label="Prior authorization"
            pointer={`${pointer}/paNeeded`}
            editing={editing}
            options={['auth-needed', 'no-auth', 'satisfied', 'performpa', 'conditional']}
          />
        </>
      )}
      {type === 'suggestion' && <TextField label="Label" pointer={`${pointer}/label`} editing={editing} />}
      <Errors id={`${pointer}-errors`} issues={issuesAt(editing.verdict?.errors, pointer)} />
      <p className="hint">Other fields of this event (links, reasons, actions) are edited in the code view.</p>
    </fieldset>
  );
}

function FactTemplates({ editing }: { editing: Editing }) {
  const [templateId, setTemplateId] = useState(FACT_TEMPLATES[0]?.id ?? '');
  const template = FACT_TEMPLATES.find((t) => t.id === templateId) ?? FACT_TEMPLATES[0];
  const [params, setParams] = useState<Record<string, string>>({});
  const [name, setName] = useState('');
  if (!template) return null;
  const values = Object.fromEntries(
    template.params.map((p) => [p.name, params[`${template.id}.${p.name}`] ?? p.default]),
  );
  const fhirpath = template.fhirpath(values);
  const factName = name || template.factName;
  return (
    <fieldset className="templates">
      <legend>Add a fact from a template</legend>
      <label htmlFor="template">Template</label>
      <select id="template" value={template.id} onChange={(e) => setTemplateId(e.target.value)}>
        {FACT_TEMPLATES.map((t) => (
          <option key={t.id} value={t.id}>
            {t.label}
          </option>
        ))}
      </select>
      {template.params.map((p) => {
        const id = `template-${template.id}-${p.name}`;
        const set = (v: string) => setParams({ ...params, [`${template.id}.${p.name}`]: v });
        return (
          <div key={id} className="field">
            <label htmlFor={id}>{p.label}</label>
            {p.options ? (
              <select id={id} value={values[p.name]} onChange={(e) => set(e.target.value)}>
                {p.options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            ) : (
              <input id={id} type="text" value={values[p.name]} onChange={(e) => set(e.target.value)} />
            )}
          </div>
        );
      })}
      <label htmlFor="template-name">Fact name</label>
      <input id="template-name" type="text" value={factName} onChange={(e) => setName(e.target.value)} />
      <p className="hint">
        FHIRPath: <code>{fhirpath}</code> — use it with the <code>{template.operator}</code> operator.
      </p>
      <button
        type="button"
        onClick={() =>
          editing.setDoc(
            setAt(
              editing.doc,
              `/facts/${escapePointer(factName)}`,
              template.many ? { fhirpath, many: true } : fhirpath,
            ),
          )
        }
      >
        Add fact {factName}
      </button>
    </fieldset>
  );
}

export function FormView({ editing, onExplore }: { editing: Editing; onExplore: (fhirpath: string) => void }) {
  const facts = asObject(getAt(editing.doc, '/facts'));
  const factNames = Object.keys(facts);
  const valueSets = asObject(getAt(editing.doc, '/valueSets'));
  const rules = asArray(getAt(editing.doc, '/rules'));
  return (
    <div className="form-view">
      <section aria-labelledby="service-title">
        <h2 id="service-title">Service</h2>
        <div className="cols">
          <TextField label="Title" pointer="/title" editing={editing} />
          <SelectField label="Hook" pointer="/hook" editing={editing} options={HOOKS} />
          <TextField label="Card source (payer name)" pointer="/source/label" editing={editing} />
        </div>
        <TextField label="Description" pointer="/description" editing={editing} multiline />
      </section>

      <section aria-labelledby="facts-title">
        <h2 id="facts-title">Facts</h2>
        {factNames.map((name) => {
          const fact = facts[name];
          const isObject = fact && typeof fact === 'object' && !Array.isArray(fact);
          const pathPointer = `/facts/${escapePointer(name)}${isObject ? '/fhirpath' : ''}`;
          const fhirpath = getAt(editing.doc, pathPointer);
          return (
            <div className="fact" key={name}>
              <Field label="Name" pointer={`/facts/${escapePointer(name)}`} editing={editing}>
                {(p) => (
                  <input
                    {...p}
                    type="text"
                    defaultValue={name}
                    onBlur={(e) => {
                      const next = e.target.value.trim();
                      if (next && next !== name)
                        editing.setDoc(setAt(editing.doc, '/facts', renameKey(facts, name, next)));
                    }}
                  />
                )}
              </Field>
              <TextField label={`FHIRPath of ${name}`} pointer={pathPointer} editing={editing} />
              <div className="row-actions">
                <button type="button" onClick={() => onExplore(typeof fhirpath === 'string' ? fhirpath : '')}>
                  Explore {name}
                </button>
                <button
                  type="button"
                  className="link"
                  onClick={() => editing.setDoc(setAt(editing.doc, `/facts/${escapePointer(name)}`, undefined))}
                >
                  Remove {name}
                </button>
              </div>
            </div>
          );
        })}
        <FactTemplates editing={editing} />
      </section>

      <section aria-labelledby="valuesets-title">
        <h2 id="valuesets-title">Value sets</h2>
        {Object.keys(valueSets).map((name) => {
          const codes = asArray(asObject(valueSets[name]).codes);
          const pointer = `/valueSets/${escapePointer(name)}`;
          return (
            <div className="cols" key={name}>
              <Field label={`Codes of ${name}`} pointer={`${pointer}/codes`} editing={editing} below>
                {(p) => (
                  <input
                    {...p}
                    type="text"
                    value={codes.join(', ')}
                    onChange={(e) =>
                      editing.setDoc(
                        setAt(
                          editing.doc,
                          `${pointer}/codes`,
                          e.target.value
                            .split(',')
                            .map((c) => c.trim())
                            .filter(Boolean),
                        ),
                      )
                    }
                  />
                )}
              </Field>
              <TextField label={`System of ${name}`} pointer={`${pointer}/system`} editing={editing} />
            </div>
          );
        })}
      </section>

      <section aria-labelledby="rules-title">
        <h2 id="rules-title">Rules</h2>
        {rules.map((rule, i) => {
          const events = asArray(asObject(rule).events);
          return (
            <article className="rule" key={i} aria-labelledby={`rule-${i}-name`}>
              <h3 id={`rule-${i}-name`}>{String(asObject(rule).name ?? `Rule ${i + 1}`)}</h3>
              <div className="cols">
                <TextField label="Rule name" pointer={`/rules/${i}/name`} editing={editing} />
                <ValueField label="Priority" pointer={`/rules/${i}/priority`} editing={editing} />
              </div>
              <Condition pointer={`/rules/${i}/conditions`} editing={editing} facts={factNames} depth={0} />
              {events.map((_, j) => (
                <Event key={j} pointer={`/rules/${i}/events/${j}`} editing={editing} />
              ))}
            </article>
          );
        })}
      </section>
    </div>
  );
}
