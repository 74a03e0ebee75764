/**
 * The test panel: the rule set's own test cases (`Bot/$test-rules`), and ad-hoc requests previewed as the EHR would
 * show the answer (`Bot/$preview-rules`), with the raw JSON and the EHR-rendering warnings; an ad-hoc request and
 * its observed cards become a new test case in one click.
 */
import { useState } from 'react';
import { api, type Preview, type TestReport } from '../api';
import { CardView } from './CardView';
import { getAt, setAt, type Json } from './document';
import type { Editing } from './RuleSetPage';
import { SamplePicker } from './SamplePicker';

export function TestPanel({ editing }: { editing: Editing }) {
  const [report, setReport] = useState<TestReport | undefined>(undefined);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState('');
  const [request, setRequest] = useState<Record<string, unknown> | undefined>(undefined);
  const [preview, setPreview] = useState<Preview | undefined>(undefined);
  const [caseName, setCaseName] = useState('');
  const [saved, setSaved] = useState('');
  const tests = getAt(editing.doc, '/tests');
  const count = Array.isArray(tests) ? tests.length : 0;

  const runTests = () => {
    setRunning(true);
    setError('');
    api<TestReport>('/fhir/R4/Bot/$test-rules', { method: 'POST', json: { ruleSet: editing.doc } })
      .then(setReport, (err: Error) => setError(err.message))
      .finally(() => setRunning(false));
  };
  const runRequest = () => {
    setError('');
    setPreview(undefined);
    setSaved('');
    if (!request) return setError('Choose or paste a request first');
    api<Preview>('/fhir/R4/Bot/$preview-rules', { method: 'POST', json: { ruleSet: editing.doc, request } }).then(
      setPreview,
      (err: Error) => setError(err.message),
    );
  };
  const saveCase = () => {
    if (!preview || !request) return;
    const name = caseName.trim() || `Ad-hoc request ${count + 1}`;
    const test = {
      name,
      request,
      expect: { cards: preview.response.cards.map((c) => ({ summary: c.summary, indicator: c.indicator })) },
    } as unknown as Json;
    editing.setDoc(setAt(editing.doc, `/tests/${count}`, test));
    setSaved(`Saved as test case “${name}”. Run the tests, then ship the rule set to keep it.`);
  };

  return (
    <div className="test-panel">
      <section aria-labelledby="cases-title">
        <h2 id="cases-title">The rule set's test cases ({count})</h2>
        <button type="button" onClick={runTests} disabled={running}>
          {running ? 'Running…' : 'Run the tests'}
        </button>
        {report && (
          <div role="status" aria-live="polite">
            <p className={report.passed ? 'ok' : 'bad'}>
              {report.results.filter((r) => r.passed).length} of {report.results.length} passed
            </p>
            <ul className="results">
              {report.results.map((r, i) => (
                <li key={i} className={r.passed ? 'ok' : 'bad'}>
                  {r.passed ? '✓ Passed' : '✗ Failed'}: {r.name}
                  {r.diff && <pre tabIndex={0}>{r.diff}</pre>}
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
      <section aria-labelledby="adhoc-title">
        <h2 id="adhoc-title">Try a request</h2>
        <SamplePicker onRequest={(r, err) => (setRequest(r), setError(err ?? ''))} />
        <button type="button" onClick={runRequest}>
          Run the request
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {preview && (
          <div className="preview">
            <h3>As the EHR shows it</h3>
            <CardView response={preview.response} />
            {(preview.errors.length > 0 || preview.warnings.length > 0) && (
              <>
                <h4>EHR rendering warnings</h4>
                <ul className="warnings">
                  {[...preview.errors, ...preview.warnings].map((w, i) => (
                    <li key={i}>
                      <code>{w.path}</code>: {w.message}
                    </li>
                  ))}
                </ul>
              </>
            )}
            <details>
              <summary>Raw JSON</summary>
              <pre tabIndex={0}>{JSON.stringify(preview.response, null, 2)}</pre>
            </details>
            <div className="field">
              <label htmlFor="case-name">Test case name</label>
              <input id="case-name" type="text" value={caseName} onChange={(e) => setCaseName(e.target.value)} />
            </div>
            <button type="button" onClick={saveCase}>
              Save as test case
            </button>
            {saved && <p role="status">{saved}</p>}
          </div>
        )}
      </section>
    </div>
  );
}
