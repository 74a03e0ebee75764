/**
 * Mutual-TLS clients (RFC 8705): the SHA-256 thumbprint of a registered certificate (`self_signed_tls_client_auth`),
 * the subject DN a CA-issued one must carry (`tls_client_auth`), and whether the client may authenticate otherwise.
 */
export const statements: string[] = [
  `ALTER TABLE clients ADD COLUMN cert_thumbprint text`,
  `ALTER TABLE clients ADD COLUMN tls_subject_dn text`,
  `ALTER TABLE clients ADD COLUMN require_mtls boolean NOT NULL DEFAULT false`,
];
