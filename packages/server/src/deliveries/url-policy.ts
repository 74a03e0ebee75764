/**
 * The outbound policy for URLs a partner supplies (Subscription endpoints, callbacks and their token endpoints). A
 * project's allowed base URLs let its EHRs' private servers through the SSRF guard; a partner is not one of them, so
 * outside development mode its URLs must be public https, or a partner could send the payer's server into the
 * payer's own network.
 */
import type { OutboundPolicy } from '../infra/outbound-url.js';

export function partnerUrlPolicy(development: boolean, allowedBaseUrls: readonly string[] | undefined): OutboundPolicy {
  return development && allowedBaseUrls ? { development, allowedBaseUrls } : { development };
}
