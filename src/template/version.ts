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

/** Whether `version` satisfies `constraint`; an error message when the constraint is malformed. */
export function checkVersion(version: string, constraint: string): { ok: boolean } | { error: string } {
  const have = parse(version);
  if (!have) return { error: `"${version}" is not a version` };
  for (const raw of constraint.split(',')) {
    const term = raw.trim();
    const m = /^(~>|>=|<=|!=|=|>|<)?\s*(.+)$/.exec(term);
    const want = m ? parse(m[2]!) : undefined;
    if (!m || !want) return { error: `"${term}" is not a valid version constraint; write terms like ">= 1.7.0" or "~> 1.9"` };
    const c = cmp(have.parts, want.parts);
    let ok: boolean;
    switch (m[1] ?? '=') {
      case '=': ok = c === 0; break;
      case '!=': ok = c !== 0; break;
      case '>': ok = c > 0; break;
      case '>=': ok = c >= 0; break;
      case '<': ok = c < 0; break;
      case '<=': ok = c <= 0; break;
      default: {
        // ~> 1.2.3 allows >= 1.2.3 and < 1.3.0; ~> 1.2 allows >= 1.2 and < 2.0.
        const upper: Parts = want.given >= 3 ? [want.parts[0], want.parts[1] + 1, 0] : [want.parts[0] + 1, 0, 0];
        ok = c >= 0 && cmp(have.parts, upper) < 0;
      }
    }
    if (!ok) return { ok: false };
  }
  return { ok: true };
}
