import { useState } from 'react';
import { api, type ServiceStatistics } from './api';
import { NavLink } from './App';
import { useAsync } from './useAsync';

export const PERIODS = [
  { days: 1, label: 'Last 24 hours' },
  { days: 7, label: 'Last 7 days' },
  { days: 30, label: 'Last 30 days' },
  { days: 90, label: 'Last 90 days' },
];

export function PeriodPicker({ days, onChange }: { days: number; onChange: (days: number) => void }) {
  return (
    <label className="inline">
      Period{' '}
      <select value={days} onChange={(e) => onChange(Number(e.target.value))}>
        {PERIODS.map((p) => (
          <option key={p.days} value={p.days}>
            {p.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '—');

export function ServicesPage() {
  const [days, setDays] = useState(7);
  const stats = useAsync(() => api<{ services: ServiceStatistics[] }>(`/cds-invocations/stats?days=${days}`), [days]);
  return (
    <section aria-labelledby="services-title">
      <div className="page-head">
        <h1 id="services-title">Services</h1>
        <PeriodPicker days={days} onChange={setDays} />
      </div>
      <p className="hint">
        Every CDS service and adjudication bot of your project. Open a rule set to edit, test and ship it; coded bots
        are maintained by your bot developers.
      </p>
      {stats.error && (
        <p role="alert" className="error">
          {stats.error.message}
        </p>
      )}
      {stats.value && (
        <table className="grid">
          <caption className="sr-only">Services and their calls over the chosen period</caption>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Kind</th>
              <th scope="col">Hook</th>
              <th scope="col">Version</th>
              <th scope="col">Last deploy</th>
              <th scope="col">Calls</th>
              <th scope="col">Failures by kind</th>
              <th scope="col">p50 / p99</th>
            </tr>
          </thead>
          <tbody>
            {stats.value.services.map((s) => {
              const failures = Object.entries(s.failures).filter(([, n]) => n > 0);
              return (
                <tr key={s.id}>
                  <th scope="row">
                    {s.kind === 'rule-set' ? (
                      <NavLink route={{ page: 'rules', botId: s.id, tab: 'edit' }}>{s.name ?? s.id}</NavLink>
                    ) : (
                      (s.name ?? s.id)
                    )}
                  </th>
                  <td>{s.kind === 'rule-set' ? 'Rule set' : 'Coded bot'}</td>
                  <td>{s.hook ?? '—'}</td>
                  <td>{s.version}</td>
                  <td>
                    {when(s.lastDeploy.at)}
                    {s.lastDeploy.by ? ` by ${s.lastDeploy.by}` : ''}
                  </td>
                  <td className="num">{s.calls}</td>
                  <td>{failures.length ? failures.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}</td>
                  <td className="num">{s.p50Ms === null ? '—' : `${s.p50Ms} ms / ${s.p99Ms} ms`}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
