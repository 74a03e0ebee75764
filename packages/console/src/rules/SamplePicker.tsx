import { useId, useState } from 'react';
import { loadSample, SAMPLE_NAMES } from '../samples';

/** A sample hook request: one of examples/requests, or pasted JSON. Reports the parsed request (or an error). */
export function SamplePicker({
  onRequest,
  initial,
}: {
  onRequest: (request: Record<string, unknown> | undefined, error?: string) => void;
  initial?: string;
}) {
  const id = useId();
  const [choice, setChoice] = useState(initial ?? '');
  const [pasted, setPasted] = useState('');
  const choose = (name: string) => {
    setChoice(name);
    if (name === '') return onRequest(undefined);
    if (name === '(paste)') return onRequest(undefined, pasted ? undefined : 'Paste a hook request');
    loadSample(name).then(
      (r) => onRequest(r),
      (err: Error) => onRequest(undefined, err.message),
    );
  };
  return (
    <div className="field">
      <label htmlFor={`${id}-sample`}>Sample request</label>
      <select id={`${id}-sample`} value={choice} onChange={(e) => choose(e.target.value)}>
        <option value="">Choose a request…</option>
        {SAMPLE_NAMES.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
        <option value="(paste)">Paste a request…</option>
      </select>
      {choice === '(paste)' && (
        <>
          <label htmlFor={`${id}-paste`}>Hook request (JSON)</label>
          <textarea
            id={`${id}-paste`}
            rows={8}
            value={pasted}
            onChange={(e) => {
              setPasted(e.target.value);
              try {
                onRequest(JSON.parse(e.target.value) as Record<string, unknown>);
              } catch {
                onRequest(undefined, 'The pasted request is not JSON');
              }
            }}
          />
        </>
      )}
    </div>
  );
}
