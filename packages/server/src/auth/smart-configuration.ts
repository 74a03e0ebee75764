/** The SMART App Launch configuration document (`.well-known/smart-configuration`): what a backend client needs. */
import type { Config } from '../infra/config.js';
import { CDS_HOOKS_SCOPE } from './roles.js';

/**
 * With mutual TLS configured (a TLS port, or a proxy passing client certificates), the RFC 8705 methods and bound
 * tokens are advertised, and with a TLS port the endpoints clients reach over it (RFC 8705 §5).
 */
export function smartConfigurationOf(config: Pick<Config, 'baseUrl' | 'tls' | 'clientCertHeader'>) {
  const { baseUrl, tls } = config;
  const mtls = tls !== undefined || config.clientCertHeader !== undefined;
  const endpoints = (base: string) => ({
    token_endpoint: `${base}/oauth2/token`,
    introspection_endpoint: `${base}/oauth2/introspect`,
    revocation_endpoint: `${base}/oauth2/revoke`,
  });
  return {
    issuer: baseUrl,
    jwks_uri: `${baseUrl}/.well-known/jwks.json`,
    ...endpoints(baseUrl),
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      ...(mtls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
    ],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    scopes_supported: ['system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write', CDS_HOOKS_SCOPE],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    ...(mtls ? { tls_client_certificate_bound_access_tokens: true } : {}),
    ...(tls ? { mtls_endpoint_aliases: endpoints(tls.baseUrl) } : {}),
  };
}
