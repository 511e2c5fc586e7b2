/**
 * Packer's boot_command language, typed into the VM over QMP `send-key` (a US keyboard):
 * plain text; special keys such as `<enter>`, `<esc>`, `<tab>`, `<bs>`, `<del>`, `<spacebar>`,
 * `<f1>`–`<f12>`, arrows, `<home>`, `<end>`, `<pageUp>`, `<pageDown>`, `<insert>`, `<menu>`;
 * modifiers pressed with `<leftCtrl>`… or held with `<leftCtrlOn>`…`<leftCtrlOff>`; and pauses
 * `<wait>` (1 s), `<wait5>` (seconds) or `<wait1m30s>` (a Go duration).
 */
import { parseDuration } from '../../src/sdk/index.js';

export type BootAction = { keys: string[] } | { waitMs: number };

const SPECIAL: Record<string, string> = {
  bs: 'backspace',
  del: 'delete',
  enter: 'ret',
  return: 'ret',
  esc: 'esc',
  tab: 'tab',
  spacebar: 'spc',
  insert: 'insert',
  home: 'home',
  end: 'end',
  pageup: 'pgup',
  pagedown: 'pgdn',
  up: 'up',
  down: 'down',
  left: 'left',
  right: 'right',
  menu: 'menu',
};

const MODIFIERS: Record<string, string> = {
  leftalt: 'alt',
  rightalt: 'alt_r',
  leftctrl: 'ctrl',
  rightctrl: 'ctrl_r',
  leftshift: 'shift',
  rightshift: 'shift_r',
  leftsuper: 'meta_l',
  rightsuper: 'meta_r',
};

/** US layout: characters typed without shift, then those needing it. */
const PLAIN: Record<string, string> = {
  ' ': 'spc',
  '-': 'minus',
  '=': 'equal',
  '[': 'bracket_left',
  ']': 'bracket_right',
  '\\': 'backslash',
  ';': 'semicolon',
  "'": 'apostrophe',
  '`': 'grave_accent',
  ',': 'comma',
  '.': 'dot',
  '/': 'slash',
  '\n': 'ret',
  '\t': 'tab',
};
const SHIFTED: Record<string, string> = {
  '!': '1',
  '@': '2',
  '#': '3',
  $: '4',
  '%': '5',
  '^': '6',
  '&': '7',
  '*': '8',
  '(': '9',
  ')': '0',
  _: 'minus',
  '+': 'equal',
  '{': 'bracket_left',
  '}': 'bracket_right',
  '|': 'backslash',
  ':': 'semicolon',
  '"': 'apostrophe',
  '~': 'grave_accent',
  '<': 'comma',
  '>': 'dot',
  '?': 'slash',
};

export class BootCommandError extends Error {
  override name = 'BootCommandError';
}

function charKeys(ch: string): string[] {
  if (/^[a-z0-9]$/.test(ch)) return [ch];
  if (/^[A-Z]$/.test(ch)) return ['shift', ch.toLowerCase()];
  const plain = PLAIN[ch];
  if (plain) return [plain];
  const shifted = SHIFTED[ch];
  if (shifted) return ['shift', shifted];
  throw new BootCommandError(`boot_command: "${ch}" cannot be typed on a US keyboard`);
}

/** The actions for the (already templated) boot_command lines, in order. */
export function parseBootCommand(lines: readonly string[]): BootAction[] {
  const actions: BootAction[] = [];
  const held: string[] = [];
  const press = (keys: string[]): void => {
    actions.push({ keys: [...held.filter((h) => !keys.includes(h)), ...keys] });
  };
  for (const line of lines) {
    let i = 0;
    while (i < line.length) {
      const tag = line[i] === '<' ? /^<([A-Za-z0-9]+)>/.exec(line.slice(i)) : null;
      if (tag) {
        const name = tag[1]!;
        const lower = name.toLowerCase();
        i += tag[0].length;
        const wait = /^wait(.*)$/.exec(lower);
        if (wait) {
          const arg = wait[1]!;
          const ms = arg === '' ? 1000 : /^\d+$/.test(arg) ? Number(arg) * 1000 : parseDuration(arg);
          if (ms === undefined) throw new BootCommandError(`boot_command: <${name}> is not a wait: write <wait>, <wait5> or <wait1m30s>`);
          actions.push({ waitMs: ms });
          continue;
        }
        const hold = /^(.+?)(on|off)$/.exec(lower);
        if (hold && MODIFIERS[hold[1]!]) {
          const key = MODIFIERS[hold[1]!]!;
          const at = held.indexOf(key);
          if (hold[2] === 'on' && at < 0) held.push(key);
          if (hold[2] === 'off' && at >= 0) held.splice(at, 1);
          continue;
        }
        const fkey = /^f([1-9]|1[0-2])$/.exec(lower);
        const key = SPECIAL[lower] ?? MODIFIERS[lower] ?? (fkey ? lower : undefined);
        if (key === undefined) throw new BootCommandError(`boot_command: <${name}> is not a key kiln knows (see the qemu builder's boot_command keys)`);
        press([key]);
        continue;
      }
      press(charKeys(line[i]!));
      i++;
    }
  }
  return actions;
}
