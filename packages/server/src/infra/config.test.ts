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

  it('bounds CDS client JWT lifetimes to an hour unless told otherwise, and never below five minutes', () => {
    expect(loadConfig({}).cdsJwtMaxLifetimeSeconds).toBe(3600);
    expect(loadConfig({ HOOKBOT_CDS_JWT_MAX_LIFETIME: '900' }).cdsJwtMaxLifetimeSeconds).toBe(900);
    expect(() => loadConfig({ HOOKBOT_CDS_JWT_MAX_LIFETIME: '60' })).toThrow(/HOOKBOT_CDS_JWT_MAX_LIFETIME/);
  });
});
