/**
 * The outbound policy for URLs a partner supplies (Subscription endpoints, callbacks and their token endpoints). A
 * project's allowed base URLs let its EHRs' private servers through the SSRF guard; a partner is not one of them, so
 * outside development mode its URLs must be public https, or a partner could send the payer's server into the
 * payer's own network.
 */
import { HookbotError } from '../infra/errors.js';
import { checkOutboundUrl, type OutboundPolicy } from '../infra/outbound-url.js';

export function partnerUrlPolicy(development: boolean, allowedBaseUrls: readonly string[] | undefined): OutboundPolicy {
  return development && allowedBaseUrls ? { development, allowedBaseUrls } : { development };
}

/**
 * The SSRF guard's check of a partner's URL, with one refusal for every reason: the guard's own messages say whether
 * a host resolved, and to a private or loopback address, which would let a partner probe the payer's internal DNS.
 */
export async function checkPartnerUrl(raw: string, policy: OutboundPolicy, field: string): Promise<void> {
  await checkOutboundUrl(raw, policy, field).catch((err: unknown) => {
    if (!(err instanceof HookbotError) || err.errorCode !== 'outbound.blocked-url') throw err;
    const diagnostics = `${field} must be an https URL without credentials whose host resolves to public addresses only`;
    throw new HookbotError('outbound.blocked-url', diagnostics, {
      issues: [{ severity: 'error', code: 'security', diagnostics, expression: [field] }],
    });
  });
}
