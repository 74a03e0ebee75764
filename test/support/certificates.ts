/** Certificates made for a test run: a CA, a server certificate it issues, client certificates (RFC 8705 tests). */
import { webcrypto } from 'node:crypto';
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface TestCertificate {
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, PKCS#8 PEM. */
  key: string;
  /** `x5t#S256`: base64url SHA-256 of the DER. */
  thumbprint: string;
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
}

let serial = 1;

async function issue(
  subject: string,
  issuer: TestCertificate | undefined,
  extensions: x509.Extension[],
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<TestCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject,
    issuer: issuer?.certificate.subject ?? subject,
    notBefore: validity.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: validity.notAfter ?? new Date(Date.now() + 24 * 3600_000),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: issuer?.keys.privateKey ?? keys.privateKey,
    extensions,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    cert: certificate.toString('pem'),
    key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    thumbprint: Buffer.from(await certificate.getThumbprint('SHA-256')).toString('base64url'),
    keys,
    certificate,
  };
}

export const createCa = (name = 'CN=Hookbot Test CA,O=Hookbot Tests') =>
  issue(name, undefined, [new x509.BasicConstraintsExtension(true, 0, true)]);

/** A TLS server certificate for 127.0.0.1 and localhost. */
export const createServerCertificate = (ca: TestCertificate) =>
  issue('CN=localhost', ca, [
    new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
    ]),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
  ]);

/** A client certificate issued by `ca`, or self-signed without one. */
export const createClientCertificate = (
  subject: string,
  ca?: TestCertificate,
  validity?: { notBefore?: Date; notAfter?: Date },
) => issue(subject, ca, [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])], validity);
