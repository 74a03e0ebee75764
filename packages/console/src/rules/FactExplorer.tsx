/** Evaluates a FHIRPath fact against a sample request on the server (`Bot/$evaluate-fact`, in the sandbox). */
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import type { Editing } from './RuleSetPage';
import { SamplePicker } from './SamplePicker';

interface FactEvaluation {
  results: { order: string | null; value: unknown[] }[];
}

export function FactExplorer({ fhirpath: initial }: { editing: Editing; fhirpath: string }) {
  const [fhirpath, setFhirpath] = useState(initial);
  const [request, setRequest] = useState<Record<string, unknown> | undefined>(undefined);
  const [error, setError] = useState('');
  const [result, setResult] = useState<FactEvaluation | undefined>(undefined);
  useEffect(() => {
    if (initial) setFhirpath(initial);
  }, [initial]);
  const evaluate = (e: FormEvent) => {
    e.preventDefault();
    setError('');
    setResult(undefined);
    if (!request) return setError('Choose a sample request first');
    api<FactEvaluation>('/fhir/R4/Bot/$evaluate-fact', { method: 'POST', json: { fhirpath, request } }).then(
      setResult,
      (err: Error) => setError(err.message),
    );
  };
  return (
    <section aria-labelledby="explorer-title" className="explorer">
      <h2 id="explorer-title">Fact explorer</h2>
      <form onSubmit={evaluate}>
        <SamplePicker onRequest={(r, err) => (setRequest(r), setError(err ?? ''))} />
        <label htmlFor="explorer-fhirpath">FHIRPath</label>
        <textarea id="explorer-fhirpath" rows={3} value={fhirpath} onChange={(e) => setFhirpath(e.target.value)} />
        <button type="submit">Evaluate</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result && (
        <div role="status" aria-live="polite" className="explorer-result">
          {result.results.map((r, i) => (
            <div key={i}>
              <h3>{r.order ?? 'The request'}</h3>
              <pre tabIndex={0}>
                {r.value.length === 0 ? '(empty: the fact is undefined)' : JSON.stringify(r.value, null, 2)}
              </pre>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
