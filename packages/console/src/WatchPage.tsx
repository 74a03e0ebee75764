import { useState } from 'react';
import { api, type FeedbackDay, type ServiceStatistics } from './api';
import { BarChart } from './Charts';
import { PeriodPicker, when } from './ServicesPage';
import { useAsync } from './useAsync';

export function WatchPage({ botId }: { botId?: string }) {
  const [days, setDays] = useState(30);
  const [selected, setSelected] = useState(botId ?? '');
  const data = useAsync(
    () =>
      Promise.all([
        api<{ services: ServiceStatistics[] }>(`/cds-invocations/stats?days=${days}`),
        api<{ days: FeedbackDay[] }>(`/cds-feedback/timeline?days=${days}`),
      ]),
    [days],
  );
  const [stats, timeline] = data.value ?? [undefined, undefined];
  const services = stats?.services.filter((s) => s.hook !== 'prior-authorization') ?? [];
  const service = services.find((s) => s.id === selected) ?? services.find((s) => s.calls > 0) ?? services[0];
  const feedback = (timeline?.days ?? []).filter((d) => d.serviceId === service?.id);
  const reasons = new Map<string, number>();
  for (const d of feedback) for (const [r, n] of Object.entries(d.reasons)) reasons.set(r, (reasons.get(r) ?? 0) + n);
  return (
    <section aria-labelledby="watch-title">
      <div className="page-head">
        <h1 id="watch-title">Watch</h1>
        <label className="inline">
          Service{' '}
          <select value={service?.id ?? ''} onChange={(e) => setSelected(e.target.value)}>
            {services.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name ?? s.id}
              </option>
            ))}
          </select>
        </label>
        <PeriodPicker days={days} onChange={setDays} />
      </div>
      {data.error && (
        <p role="alert" className="error">
          {data.error.message}
        </p>
      )}
      {service && (
        <>
          <div className="charts">
            <BarChart
              title="Clinician feedback per day"
              labels={feedback.map((d) => d.day)}
              series={[
                { name: 'Accepted', colour: '#1b7f3b', values: feedback.map((d) => d.accepted) },
                { name: 'Overridden', colour: '#b3261e', values: feedback.map((d) => d.overridden) },
              ]}
            />
            <BarChart
              title="Invocations per day"
              labels={service.daily.map((d) => d.day)}
              series={[
                { name: 'Succeeded', colour: '#2456a6', values: service.daily.map((d) => d.calls - d.failures) },
                { name: 'Failed', colour: '#b3261e', values: service.daily.map((d) => d.failures) },
              ]}
            />
          </div>
          <h2>Override reasons</h2>
          {reasons.size === 0 ? (
            <p>No override reasons in this period.</p>
          ) : (
            <ul>
              {[...reasons].map(([r, n]) => (
                <li key={r}>
                  {r}: {n}
                </li>
              ))}
            </ul>
          )}
          <h2>Latest failed calls</h2>
          {service.latestFailures.length === 0 ? (
            <p>No failed calls in this period.</p>
          ) : (
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Request id</th>
                  <th scope="col">Message</th>
                </tr>
              </thead>
              <tbody>
                {service.latestFailures.map((f) => (
                  <tr key={`${f.at}-${f.requestId ?? ''}`}>
                    <td>{when(f.at)}</td>
                    <td>{f.kind}</td>
                    <td>
                      <code>{f.requestId ?? '—'}</code>
                    </td>
                    <td>{f.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
