/**
 * Ship: deploy once the rule set validates and its tests pass, the version history with who made each version, a
 * line diff between any two, and rollback. What the user's role may not do is not offered (the server refuses it
 * anyway, with a 403).
 */
import { useState } from 'react';
import { api, botVersions, type SessionUser, type TestReport } from '../api';
import { when } from '../ServicesPage';
import { useAsync } from '../useAsync';
import type { Editing } from './RuleSetPage';

/** Unchanged runs longer than twice the context are folded to a line saying how many were left out. */
const CONTEXT = 3;
function collapse(lines: Diff['lines']): { op: '=' | '-' | '+' | '…'; text: string }[] {
  const out: { op: '=' | '-' | '+' | '…'; text: string }[] = [];
  let i = 0;
  while (i < lines.length) {
    let j = i;
    while (j < lines.length && lines[j]?.op === '=') j++;
    const run = j - i;
    const head = i === 0 ? 0 : CONTEXT;
    const tail = j === lines.length ? 0 : CONTEXT;
    if (run > head + tail + 1) {
      out.push(...lines.slice(i, i + head));
      out.push({ op: '…', text: `${run - head - tail} unchanged lines` });
      out.push(...lines.slice(j - tail, j));
    } else out.push(...lines.slice(i, j));
    if (j < lines.length) out.push(lines[j] as Diff['lines'][number]);
    i = j + 1;
  }
  return out;
}

interface Diff {
  from: string;
  to: string;
  changed: number;
  lines: { op: '=' | '-' | '+'; text: string }[];
}

export function ShipPanel({
  botId,
  editing,
  user,
  onChanged,
}: {
  botId: string;
  editing: Editing;
  user: SessionUser;
  onChanged: (version: string) => void;
}) {
  const versions = useAsync(() => botVersions(botId), [botId]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [diff, setDiff] = useState<Diff | undefined>(undefined);
  const mayShip = user.role !== 'viewer';
  const list = versions.value ?? [];
  const fromVersion = from || list[1]?.version || '';
  const toVersion = to || list[0]?.version || '';

  const deploy = async () => {
    setBusy(true);
    setError('');
    setMessage('');
    try {
      if (!editing.verdict?.valid) throw new Error('Fix the problems first: the rule set does not validate');
      const report = await api<TestReport>('/fhir/R4/Bot/$test-rules', {
        method: 'POST',
        json: { ruleSet: editing.doc },
      });
      if (!report.passed) {
        const failed = report.results.filter((r) => !r.passed).map((r) => r.name);
        throw new Error(`Not deployed: ${failed.length} test case(s) failed (${failed.join(', ')})`);
      }
      const deployed = await api<{ version: string }>('/fhir/R4/Bot/$deploy-rules', {
        method: 'POST',
        json: { ruleSet: editing.doc },
      });
      setMessage(`Deployed version ${deployed.version} (${report.results.length} test cases passed)`);
      versions.reload();
      onChanged(deployed.version);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const rollback = async (version: string) => {
    setBusy(true);
    setError('');
    setMessage('');
    try {
      const bot = await api<{ meta?: { versionId?: string } }>(`/fhir/R4/Bot/${encodeURIComponent(botId)}/$rollback`, {
        method: 'POST',
        json: { version },
      });
      setMessage(`Rolled back to version ${version}: now version ${bot.meta?.versionId ?? ''}`);
      versions.reload();
      onChanged(bot.meta?.versionId ?? '');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const compare = () => {
    setError('');
    api<Diff>(
      `/fhir/R4/Bot/${encodeURIComponent(botId)}/$rule-set-diff?from=${encodeURIComponent(fromVersion)}&to=${encodeURIComponent(toVersion)}`,
    ).then(setDiff, (err: Error) => setError(err.message));
  };

  return (
    <div className="ship-panel">
      <section aria-labelledby="deploy-title">
        <h2 id="deploy-title">Deploy</h2>
        <p className="hint">The rule set is validated and its test cases run first; it is deployed only if all pass.</p>
        <button type="button" onClick={() => void deploy()} disabled={busy || !mayShip}>
          Validate, test and deploy
        </button>
        {!mayShip && <p className="hint">Your role ({user.role}) can read rule sets but not deploy them.</p>}
        {message && (
          <p role="status" className="ok">
            {message}
          </p>
        )}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </section>
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">When</th>
              <th scope="col">By</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {list.map((v, i) => (
              <tr key={v.version}>
                <td>
                  {v.version}
                  {i === 0 ? ' (current)' : ''}
                </td>
                <td>{when(v.lastUpdated)}</td>
                <td>{v.author ?? '—'}</td>
                <td>
                  {i > 0 && mayShip && (
                    <button type="button" onClick={() => void rollback(v.version)} disabled={busy}>
                      Roll back to version {v.version}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="diff-title">
        <h2 id="diff-title">Compare two versions</h2>
        <div className="cols">
          <label className="inline">
            From{' '}
            <select value={fromVersion} onChange={(e) => setFrom(e.target.value)}>
              {list.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            To{' '}
            <select value={toVersion} onChange={(e) => setTo(e.target.value)}>
              {list.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={compare} disabled={list.length < 2}>
            Compare
          </button>
        </div>
        {diff && (
          <div aria-label={`Changes from version ${diff.from} to ${diff.to}`} role="region">
            <p>{diff.changed === 0 ? 'No changes.' : `${diff.changed} changed lines.`}</p>
            {/* Scrollable, so reachable from the keyboard. */}
            <pre className="diff" tabIndex={0}>
              {collapse(diff.lines).map((l, i) =>
                l.op === '=' ? (
                  <span key={i} className="same">{`  ${l.text}\n`}</span>
                ) : l.op === '+' ? (
                  <ins key={i}>{`+ ${l.text}\n`}</ins>
                ) : l.op === '-' ? (
                  <del key={i}>{`- ${l.text}\n`}</del>
                ) : (
                  <span key={i} className="skipped">{`  … ${l.text}\n`}</span>
                ),
              )}
            </pre>
          </div>
        )}
      </section>
    </div>
  );
}
