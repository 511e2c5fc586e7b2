/**
 * IP network functions for IPv4 and IPv6 prefixes, with bigint address arithmetic. Parsing
 * follows Go's net.ParseCIDR (no leading zeros in IPv4 fields, at most four hex digits per
 * IPv6 group) and addresses print as Go prints them (RFC 5952 for IPv6).
 */
import { T } from '../types.js';
import { Value } from '../value.js';
import { FunctionError, type FuncDef } from './define.js';
import { invalidArg, wholeNumber } from './support.js';

interface Prefix {
  /** The network address (host bits cleared). */
  addr: bigint;
  /** 32 or 128. */
  bits: number;
  len: number;
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIPv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (text: string): bigint[] | undefined => {
    if (text === '') return [];
    const out: bigint[] = [];
    const fields = text.split(':');
    for (const [i, f] of fields.entries()) {
      // The last field may be an embedded IPv4 address, worth two groups.
      if (i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIPv4(f);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(f)) out.push(BigInt(`0x${f}`));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 address may only end the whole address.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  // "::" must stand for at least one group; without it there must be exactly eight.
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<bigint>(missing).fill(0n), ...tail].reduce((acc, g) => (acc << 16n) | g, 0n);
}

const mask = (bits: number, len: number): bigint => ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - len)) - 1n);

function parseCIDR(s: string): Prefix {
  const invalid = () => invalidArg('prefix', 0, `invalid CIDR expression: invalid CIDR address: ${s}`);
  const slash = s.indexOf('/');
  if (slash < 0) throw invalid();
  const ipText = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  const v4 = parseIPv4(ipText);
  const addr = v4 ?? parseIPv6(ipText);
  const bits = v4 !== undefined ? 32 : 128;
  if (addr === undefined || !/^[0-9]+$/.test(lenText) || Number(lenText) > bits) throw invalid();
  const len = Number(lenText);
  return { addr: addr & mask(bits, len), bits, len };
}

function formatAddr(addr: bigint, bits: number): string {
  const v4 = (a: bigint) => [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 0xffn)).join('.');
  if (bits === 32) return v4(addr);
  // Go prints IPv4-mapped IPv6 addresses in dotted form.
  if (addr >> 32n === 0xffffn) return v4(addr & 0xffffffffn);
  const groups = Array.from({ length: 8 }, (_, i) => Number((addr >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups (the first, on a tie) becomes "::".
  let best = { start: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best.start < 0) return hex(groups);
  return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.len))}`;
}

const formatPrefix = (addr: bigint, bits: number, len: number): string => `${formatAddr(addr, bits)}/${len}`;

const protocol = (bits: number): string => (bits === 32 ? 'IPv4' : 'IPv6');

export const IPNET_FUNCTIONS: Record<string, FuncDef> = {
  cidrhost: {
    description: 'The IP address of a host number within a network prefix (negative numbers count from the end).',
    params: [{ name: 'prefix', type: T.string }, { name: 'hostnum', type: T.number }],
    returnType: T.string,
    impl([prefixV, hostV]) {
      const hostnum = wholeNumber(hostV!, 'hostnum', 1);
      const p = parseCIDR(prefixV!.str());
      const maxHost = (1n << BigInt(p.bits - p.len)) - 1n;
      const n = hostnum < 0 ? maxHost + 1n + BigInt(hostnum) : BigInt(hostnum);
      if (n < 0n || n > maxHost) throw new FunctionError(`prefix of ${p.len} does not accommodate a host numbered ${hostnum}`, 1);
      return Value.string(formatAddr(p.addr | n, p.bits));
    },
  },

  cidrnetmask: {
    description: 'The subnet mask of a network prefix in address form, like 255.255.240.0.',
    params: [{ name: 'prefix', type: T.string }],
    returnType: T.string,
    impl([prefixV]) {
      const p = parseCIDR(prefixV!.str());
      return Value.string(formatAddr(mask(p.bits, p.len), p.bits));
    },
  },

  cidrsubnet: {
    description: 'A subnet of a network prefix: the prefix extended by newbits bits set to netnum.',
    params: [{ name: 'prefix', type: T.string }, { name: 'newbits', type: T.number }, { name: 'netnum', type: T.number }],
    returnType: T.string,
    impl([prefixV, newbitsV, netnumV]) {
      const newbits = wholeNumber(newbitsV!, 'newbits', 1);
      const netnum = wholeNumber(netnumV!, 'netnum', 2);
      const p = parseCIDR(prefixV!.str());
      if (newbits < 0) throw invalidArg('newbits', 1, 'must not be negative');
      if (newbits > 32) throw new FunctionError('may not extend prefix by more than 32 bits', 1);
      const newLen = p.len + newbits;
      if (newLen > p.bits) throw new FunctionError(`insufficient address space to extend prefix of ${p.len} by ${newbits}`, 1);
      if (netnum < 0 || BigInt(netnum) > (1n << BigInt(newbits)) - 1n) {
        throw new FunctionError(`prefix extension of ${newbits} does not accommodate a subnet numbered ${netnum}`, 2);
      }
      return Value.string(formatPrefix(p.addr | (BigInt(netnum) << BigInt(p.bits - newLen)), p.bits, newLen));
    },
  },

  cidrsubnets: {
    description: 'Consecutive subnets of a network prefix, one for each newbits argument.',
    params: [{ name: 'prefix', type: T.string }],
    variadic: { name: 'newbits', type: T.number },
    returnType: T.list(T.string),
    impl([prefixV, ...newbitsV]) {
      const p = parseCIDR(prefixV!.str());
      const networkEnd = p.addr + (1n << BigInt(p.bits - p.len));
      let cursor = p.addr;
      let previous = '';
      const out: string[] = [];
      newbitsV.forEach((v, i) => {
        const newbits = wholeNumber(v, 'newbits', i + 1);
        if (newbits < 1) throw invalidArg('newbits', i + 1, 'must extend prefix by at least one bit');
        if (newbits > 32) throw invalidArg('newbits', i + 1, 'may not extend prefix by more than 32 bits');
        const newLen = p.len + newbits;
        if (newLen > p.bits) throw invalidArg('newbits', i + 1, `would extend prefix to ${newLen} bits, which is too long for an ${protocol(p.bits)} address`);
        // Each subnet starts at the first address after the previous one that is aligned to its size.
        const size = 1n << BigInt(p.bits - newLen);
        const start = ((cursor + size - 1n) / size) * size;
        if (start + size > networkEnd) {
          throw invalidArg('newbits', i + 1, `not enough remaining address space for a subnet with a prefix of ${newLen} bits after ${previous}`);
        }
        previous = formatPrefix(start, p.bits, newLen);
        out.push(previous);
        cursor = start + size;
      });
      return Value.list(out.map(Value.string), T.string);
    },
  },
};
