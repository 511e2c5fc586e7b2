import { describe, expect, it } from 'vitest';
import { call, callIn, fails, js, makeCtx, run } from './helpers.js';

// helpers.NOW is 2024-03-05T06:07:08.123Z, a Tuesday.

describe('timestamp', () => {
  it("gives the run's time in RFC 3339 UTC, the same on every call", () => {
    expect(run('timestamp')).toBe('2024-03-05T06:07:08Z');
    expect(run('timestamp')).toBe('2024-03-05T06:07:08Z');
    expect(js(callIn(makeCtx({ now: new Date('1999-12-31T23:59:59.999Z') }), 'timestamp'))).toBe('1999-12-31T23:59:59Z');
  });

  it('feeds formatdate', () => {
    expect(run('formatdate', 'YYYY-MM-DD', call('timestamp'))).toBe('2024-03-05');
  });
});

describe('formatdate', () => {
  it('formats the documented examples', () => {
    expect(run('formatdate', 'DD MMM YYYY hh:mm ZZZ', '2018-01-02T23:12:01Z')).toBe('02 Jan 2018 23:12 UTC');
    expect(run('formatdate', 'EEEE, DD-MMM-YY hh:mm:ss ZZZ', '2018-01-02T23:12:01Z')).toBe('Tuesday, 02-Jan-18 23:12:01 UTC');
    expect(run('formatdate', 'EEE, DD MMM YYYY hh:mm:ss ZZZ', '2018-01-02T23:12:01-08:00')).toBe('Tue, 02 Jan 2018 23:12:01 -0800');
    expect(run('formatdate', 'MMM DD, YYYY', '2018-01-02T23:12:01Z')).toBe('Jan 02, 2018');
    expect(run('formatdate', 'HH:mmaa', '2018-01-02T23:12:01Z')).toBe('11:12pm');
    expect(run('formatdate', "h'h'mm", '2018-01-02T23:12:01-08:00')).toBe('23h12');
    expect(run('formatdate', "H 'o''clock'", '2018-01-02T23:12:01-08:00')).toBe("11 o'clock");
    expect(run('formatdate', "YYYY-MM-DD'T'hh:mm:ssZ", '2018-01-02T23:12:01Z')).toBe('2018-01-02T23:12:01Z');
  });

  it('formats every verb', () => {
    const t = '2018-01-02T03:04:05+05:30';
    expect(run('formatdate', 'M/D h:m:s MMMM EEE', t)).toBe('1/2 3:4:5 January Tue');
    expect(run('formatdate', 'Z|ZZZ|ZZZZ|ZZZZZ', t)).toBe('+05:30|+0530|+0530|+05:30');
    expect(run('formatdate', 'Z|ZZZ|ZZZZ|ZZZZZ', '2018-01-02T03:04:05Z')).toBe('Z|UTC|+0000|+00:00');
    expect(run('formatdate', 'H HH AA aa', '2018-01-02T00:30:00Z')).toBe('12 12 AM am');
    expect(run('formatdate', 'H AA', '2018-01-02T12:00:00Z')).toBe('12 PM');
    expect(run('formatdate', "YYYY ''", '0099-01-01T00:00:00Z')).toBe("0099 '");
  });

  it('rejects unknown verbs and unterminated literals', () => {
    fails('formatdate', ['YYY', '2018-01-02T23:12:01Z'], 'invalid date format verb "YYY": year must either be "YY" or "YYYY"', 0);
    fails('formatdate', ['x', '2018-01-02T23:12:01Z'], 'invalid date format verb "x"', 0);
    fails('formatdate', ['ZZ', '2018-01-02T23:12:01Z'], 'timezone must be Z, ZZZZ, or ZZZZZ', 0);
    fails('formatdate', ["'abc", '2018-01-02T23:12:01Z'], "unterminated literal '", 0);
  });

  it('requires an RFC 3339 timestamp and says what is wrong with it', () => {
    fails('formatdate', ['YYYY', '2018-01-02'], "not a valid RFC3339 timestamp: missing required time introducer 'T'", 1);
    fails('formatdate', ['YYYY', '2018-13-02T00:00:00Z'], 'month out of range', 1);
    fails('formatdate', ['YYYY', '2018-02-30T00:00:00Z'], 'day out of range', 1);
    fails('formatdate', ['YYYY', '2018-01-02T23:12:01'], 'end of string before UTC offset', 1);
    fails('formatdate', ['YYYY', '2018-01-02T23:12:01,5Z'], 'sub-second separator must be a period', 1);
    fails('formatdate', ['YYYY', '18-01-02T23:12:01Z'], 'cannot use "18-01-02T23:12:01Z" as year', 1);
    fails('formatdate', ['YYYY', '2018-01-02T23:12:01Zjunk'], 'extra text: "junk"', 1);
  });
});

describe('timeadd', () => {
  it('adds the documented duration', () => {
    expect(run('timeadd', '2017-11-22T00:00:00Z', '10m')).toBe('2017-11-22T00:10:00Z');
  });

  it('accepts Go durations, negative and fractional, and keeps the offset', () => {
    expect(run('timeadd', '2017-11-22T00:00:00Z', '1h30m')).toBe('2017-11-22T01:30:00Z');
    expect(run('timeadd', '2017-11-22T00:00:00Z', '-10s')).toBe('2017-11-21T23:59:50Z');
    expect(run('timeadd', '2017-11-22T00:00:00Z', '1.5h')).toBe('2017-11-22T01:30:00Z');
    expect(run('timeadd', '2017-11-22T00:00:00Z', '-2h5m')).toBe('2017-11-21T21:55:00Z');
    expect(run('timeadd', '2017-11-22T00:00:00.999999999Z', '1ns')).toBe('2017-11-22T00:00:01Z');
    expect(run('timeadd', '2017-11-22T00:00:00Z', '1500ms')).toBe('2017-11-22T00:00:01Z');
    expect(run('timeadd', '2017-11-22T00:00:00Z', '2000000µs')).toBe('2017-11-22T00:00:02Z');
    expect(run('timeadd', '2017-11-22T00:00:00Z', '3000000us')).toBe('2017-11-22T00:00:03Z');
    expect(run('timeadd', '2017-11-22T23:30:00+02:00', '1h')).toBe('2017-11-23T00:30:00+02:00');
    expect(run('timeadd', '2024-02-28T12:00:00Z', '24h')).toBe('2024-02-29T12:00:00Z');
    expect(run('timeadd', '2017-11-22T00:00:00Z', '0')).toBe('2017-11-22T00:00:00Z');
  });

  it('reports bad durations as Go does', () => {
    fails('timeadd', ['2017-11-22T00:00:00Z', '1d'], 'time: unknown unit "d" in duration "1d"', 1);
    fails('timeadd', ['2017-11-22T00:00:00Z', '10'], 'time: missing unit in duration "10"', 1);
    fails('timeadd', ['2017-11-22T00:00:00Z', ''], 'time: invalid duration ""', 1);
    fails('timeadd', ['2017-11-22T00:00:00Z', '.h'], 'time: invalid duration ".h"', 1);
    fails('timeadd', ['nope', '1h'], 'not a valid RFC3339 timestamp', 0);
  });
});

describe('legacy_isotime', () => {
  it('formats the run time with a Go layout (documented example)', () => {
    expect(run('legacy_isotime', '2006-01-02')).toBe('2024-03-05');
  });

  it('gives RFC 3339 without a format and supports Go layout elements', () => {
    expect(run('legacy_isotime')).toBe('2024-03-05T06:07:08Z');
    expect(run('legacy_isotime', 'Mon Jan _2 15:04:05 MST 2006')).toBe('Tue Mar  5 06:07:08 UTC 2024');
    expect(run('legacy_isotime', '2006-01-02T15:04:05.000Z07:00')).toBe('2024-03-05T06:07:08.123Z');
    expect(run('legacy_isotime', '05.999999|05.9|05,000000|-0700|-07:00')).toBe('08.123|08.1|08,123000|+0000|+00:00');
    expect(run('legacy_isotime', 'January Monday 3:04PM pm 06 002 __2 1/2')).toBe('March Tuesday 6:07AM am 24 065  65 3/5');
    expect(run('legacy_isotime', 'Month Jane')).toBe('Month Jane');
  });

  it('takes at most one format', () => {
    fails('legacy_isotime', ['a', 'b'], 'too many values, 1 needed', 1);
  });
});

describe('legacy_strftime', () => {
  it('formats the run time with strftime (documented example)', () => {
    expect(run('legacy_strftime', '%Y-%m')).toBe('2024-03');
  });

  it('supports the conversions of Packer legacy templates and keeps others as written', () => {
    expect(run('legacy_strftime', '%Y-%m-%dT%H:%M:%S%z %Z')).toBe('2024-03-05T06:07:08+0000 UTC');
    expect(run('legacy_strftime', '%a %A %b %B %I %p %y %L %% %Q %')).toBe('Tue Tuesday Mar March 06 AM 24 .123 % %Q %');
    expect(run('legacy_strftime')).toBe('2024-03-05T06:07:08Z');
  });
});
