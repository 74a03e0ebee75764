export * from './cds/types.js';
export * from './cds/issues.js';
export * from './cds/hooks.js';
export * from './cds/request.js';
export * from './cds/prefetch.js';
export * from './cds/service-config.js';
export * from './cds/validate-response.js';
