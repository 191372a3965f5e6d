import { createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  open,
  seal,
  unwrapDek,
  type CredentialAddress,
  type Sealed,
} from "../packages/core/src/credentials/envelope.ts";
import { CredentialIntegrityError } from "../packages/core/src/credentials/errors.ts";
import type { Kek } from "../packages/core/src/key-stores/key-store.ts";

const kek = (): Kek => ({ version: randomUUID(), key: randomBytes(32) });
const address: CredentialAddress = { org: "acme", app: "a".repeat(26), scope: { kind: "system" }, name: "database-url" };
const userAddress: CredentialAddress = { ...address, scope: { kind: "user", sub: "alice" } };
const value = Buffer.from("postgres://app:s3cr3t@db/app");

describe("envelope encryption", () => {
  it("round-trips system and user values, including empty-looking and multi-byte ones", () => {
    const key = kek();
    for (const where of [address, userAddress]) {
      for (const text of ["x", "pässwörd ✓ 🔑", "a".repeat(32 * 1024)]) {
        expect(open(seal(Buffer.from(text), where, key), where, key).toString()).toBe(text);
      }
    }
  });

  it("stores the layout it promises: 96-bit nonce, 16-byte tag, 60-byte wrapped DEK, no plaintext", () => {
    const key = kek();
    const sealed = seal(value, address, key);
    expect(sealed.nonce).toHaveLength(12);
    expect(sealed.tag).toHaveLength(16);
    expect(sealed.wrappedDek).toHaveLength(12 + 32 + 16);
    expect(sealed.ciphertext).toHaveLength(value.length);
    expect(sealed.kekVersion).toBe(key.version);
    expect(sealed.sealedKekVersion).toBe(key.version);
    for (const part of [sealed.ciphertext, sealed.wrappedDek]) expect(part.includes(value)).toBe(false);
  });

  it("binds each ciphertext to org, app, scope, subject, name and KEK version", () => {
    const key = kek();
    const sealed = seal(value, userAddress, key);
    const moved: [string, CredentialAddress][] = [
      ["another org", { ...userAddress, org: "globex" }],
      ["another app", { ...userAddress, app: "b".repeat(26) }],
      ["another name", { ...userAddress, name: "database-url2" }],
      ["system scope", { ...userAddress, scope: { kind: "system" } }],
      ["another user", { ...userAddress, scope: { kind: "user", sub: "bob" } }],
    ];
    for (const [what, where] of moved) {
      expect(() => open(sealed, where, key), what).toThrow(CredentialIntegrityError);
    }
    // The same key bytes under another version label: the additional data alone refuses it.
    const relabelled = { version: randomUUID(), key: key.key };
    expect(() => open({ ...sealed, kekVersion: relabelled.version }, userAddress, relabelled)).toThrow(CredentialIntegrityError);
    expect(() => open({ ...sealed, sealedKekVersion: relabelled.version }, userAddress, key)).toThrow(CredentialIntegrityError);
    // A KEK version that is not the one the item names.
    expect(() => open(sealed, userAddress, kek())).toThrow(CredentialIntegrityError);
  });

  it("refuses parts copied between credentials, even under one KEK", () => {
    const key = kek();
    const a = seal(Buffer.from("value-a"), address, key);
    const b = seal(Buffer.from("value-b"), { ...address, name: "other" }, key);
    const bAddress = { ...address, name: "other" };
    const swaps: Partial<Sealed>[] = [
      { ciphertext: a.ciphertext, nonce: a.nonce, tag: a.tag },
      { wrappedDek: a.wrappedDek },
      { ciphertext: a.ciphertext, nonce: a.nonce, tag: a.tag, wrappedDek: a.wrappedDek },
    ];
    for (const swap of swaps) expect(() => open({ ...b, ...swap }, bAddress, key)).toThrow(CredentialIntegrityError);
  });

  it("refuses truncated or extended tags, nonces and wrapped DEKs", () => {
    const key = kek();
    const sealed = seal(value, address, key);
    const damaged: Partial<Sealed>[] = [
      { tag: sealed.tag.subarray(0, 4) },
      { tag: sealed.tag.subarray(0, 12) },
      { tag: sealed.tag.subarray(0, 15) },
      { tag: Buffer.concat([sealed.tag, Buffer.alloc(1)]) },
      { nonce: sealed.nonce.subarray(0, 8) },
      { wrappedDek: sealed.wrappedDek.subarray(0, 56) },
      { wrappedDek: sealed.wrappedDek.subarray(0, 59) },
      { ciphertext: sealed.ciphertext.subarray(1) },
    ];
    for (const change of damaged) expect(() => open({ ...sealed, ...change }, address, key)).toThrow(CredentialIntegrityError);
  });

  it("is right to insist on authTagLength: Node alone accepts a 4-byte prefix of a valid tag", () => {
    // The reason open() checks the length and passes authTagLength: 16 (envelope.ts, its header; README, "Test it").
    const key = kek();
    const sealed = seal(value, address, key);
    const dek = unwrapDek(sealed, address, key);
    const lax = createDecipheriv("aes-256-gcm", dek, sealed.nonce);
    lax.setAAD(Buffer.from(JSON.stringify(["bulkhead.credential.v1", "value", "acme", "a".repeat(26), "system", "", "database-url", key.version])));
    lax.setAuthTag(sealed.tag.subarray(0, 4));
    expect(Buffer.concat([lax.update(sealed.ciphertext), lax.final()]).equals(value)).toBe(true);
    expect(() => open({ ...sealed, tag: sealed.tag.subarray(0, 4) }, address, key)).toThrow(CredentialIntegrityError);
  });

  it("detects any single flipped bit in ciphertext, nonce, tag or wrapped DEK", () => {
    const key = kek();
    const sealed = seal(value, address, key);
    const fields = ["ciphertext", "nonce", "tag", "wrappedDek"] as const;
    fc.assert(fc.property(fc.constantFrom(...fields), fc.nat(), fc.integer({ min: 0, max: 7 }), (field, at, bit) => {
      const bytes = Buffer.from(sealed[field]);
      bytes[at % bytes.length]! ^= 1 << bit;
      expect(() => open({ ...sealed, [field]: bytes }, address, key)).toThrow(CredentialIntegrityError);
    }), { numRuns: 300 });
  });

  it("100,000 encryptions under one KEK repeat no nonce and no DEK", () => {
    const key = kek();
    const valueNonces = new Set<string>();
    const wrapNonces = new Set<string>();
    const deks = new Set<string>();
    const count = 100_000;
    for (let i = 0; i < count; i++) {
      const sealed = seal(value, address, key);
      valueNonces.add(sealed.nonce.toString("base64"));
      wrapNonces.add(sealed.wrappedDek.subarray(0, 12).toString("base64"));
      deks.add(unwrapDek(sealed, address, key).toString("base64"));
    }
    // Every DEK seals exactly one value, so one nonce per DEK; the KEK wraps all of them.
    expect(deks.size).toBe(count);
    expect(valueNonces.size).toBe(count);
    expect(wrapNonces.size).toBe(count);
    // 300,000 GCM operations: about 20 s alone on this 2-core machine, over a minute when it is shared.
  }, 180_000);
});
