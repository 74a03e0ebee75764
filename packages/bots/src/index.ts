export * from './cds/types.js';
