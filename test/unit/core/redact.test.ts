import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../src/core/redact.js';

describe('redaction', () => {
  it('replaces every secret in text and in every string of an event', () => {
    const r = new Redactor(['hunter2', 'longer-hunter2-secret']);
    expect(r.text('pw=longer-hunter2-secret and hunter2')).toBe('pw=<sensitive> and <sensitive>');
    const e = r.value({ type: 'output', build: 'a', stream: 'stdout', line: 'x hunter2 y' });
    expect(e.line).toBe('x <sensitive> y');
  });

  it('ignores very short values that would mangle unrelated output', () => {
    const r = new Redactor(['1', 'ab']);
    expect(r.text('1 ab')).toBe('1 ab');
  });

  it('treats regex characters in secrets literally', () => {
    const r = new Redactor(['a.b*c']);
    expect(r.text('a.b*c axbbc')).toBe('<sensitive> axbbc');
  });
});
