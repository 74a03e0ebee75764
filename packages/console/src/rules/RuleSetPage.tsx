/**
 * One rule set: the document is held here once and shown by the form view, the code view (JSON or YAML), the test
 * panel and the ship panel, so switching never loses an edit. Every change is validated by the server's
 * `Bot/$validate-rules` (the checks and messages of `hookbot rules validate`), a moment after typing stops.
 */
import { useEffect, useRef, useState } from 'react';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { api, type SessionUser, type Verdict } from '../api';
import { NavLink } from '../App';
import { CodeView } from './CodeView';
import type { Json } from './document';
import { FactExplorer } from './FactExplorer';
import { FormView } from './FormView';
import { ShipPanel } from './ShipPanel';
import { TestPanel } from './TestPanel';

export type Format = 'json' | 'yaml';

const serialize = (doc: Json, format: Format) =>
  format === 'json' ? JSON.stringify(doc, null, 2) : stringifyYaml(doc, { lineWidth: 0 });

export interface Editing {
  doc: Json;
  setDoc: (doc: Json) => void;
  verdict?: Verdict;
}

export function RuleSetPage({ botId, tab, user }: { botId: string; tab: 'edit' | 'test' | 'ship'; user: SessionUser }) {
  const [doc, setDocState] = useState<Json | undefined>(undefined);
  const [format, setFormat] = useState<Format>('json');
  const [view, setView] = useState<'form' | 'code'>('form');
  const [text, setText] = useState('');
  const [verdict, setVerdict] = useState<Verdict | undefined>(undefined);
  const [loadError, setLoadError] = useState('');
  const [deployedVersion, setDeployedVersion] = useState('');
  const [factToExplore, setFactToExplore] = useState('');

  const load = () => {
    api<{ ruleSet: Json; version: string }>(`/fhir/R4/Bot/${encodeURIComponent(botId)}/$rule-set`).then(
      (r) => {
        setDocState(r.ruleSet);
        setText(serialize(r.ruleSet, format));
        setDeployedVersion(r.version);
      },
      (err: Error) => setLoadError(err.message),
    );
  };
  useEffect(load, [botId]);

  const setDoc = (next: Json) => {
    setDocState(next);
    setText(serialize(next, format));
  };
  const onText = (next: string) => {
    setText(next);
    try {
      setDocState(parseYaml(next) as Json);
    } catch {
      // Text that does not parse stays in the code view; the server's verdict says where.
    }
  };
  const switchFormat = (next: Format) => {
    setFormat(next);
    if (doc !== undefined) setText(serialize(doc, next));
  };

  // Validation as you type: the latest text only, a moment after the last keystroke.
  const sequence = useRef(0);
  useEffect(() => {
    if (!text) return;
    const mine = ++sequence.current;
    const timer = setTimeout(() => {
      api<Verdict>('/fhir/R4/Bot/$validate-rules', {
        method: 'POST',
        json: { text, fileName: format === 'yaml' ? 'rules.yaml' : 'rules.json' },
      }).then(
        (v) => mine === sequence.current && setVerdict(v),
        () => undefined,
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [text, format]);

  if (loadError)
    return (
      <p role="alert" className="error">
        {loadError}
      </p>
    );
  if (doc === undefined) return <p className="loading">Loading the rule set…</p>;
  const title =
    typeof doc === 'object' && doc && !Array.isArray(doc) && typeof doc.title === 'string' ? doc.title : botId;
  const editing: Editing = { doc, setDoc, ...(verdict ? { verdict } : {}) };
  const status = verdict
    ? verdict.valid
      ? 'Valid rule set'
      : `${verdict.errors.length} problem${verdict.errors.length === 1 ? '' : 's'}`
    : 'Checking…';

  return (
    <section aria-labelledby="rule-set-title">
      <div className="page-head">
        <h1 id="rule-set-title">{title}</h1>
        <span className={`status ${verdict?.valid ? 'ok' : verdict ? 'bad' : ''}`} role="status" aria-live="polite">
          {status}
        </span>
        <span className="hint">Deployed version {deployedVersion}</span>
      </div>
      <nav className="tabs" aria-label="Rule set">
        <NavLink route={{ page: 'rules', botId, tab: 'edit' }} current={tab === 'edit'}>
          Edit
        </NavLink>
        <NavLink route={{ page: 'rules', botId, tab: 'test' }} current={tab === 'test'}>
          Test
        </NavLink>
        <NavLink route={{ page: 'rules', botId, tab: 'ship' }} current={tab === 'ship'}>
          Ship
        </NavLink>
        <NavLink route={{ page: 'watch', botId }}>Watch</NavLink>
      </nav>
      {tab === 'edit' && (
        <div className="editor-layout">
          <div className="editor-main">
            <div className="toolbar" role="group" aria-label="View">
              <button type="button" aria-pressed={view === 'form'} onClick={() => setView('form')}>
                Form
              </button>
              <button type="button" aria-pressed={view === 'code'} onClick={() => setView('code')}>
                Code
              </button>
              {view === 'code' && (
                <label className="inline">
                  Format{' '}
                  <select value={format} onChange={(e) => switchFormat(e.target.value as Format)}>
                    <option value="json">JSON</option>
                    <option value="yaml">YAML</option>
                  </select>
                </label>
              )}
            </div>
            {view === 'form' ? (
              <FormView editing={editing} onExplore={setFactToExplore} />
            ) : (
              <CodeView text={text} format={format} verdict={verdict} onChange={onText} />
            )}
            {verdict && verdict.errors.length > 0 && (
              <section aria-labelledby="problems-title" className="problems">
                <h2 id="problems-title">Problems</h2>
                <ul>
                  {verdict.errors.map((e, i) => (
                    <li key={i}>
                      <code>#{e.pointer}</code>
                      {e.line ? ` (line ${e.line})` : ''}: {e.message}
                    </li>
                  ))}
                </ul>
              </section>
            )}
          </div>
          <aside className="editor-side">
            <FactExplorer editing={editing} fhirpath={factToExplore} />
          </aside>
        </div>
      )}
      {tab === 'test' && <TestPanel editing={editing} />}
      {tab === 'ship' && (
        <ShipPanel
          botId={botId}
          editing={editing}
          user={user}
          onChanged={(version) => {
            setDeployedVersion(version);
            load();
          }}
        />
      )}
    </section>
  );
}
