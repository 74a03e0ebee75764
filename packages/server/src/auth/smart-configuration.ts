/**
 * Discovery: the SMART App Launch configuration (`.well-known/smart-configuration`: backend services and member
 * apps' standalone launch) and the OpenID Connect provider metadata (`.well-known/openid-configuration`).
 */
import type { Config } from '../infra/config.js';
import { CDS_HOOKS_SCOPE, MEMBER_APP_SCOPE } from './roles.js';

const MEMBER_SCOPES = ['patient/*.read', 'user/*.read', ...MEMBER_APP_SCOPE.split(' ')];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

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
    authorization_endpoint: `${baseUrl}/oauth2/authorize`,
    userinfo_endpoint: `${baseUrl}/oauth2/userinfo`,
    ...endpoints(baseUrl),
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: [
      ...AUTH_METHODS,
      ...(mtls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
    ],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    scopes_supported: [
      ...MEMBER_SCOPES,
      'system/*.cruds',
      'system/*.rs',
      'system/*.read',
      'system/*.write',
      CDS_HOOKS_SCOPE,
    ],
    capabilities: [
      'launch-standalone',
      'authorize-post',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'context-standalone-patient',
      'permission-patient',
      'permission-offline',
      'permission-v1',
      'permission-v2',
      'sso-openid-connect',
    ],
    ...(mtls ? { tls_client_certificate_bound_access_tokens: true } : {}),
    ...(tls ? { mtls_endpoint_aliases: endpoints(tls.baseUrl) } : {}),
  };
}

/** OpenID Connect Discovery 1.0 §3: what a relying party needs to verify the `id_token` of a member app. */
export function openidConfigurationOf(baseUrl: string) {
  return {
    issuer: baseUrl,
    authorization_endpoint: `${baseUrl}/oauth2/authorize`,
    token_endpoint: `${baseUrl}/oauth2/token`,
    userinfo_endpoint: `${baseUrl}/oauth2/userinfo`,
    jwks_uri: `${baseUrl}/.well-known/jwks.json`,
    scopes_supported: MEMBER_SCOPES,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'fhirUser'],
  };
}
