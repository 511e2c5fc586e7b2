import { describe, expect, it } from 'vitest';
import { MAX_RETRY_BACKOFF_MS, retryBackoff } from '../../../src/core/abort.js';

describe('retryBackoff', () => {
  it('starts at the first wait and doubles after each failed attempt', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryBackoff(2000, a))).toEqual([2000, 4000, 8000, 16000, 32000]);
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    expect(retryBackoff(2000, 7)).toBe(MAX_RETRY_BACKOFF_MS);
    expect(retryBackoff(2000, 1000)).toBe(MAX_RETRY_BACKOFF_MS);
    expect(retryBackoff(500_000, 1)).toBe(MAX_RETRY_BACKOFF_MS);
  });
});
