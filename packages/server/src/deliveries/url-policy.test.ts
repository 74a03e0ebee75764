import { describe, expect, it } from 'vitest';
import { checkOutboundUrl } from '../infra/outbound-url.js';
import { partnerUrlPolicy } from './url-policy.js';

describe('partnerUrlPolicy', () => {
  const listed = ['http://10.0.0.5/'];

  it("never lets a partner's URL into a private network the project lists for its EHRs, outside development", async () => {
    await expect(checkOutboundUrl('http://10.0.0.5/hook', partnerUrlPolicy(false, listed), 'url')).rejects.toThrow();
  });

  it('keeps the listed base URLs in development mode, where tests run their receivers', async () => {
    const url = await checkOutboundUrl('http://10.0.0.5/hook', partnerUrlPolicy(true, listed), 'url');
    expect(url.href).toBe('http://10.0.0.5/hook');
  });
});
