/**
 * Removes sensitive values from text before it reaches any output. Secrets are the strings of
 * sensitive variables and locals (and whatever plugins add, such as generated passwords).
 */

export const REDACTED = '<sensitive>';

export class Redactor {
  private secrets: string[] = [];
  private pattern: RegExp | undefined;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  add(secret: string): void {
    if (secret.length < 3 || this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets.sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(this.secrets.map(escape).join('|'), 'g');
  }

  text(s: string): string {
    return this.pattern ? s.replace(this.pattern, REDACTED) : s;
  }

  /** Any JSON-like value with every string inside it redacted (events, say). */
  value<T>(v: T): T {
    if (!this.pattern) return v;
    return this.deep(v) as T;
  }

  /** The secrets that occur in any string inside a JSON-like value, each once. */
  secretsIn(v: unknown): string[] {
    const pattern = this.pattern;
    if (!pattern) return [];
    const found = new Set<string>();
    const visit = (x: unknown): void => {
      if (typeof x === 'string') for (const m of x.matchAll(pattern)) found.add(m[0]);
      else if (x !== null && typeof x === 'object') Object.values(x).forEach(visit);
    };
    visit(v);
    return [...found];
  }

  private deep(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.deep(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.deep(x);
      return out;
    }
    return v;
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
