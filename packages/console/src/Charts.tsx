/**
 * Small SVG charts: a stacked bar per day. Hand-drawn rather than a charting library, which would cost more of the
 * first-load budget than the whole editor; each chart has a text table beside it for screen readers.
 */
export interface Series {
  name: string;
  colour: string;
  values: number[];
}

export function BarChart({ title, labels, series }: { title: string; labels: string[]; series: Series[] }) {
  const width = 640;
  const height = 180;
  const pad = { left: 36, bottom: 28, top: 8 };
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const band = (width - pad.left) / Math.max(1, labels.length);
  const bar = Math.min(40, band * 0.7);
  const y = (v: number) => ((height - pad.bottom - pad.top) * v) / max;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${describe(labels, series)}`}>
        <line x1={pad.left} x2={width} y1={height - pad.bottom} y2={height - pad.bottom} className="axis" />
        <text x={pad.left - 6} y={pad.top + 10} className="tick" textAnchor="end">
          {max}
        </text>
        <text x={pad.left - 6} y={height - pad.bottom} className="tick" textAnchor="end">
          0
        </text>
        {labels.map((label, i) => {
          let base = height - pad.bottom;
          const x = pad.left + i * band + (band - bar) / 2;
          return (
            <g key={label}>
              {series.map((s) => {
                const h = y(s.values[i] ?? 0);
                base -= h;
                return h > 0 ? <rect key={s.name} x={x} y={base} width={bar} height={h} fill={s.colour} /> : null;
              })}
              <text x={x + bar / 2} y={height - 10} className="tick" textAnchor="middle">
                {label.slice(5)}
              </text>
            </g>
          );
        })}
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.name}>
            <span className="swatch" style={{ background: s.colour }} aria-hidden="true" /> {s.name}:{' '}
            {s.values.reduce((a, b) => a + b, 0)}
          </li>
        ))}
      </ul>
    </figure>
  );
}

function describe(labels: string[], series: Series[]): string {
  if (labels.length === 0) return 'no data in this period';
  return labels.map((l, i) => `${l} ${series.map((s) => `${s.name} ${s.values[i] ?? 0}`).join(', ')}`).join('; ');
}
