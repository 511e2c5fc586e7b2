/**
 * Build-name globs for `-only`/`-except`, as Packer matches them: `*` spans any characters
 * (dots included), `?` one character, `[abc]` a class, `{a,b}` alternatives.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inAlt = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    switch (c) {
      case '*':
        re += '.*';
        break;
      case '?':
        re += '.';
        break;
      case '[': {
        const end = glob.indexOf(']', i + 1);
        if (end < 0) {
          re += '\\[';
          break;
        }
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
        break;
      }
      case '{':
        inAlt++;
        re += '(?:';
        break;
      case '}':
        if (inAlt > 0) {
          inAlt--;
          re += ')';
        } else re += '\\}';
        break;
      case ',':
        re += inAlt > 0 ? '|' : ',';
        break;
      case '\\':
        re += '\\' + (glob[++i] ?? '\\');
        break;
      default:
        re += c.replace(/[.+^$()|]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}${')'.repeat(inAlt)}$`);
}

export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(name));
}
