import { describe, expect, it } from 'vitest';
import { isCanonicalPath } from './canonical-path.js';

describe('isCanonicalPath', () => {
  it('accepts paths as routes spell them, with escapes only where a character needs one', () => {
    expect(isCanonicalPath('/admin/projects')).toBe(true);
    expect(isCanonicalPath('/fhir/R4/Bot/abc/$deploy')).toBe(true);
    expect(isCanonicalPath('/fhir/R4/Patient/a%20b')).toBe(true);
    expect(isCanonicalPath('/')).toBe(true);
  });

  it('refuses doubled slashes, dot segments and escaped letters, digits, -._~ and /', () => {
    for (const path of [
      '//admin/projects',
      '/admin//projects',
      '/admin/./projects',
      '/x/../admin/projects',
      '/%61dmin/projects',
      '/admin/%50rojects',
      '/fhir/R4/Bot/%31',
      '/fhir/R4/Bot/a%2Eb',
      '/fhir/R4/Bot/a%2fb',
      '/fhir/R4/Bot/a%7eb',
    ])
      expect(isCanonicalPath(path), path).toBe(false);
  });
});
