/**
 * Cards as an EHR shows them (CDS Hooks 2.0 §cards): the indicator as a coloured bar and word, the summary, the
 * detail, the source, suggestions with their accept buttons, links, and the CRD coverage-information result carried
 * by the system action that updates each order.
 */
import type { Card, CdsResponse } from '../api';

interface CoverageInfo {
  order: string;
  items: Record<string, string>;
}

const COVERAGE_URL = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';

function coverageOf(response: CdsResponse): CoverageInfo[] {
  const out: CoverageInfo[] = [];
  for (const action of response.systemActions ?? []) {
    const resource = action.resource as
      | { resourceType?: string; id?: string; extension?: { url: string; extension?: Record<string, unknown>[] }[] }
      | undefined;
    for (const ext of resource?.extension ?? []) {
      if (ext.url !== COVERAGE_URL) continue;
      const items: Record<string, string> = {};
      for (const part of ext.extension ?? []) {
        const url = String(part.url);
        const value =
          (part.valueCode as string | undefined) ??
          (part.valueString as string | undefined) ??
          (part.valueDate as string | undefined) ??
          (part.valueCodeableConcept as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code ??
          (part.valueReference as { reference?: string } | undefined)?.reference;
        if (value && url !== 'date' && url !== 'coverage-assertion-id')
          items[url] = items[url] ? `${items[url]}, ${value}` : value;
      }
      out.push({ order: `${resource?.resourceType}/${resource?.id}`, items });
    }
  }
  return out;
}

function OneCard({ card }: { card: Card }) {
  return (
    <article className={`cds-card ${card.indicator}`} aria-label={`${card.indicator} card: ${card.summary}`}>
      <p className="indicator">
        {card.indicator === 'critical' ? 'Critical' : card.indicator === 'warning' ? 'Warning' : 'Info'}
      </p>
      <h4>{card.summary}</h4>
      {card.detail && <p className="detail">{card.detail}</p>}
      <p className="source">
        Source:{' '}
        {card.source.url ? (
          <a href={card.source.url} rel="noreferrer noopener" target="_blank">
            {card.source.label}
          </a>
        ) : (
          card.source.label
        )}
        {card.source.topic?.display ? ` · ${card.source.topic.display}` : ''}
      </p>
      {card.suggestions && card.suggestions.length > 0 && (
        <div className="suggestions">
          {card.suggestions.map((s, i) => (
            <button
              type="button"
              key={s.uuid ?? i}
              className={s.isRecommended ? 'recommended' : ''}
              title={s.actions
                ?.map((a) => a.description)
                .filter(Boolean)
                .join('; ')}
            >
              Accept: {s.label}
            </button>
          ))}
        </div>
      )}
      {card.links && card.links.length > 0 && (
        <ul className="links">
          {card.links.map((l, i) => (
            <li key={i}>
              <a href={l.url} rel="noreferrer noopener" target="_blank">
                {l.label}
              </a>
              {l.type === 'smart' ? ' (SMART app)' : ''}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}

export function CardView({ response }: { response: CdsResponse }) {
  const coverage = coverageOf(response);
  return (
    <div className="ehr">
      {response.cards.length === 0 && <p>No cards: the EHR shows nothing.</p>}
      {response.cards.map((c, i) => (
        <OneCard key={c.uuid ?? i} card={c} />
      ))}
      {coverage.map((c) => (
        <div className="coverage" key={c.order}>
          <h4>Coverage information on {c.order}</h4>
          <dl>
            {Object.entries(c.items).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        </div>
      ))}
    </div>
  );
}
