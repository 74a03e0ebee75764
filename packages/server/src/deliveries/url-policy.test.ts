import { describe, expect, it } from 'vitest';
import { checkOutboundUrl } from '../infra/outbound-url.js';
import { checkPartnerUrl, partnerUrlPolicy } from './url-policy.js';

describe('partnerUrlPolicy', () => {
  const listed = ['http://10.0.0.5/'];

  it("never lets a partner's URL into a private network the project lists for its EHRs, outside development", async () => {
    await expect(checkOutboundUrl('http://10.0.0.5/hook', partnerUrlPolicy(false, listed), 'url')).rejects.toThrow();
  });

  it('keeps the listed base URLs in development mode, where tests run their receivers', async () => {
    const url = await checkOutboundUrl('http://10.0.0.5/hook', partnerUrlPolicy(true, listed), 'url');
    expect(url.href).toBe('http://10.0.0.5/hook');
  });

  it("refuses a partner's URL the same way whether its host is unknown, private or loopback", async () => {
    const refusal = (url: string) =>
      checkPartnerUrl(url, partnerUrlPolicy(false, listed), 'url').then(
        () => 'accepted',
        (err: Error) => err.message,
      );
    const answers = await Promise.all(
      ['https://no-such-host.invalid/hook', 'https://10.1.2.3/hook', 'https://127.0.0.1/hook'].map(refusal),
    );
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/^url must be an https URL/);
  });
});
