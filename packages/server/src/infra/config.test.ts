import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('serves no metrics without a metrics token, and refuses a short one', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ HOOKBOT_METRICS_TOKEN: 'a'.repeat(32) }).metricsToken).toBe('a'.repeat(32));
    expect(() => loadConfig({ HOOKBOT_METRICS_TOKEN: 'short' })).toThrow(/HOOKBOT_METRICS_TOKEN/);
    expect(() => loadConfig({ HOOKBOT_METRICS_TOKEN: `${'a'.repeat(32)} b` })).toThrow(/HOOKBOT_METRICS_TOKEN/);
  });

  it('runs the embedded database thread at normal priority unless told otherwise', () => {
    expect(loadConfig({}).pglitePriority).toBe('normal');
    expect(loadConfig({ HOOKBOT_PGLITE_PRIORITY: 'background' }).pglitePriority).toBe('background');
  });

  it('bounds cache lifetimes: 60 s unless told otherwise, never unbounded', () => {
    expect(loadConfig({}).cacheTtlSeconds).toBe(60);
    expect(loadConfig({ HOOKBOT_CACHE_TTL: '5' }).cacheTtlSeconds).toBe(5);
    expect(() => loadConfig({ HOOKBOT_CACHE_TTL: '0' })).toThrow(/HOOKBOT_CACHE_TTL/);
  });

  it('names the variable when a value is not one it knows', () => {
    expect(() => loadConfig({ HOOKBOT_PGLITE_PRIORITY: 'idle' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOOKBOT_PGLITE_PRIORITY: 'idle' })).toThrow(/HOOKBOT_PGLITE_PRIORITY/);
    expect(() => loadConfig({ HOOKBOT_BOT_ISOLATION: 'thread' })).toThrow(/HOOKBOT_BOT_ISOLATION/);
  });

  it('bounds CDS client JWT lifetimes to an hour unless told otherwise, and never below five minutes', () => {
    expect(loadConfig({}).cdsJwtMaxLifetimeSeconds).toBe(3600);
    expect(loadConfig({ HOOKBOT_CDS_JWT_MAX_LIFETIME: '900' }).cdsJwtMaxLifetimeSeconds).toBe(900);
    expect(() => loadConfig({ HOOKBOT_CDS_JWT_MAX_LIFETIME: '60' })).toThrow(/HOOKBOT_CDS_JWT_MAX_LIFETIME/);
  });

  it('trusts no proxy (X-Forwarded-For ignored) unless told how many stand in front', () => {
    expect(loadConfig({}).trustProxyHops).toBe(0);
    expect(loadConfig({ HOOKBOT_TRUST_PROXY_HOPS: '2' }).trustProxyHops).toBe(2);
    expect(() => loadConfig({ HOOKBOT_TRUST_PROXY_HOPS: 'yes' })).toThrow(/HOOKBOT_TRUST_PROXY_HOPS/);
    expect(() => loadConfig({ HOOKBOT_TRUST_PROXY_HOPS: '-1' })).toThrow(/HOOKBOT_TRUST_PROXY_HOPS/);
  });

  it('has no TLS listener and believes no client certificate header unless configured, and checks both', () => {
    const plain = loadConfig({});
    expect([plain.tls, plain.clientCertHeader, plain.clientCas]).toEqual([undefined, undefined, []]);
    expect(() => loadConfig({ TLS_PORT: '8443' })).toThrow(/TLS_PORT needs TLS_CERT and TLS_KEY/);
    expect(() => loadConfig({ TLS_CERT: 'cert.pem' })).toThrow(/TLS_PORT/);
    expect(() => loadConfig({ TLS_PORT: '8443', TLS_CERT: '/nonexistent.pem', TLS_KEY: '/k' })).toThrow(
      /TLS_CERT: cannot read/,
    );
    expect(() => loadConfig({ TLS_CLIENT_CA: import.meta.filename })).toThrow(/TLS_CLIENT_CA holds no PEM/);
    expect(() => loadConfig({ HOOKBOT_CLIENT_CERT_HEADER: 'x-client-cert' })).toThrow(/HOOKBOT_CLIENT_CERT_PROXIES/);
    expect(() =>
      loadConfig({ HOOKBOT_CLIENT_CERT_HEADER: 'x-client-cert', HOOKBOT_CLIENT_CERT_PROXIES: '10.0.0.0/33' }),
    ).toThrow(/"10.0.0.0\/33"/);
    const proxied = loadConfig({
      HOOKBOT_CLIENT_CERT_HEADER: 'X-Client-Cert',
      HOOKBOT_CLIENT_CERT_PROXIES: '10.0.0.0/8, ::1',
    }).clientCertHeader;
    expect(proxied?.name).toBe('x-client-cert');
    expect([proxied?.proxies.check('10.1.2.3'), proxied?.proxies.check('11.0.0.1')]).toEqual([true, false]);
  });

  it('reads the PostgreSQL pool size (10 unless told otherwise, at least 1)', () => {
    expect(loadConfig({}).pgPoolSize).toBe(10);
    expect(loadConfig({ HOOKBOT_PG_POOL_SIZE: '4' }).pgPoolSize).toBe(4);
    expect(() => loadConfig({ HOOKBOT_PG_POOL_SIZE: '0' })).toThrow(/HOOKBOT_PG_POOL_SIZE/);
    expect(() => loadConfig({ HOOKBOT_PG_POOL_SIZE: 'many' })).toThrow(/HOOKBOT_PG_POOL_SIZE/);
  });

  it('runs bot workers as the user it is given, as uid or uid:gid', () => {
    expect(loadConfig({}).bot.workerUser).toBeUndefined();
    expect(loadConfig({ HOOKBOT_BOT_WORKER_USER: '65534' }).bot.workerUser).toEqual({ uid: 65534, gid: 65534 });
    expect(loadConfig({ HOOKBOT_BOT_WORKER_USER: '1000:100' }).bot.workerUser).toEqual({ uid: 1000, gid: 100 });
    expect(() => loadConfig({ HOOKBOT_BOT_WORKER_USER: 'nobody' })).toThrow(/HOOKBOT_BOT_WORKER_USER/);
  });
});
