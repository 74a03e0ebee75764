/**
 * A CDS Hooks response drawn for a terminal, roughly as an EHR shows it: one block per card with the indicator
 * colour (info blue, warning yellow, critical red), summary, detail, source, suggestions and links, then the
 * system actions (with Da Vinci CRD coverage information spelled out).
 */
import type { CdsAction, CdsCard, CdsResponse } from '@hookbot/bots';
import type { Style } from './output.js';

const COVERAGE_INFORMATION = 'ext-coverage-information';

export function renderCdsResponse(response: CdsResponse, style: Style): string {
  const cards = Array.isArray(response.cards) ? response.cards : [];
  const blocks = cards.map((card) => renderCard(card, style));
  if (cards.length === 0) blocks.push(style.dim('No cards.'));
  const actions = response.systemActions ?? [];
  if (actions.length > 0) {
    blocks.push([style.bold('System actions'), ...actions.map((a) => `  ${renderAction(a)}`)].join('\n'));
  }
  return blocks.join('\n\n');
}

export function renderCard(card: CdsCard, style: Style): string {
  const colour = card.indicator === 'critical' ? style.red : card.indicator === 'warning' ? style.yellow : style.blue;
  const lines = [`${colour(`● ${String(card.indicator ?? 'info').toUpperCase()}`)}  ${style.bold(card.summary ?? '')}`];
  if (card.detail) lines.push(...card.detail.split('\n').map((line) => `  ${line}`));
  const source = card.source;
  if (source?.label) {
    const topic = source.topic?.display ?? source.topic?.code;
    lines.push(
      style.dim(`  source: ${source.label}${topic ? ` · ${topic}` : ''}${source.url ? ` (${source.url})` : ''}`),
    );
  }
  for (const suggestion of card.suggestions ?? []) {
    const actions = (suggestion.actions ?? []).map(renderAction);
    lines.push(
      `  ${style.green('→')} ${suggestion.label}${suggestion.isRecommended ? style.dim(' (recommended)') : ''}`,
    );
    lines.push(...actions.map((a) => style.dim(`      ${a}`)));
  }
  for (const link of card.links ?? []) {
    lines.push(
      `  ${style.blue('↗')} ${link.label}  ${style.dim(`${link.url}${link.type === 'smart' ? ' (SMART app)' : ''}`)}`,
    );
  }
  if (card.overrideReasons?.length) {
    lines.push(style.dim(`  override reasons: ${card.overrideReasons.map((r) => r.display ?? r.code).join(', ')}`));
  }
  return lines.join('\n');
}

function renderAction(action: CdsAction): string {
  const resource = action.resource as { resourceType?: string; id?: string; extension?: unknown[] } | undefined;
  const target =
    action.resourceId ?? (resource ? `${resource.resourceType ?? '?'}${resource.id ? `/${resource.id}` : ''}` : '');
  const coverage = coverageSummary(resource?.extension);
  return [`${action.type} ${target}`.trim(), action.description, coverage].filter(Boolean).join(' — ');
}

interface ExtensionLike {
  url?: string;
  extension?: ExtensionLike[];
  [value: string]: unknown;
}

/** `covered=covered, pa-needed=auth-needed, …` from the CRD coverage-information extension(s). */
function coverageSummary(extensions: unknown[] | undefined): string | undefined {
  const infos = (extensions ?? []).filter(
    (e): e is ExtensionLike =>
      typeof (e as ExtensionLike).url === 'string' && (e as ExtensionLike).url!.endsWith(COVERAGE_INFORMATION),
  );
  if (infos.length === 0) return undefined;
  return infos
    .map((info) =>
      (info.extension ?? [])
        .filter((e) =>
          ['covered', 'pa-needed', 'doc-needed', 'info-needed', 'billingCode', 'reason'].includes(e.url ?? ''),
        )
        .map((e) => `${e.url}=${valueOf(e)}`)
        .join(', '),
    )
    .join('; ');
}

function valueOf(extension: ExtensionLike): string {
  for (const [key, value] of Object.entries(extension)) {
    if (!key.startsWith('value')) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    const coding = value as { code?: string; text?: string; coding?: { code?: string }[] };
    return coding.code ?? coding.coding?.[0]?.code ?? coding.text ?? JSON.stringify(value);
  }
  return '?';
}
