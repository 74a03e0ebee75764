import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('runs the embedded database thread in the background unless told otherwise', () => {
    expect(loadConfig({}).pglitePriority).toBe('background');
    expect(loadConfig({ HOOKBOT_PGLITE_PRIORITY: 'normal' }).pglitePriority).toBe('normal');
  });

  it('names the variable when a value is not one it knows', () => {
    expect(() => loadConfig({ HOOKBOT_PGLITE_PRIORITY: 'idle' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOOKBOT_PGLITE_PRIORITY: 'idle' })).toThrow(/HOOKBOT_PGLITE_PRIORITY/);
    expect(() => loadConfig({ HOOKBOT_BOT_ISOLATION: 'thread' })).toThrow(/HOOKBOT_BOT_ISOLATION/);
  });

  it('trusts no proxy (X-Forwarded-For ignored) unless told how many stand in front', () => {
    expect(loadConfig({}).trustProxyHops).toBe(0);
    expect(loadConfig({ HOOKBOT_TRUST_PROXY_HOPS: '2' }).trustProxyHops).toBe(2);
    expect(() => loadConfig({ HOOKBOT_TRUST_PROXY_HOPS: 'yes' })).toThrow(/HOOKBOT_TRUST_PROXY_HOPS/);
    expect(() => loadConfig({ HOOKBOT_TRUST_PROXY_HOPS: '-1' })).toThrow(/HOOKBOT_TRUST_PROXY_HOPS/);
  });
});
