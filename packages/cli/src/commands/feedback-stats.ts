/** `hookbot feedback stats`: per service and card, how often clinicians accepted or overrode it. */
import { connect, type CommandContext } from '../context.js';
import { table } from '../table.js';

export interface FeedbackStats {
  services: { serviceId: string; cards: { card: string; accepted: number; overridden: number }[] }[];
}

export async function feedbackStats(input: CommandContext): Promise<void> {
  const api = await connect(input);
  const { body } = await input.out.step('Reading feedback', () =>
    api.request<FeedbackStats>('GET', '/cds-feedback/stats'),
  );
  const rows = (body.services ?? []).flatMap((service) =>
    service.cards.map((card) => {
      const total = card.accepted + card.overridden;
      return [
        service.serviceId,
        card.card,
        String(card.accepted),
        String(card.overridden),
        total ? `${Math.round((card.accepted / total) * 100)}%` : '-',
      ];
    }),
  );
  input.out.result(body, () =>
    rows.length === 0
      ? 'No feedback yet.'
      : table(['SERVICE', 'CARD', 'ACCEPTED', 'OVERRIDDEN', 'ACCEPTANCE'], rows, input.out.style),
  );
}
