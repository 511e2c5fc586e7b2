import { createHash } from 'node:crypto';
import { compareSync } from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { call, fails, run } from './helpers.js';

describe('hashes', () => {
  it('hash the documented examples', () => {
    expect(run('md5', 'hello world')).toBe('5eb63bbbe01eeed093cb22bb8f5acdc3');
    expect(run('sha1', 'hello world')).toBe('2aae6c35c94fcfb415dbe95f408b9ce91ee846ed');
    expect(run('sha256', 'hello world')).toBe('b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    expect(run('sha512', 'hello world')).toBe(
      '309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f',
    );
  });

  it('hash the UTF-8 bytes', () => {
    expect(run('md5', 'é')).toBe(createHash('md5').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
    expect(run('sha256', '☃')).toBe(createHash('sha256').update(Buffer.from([0xe2, 0x98, 0x83])).digest('hex'));
  });
});

describe('bcrypt', () => {
  it('gives a $2a$ hash of the default cost that verifies', () => {
    const hash = call('bcrypt', 'hello world').str();
    expect(hash).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
    expect(compareSync('hello world', hash)).toBe(true);
    expect(call('bcrypt', 'hello world').str()).not.toBe(hash);
  });

  it('takes a cost, using the default below the minimum as Go does', () => {
    expect(call('bcrypt', 'x', 4).str()).toMatch(/^\$2a\$04\$/);
    expect(call('bcrypt', 'x', 3).str()).toMatch(/^\$2a\$10\$/);
    fails('bcrypt', ['x', 32], 'cost 32 is outside allowed inclusive range 4..31', 1);
    fails('bcrypt', ['x', 4, 5], 'bcrypt() takes no more than two arguments', 2);
    fails('bcrypt', ['x'.repeat(73)], 'password length exceeds 72 bytes', 0);
  });
});

describe('uuids', () => {
  it('makes random version 4 UUIDs', () => {
    const a = call('uuidv4').str();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(call('uuidv4').str()).not.toBe(a);
  });

  it('makes name-based version 5 UUIDs (documented examples)', () => {
    // Packer's page shows these two results with developer.hashicorp.com names; they are the
    // results for the names of the original Terraform examples, used here.
    expect(run('uuidv5', 'dns', 'www.terraform.io')).toBe('a5008fae-b28c-5ba5-96cd-82b4c53552d6');
    expect(run('uuidv5', 'url', 'https://www.terraform.io/')).toBe('9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5');
    expect(run('uuidv5', 'oid', '1.3.6.1.4')).toBe('af9d40a5-7a36-5c07-b23a-851cd99fbfa5');
    expect(run('uuidv5', 'x500', 'CN=Example,C=GB')).toBe('84e09961-4aa4-57f8-95b7-03edb1073253');
    expect(run('uuidv5', '6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.terraform.io')).toBe('a5008fae-b28c-5ba5-96cd-82b4c53552d6');
    expect(run('uuidv5', '743ac3c0-3bf7-4a5b-9e6c-59360447c757', 'LIBS:diskfont.library')).toBe('ede1a974-df7e-5f17-84b9-76208818b2c8');
  });

  it('accepts the namespace forms Go accepts and refuses others', () => {
    const want = 'a5008fae-b28c-5ba5-96cd-82b4c53552d6';
    expect(run('uuidv5', '{6ba7b810-9dad-11d1-80b4-00c04fd430c8}', 'www.terraform.io')).toBe(want);
    expect(run('uuidv5', 'urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.terraform.io')).toBe(want);
    expect(run('uuidv5', '6BA7B8109DAD11D180B400C04FD430C8', 'www.terraform.io')).toBe(want);
    fails('uuidv5', ['tld', 'x'], "uuidv5() doesn't support namespace tld (invalid UUID length: 3)", 0);
    fails('uuidv5', ['6ba7b810x9dad-11d1-80b4-00c04fd430c8', 'x'], 'invalid UUID format', 0);
  });
});
