import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCa, createClientCertificate } from '../../../../test/support/certificates.js';
import { canonicalThumbprint, subjectDnMatches, thumbprintOf } from './client-certificate.js';

describe('thumbprints (x5t#S256)', () => {
  it('is the base64url SHA-256 of the DER, and registered thumbprints may be hex', async () => {
    const client = await createClientCertificate('CN=partner');
    const cert = new X509Certificate(client.cert);
    expect(thumbprintOf(cert)).toBe(client.thumbprint);
    expect(canonicalThumbprint(client.thumbprint)).toBe(client.thumbprint);
    expect(canonicalThumbprint(cert.fingerprint256)).toBe(client.thumbprint);
    expect(canonicalThumbprint(cert.fingerprint256.replace(/:/g, '').toLowerCase())).toBe(client.thumbprint);
    expect(canonicalThumbprint('not-a-thumbprint')).toBeUndefined();
    expect(canonicalThumbprint(`${client.thumbprint}A`)).toBeUndefined();
  });
});

describe('subject DN matching (tls_client_auth)', () => {
  // Node prints a subject one RDN a line, in the certificate's order.
  const subject = 'C=US\nO=Acme Health, Inc.\nCN=partner.example';

  it('matches the RFC 4514 string and the certificate order, case and spacing aside', () => {
    expect(subjectDnMatches('CN=partner.example,O=Acme Health\\, Inc.,C=US', subject)).toBe(true);
    expect(subjectDnMatches('cn=Partner.Example, o=ACME  health\\, inc., c=us', subject)).toBe(true);
    expect(subjectDnMatches('C = US, O = Acme Health\\, Inc., CN = partner.example', subject)).toBe(true);
    expect(subjectDnMatches('CN=partner.example,O=Acme Health\\2C Inc.,C=US', subject)).toBe(true);
  });

  it('refuses another DN, a missing or extra RDN, and an unescaped comma splitting a value', () => {
    expect(subjectDnMatches('CN=other.example,O=Acme Health\\, Inc.,C=US', subject)).toBe(false);
    expect(subjectDnMatches('CN=partner.example,C=US', subject)).toBe(false);
    expect(subjectDnMatches('CN=partner.example,OU=x,O=Acme Health\\, Inc.,C=US', subject)).toBe(false);
    expect(subjectDnMatches('CN=partner.example,O=Acme Health, Inc.,C=US', subject)).toBe(false);
    expect(subjectDnMatches('CN=partner.example\\,O=Acme Health\\, Inc.,C=US', subject)).toBe(false);
  });

  it("matches a certificate's own subject, escapes included", async () => {
    const ca = await createCa();
    const client = await createClientCertificate('CN=a\\,b,O=Acme', ca);
    const cert = new X509Certificate(client.cert);
    expect(subjectDnMatches('CN=a\\,b,O=Acme', cert.subject)).toBe(true);
    expect(subjectDnMatches('CN=a,O=Acme', cert.subject)).toBe(false);
  });
});
