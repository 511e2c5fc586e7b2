/**
 * Version constraints as Packer's `required_version` writes them: comma-separated terms of
 * `=`, `!=`, `>`, `>=`, `<`, `<=` and the pessimistic `~>`.
 */

/** The Packer version kiln's template language matches: `packer.version` and `required_version` use it. */
export const PACKER_COMPAT_VERSION = '1.11.2';

type Parts = [number, number, number];

function parse(v: string): { parts: Parts; given: number } | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
  if (!m) return undefined;
  const given = m[3] !== undefined ? 3 : m[2] !== undefined ? 2 : 1;
  return { parts: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], given };
}

function cmp(a: Parts, b: Parts): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

type Op = '=' | '!=' | '>' | '>=' | '<' | '<=' | '~>';

interface Term {
  op: Op;
  want: { parts: Parts; given: number };
}

/**
 * The terms of `constraint`, or one message naming every malformed term. Every term is parsed
 * before any is compared, as Packer's go-version does, so a malformed term is reported even
 * after one the version does not satisfy.
 */
export function parseConstraint(constraint: string): { terms: Term[] } | { error: string } {
  const terms: Term[] = [];
  const bad: string[] = [];
  for (const raw of constraint.split(',')) {
    const term = raw.trim();
    const m = /^(~>|>=|<=|!=|=|>|<)?\s*(.+)$/.exec(term);
    const want = m ? parse(m[2]!) : undefined;
    if (!m || !want) bad.push(`"${term}"`);
    else terms.push({ op: (m[1] ?? '=') as Op, want });
  }
  if (bad.length === 0) return { terms };
  const list = bad.length === 1 ? bad[0]! : `${bad.slice(0, -1).join(', ')} and ${bad.at(-1)!}`;
  const what = bad.length === 1 ? 'is not a valid version constraint' : 'are not valid version constraints';
  return { error: `${list} ${what}; write terms like ">= 1.7.0" or "~> 1.9"` };
}

function satisfies(have: Parts, { op, want }: Term): boolean {
  const c = cmp(have, want.parts);
  switch (op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '~>': {
      // ~> 1.2.3 allows >= 1.2.3 and < 1.3.0; ~> 1.2 allows >= 1.2 and < 2.0.
      const upper: Parts = want.given >= 3 ? [want.parts[0], want.parts[1] + 1, 0] : [want.parts[0] + 1, 0, 0];
      return c >= 0 && cmp(have, upper) < 0;
    }
  }
}

/** Whether `version` satisfies `constraint`; an error message when the constraint is malformed. */
export function checkVersion(version: string, constraint: string): { ok: boolean } | { error: string } {
  const have = parse(version);
  if (!have) return { error: `"${version}" is not a version` };
  const c = parseConstraint(constraint);
  if ('error' in c) return c;
  return { ok: c.terms.every((t) => satisfies(have.parts, t)) };
}
