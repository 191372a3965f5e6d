import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceExistsException,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { KeyStoreStandIn } from "../packages/core/src/key-stores/key-store-stand-in.ts";
import { KekNotFound, KeyStoreConflict } from "../packages/core/src/key-stores/errors.ts";
import { stagesOf, type KeyStore } from "../packages/core/src/key-stores/key-store.ts";
import { SecretsManagerKeyStore } from "../packages/core/src/key-stores/secrets-manager-key-store.ts";

const ref = { org: "acme", app: "abcdefghijklmnopqrstuvwxyz" };
const secretName = "bulkhead/acme/abcdefghijklmnopqrstuvwxyz/kek";
const meta = { $metadata: {} };

describe("the Secrets Manager key store (requests checked with aws-sdk-client-mock)", () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());
  afterAll(() => sm.restore());
  // No tenant credentials here: test/key-store-credentials.test.ts checks which credentials sign each org's calls.
  const store = () => new SecretsManagerKeyStore({ recoveryWindowDays: 7 }, () => undefined);

  it("creates one secret per app, named and tagged for it, with our token as the version id", async () => {
    sm.on(CreateSecretCommand).resolves({ Name: secretName, VersionId: "ignored" });
    const token = randomUUID();
    const kek = await store().create(ref, token);
    expect(kek.version).toBe(token);
    expect(kek.key).toHaveLength(32);
    expect(sm).toHaveReceivedCommandTimes(CreateSecretCommand, 1);
    const input = sm.commandCalls(CreateSecretCommand)[0]!.args[0].input;
    expect(input).toEqual({
      Name: secretName,
      Description: expect.stringContaining(ref.app),
      SecretBinary: kek.key,
      ClientRequestToken: token,
      KmsKeyId: undefined,
      Tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: ref.app }],
    });
  });

  it("passes a configured KMS key", async () => {
    sm.on(CreateSecretCommand).resolves({});
    await new SecretsManagerKeyStore({ recoveryWindowDays: 30, kmsKeyId: "alias/bulkhead" }, () => undefined).create(ref, randomUUID());
    expect(sm).toHaveReceivedCommandWith(CreateSecretCommand, { KmsKeyId: "alias/bulkhead" });
  });

  it("treats a retried create whose first attempt went through as done: it reads the version its token names", async () => {
    const token = randomUUID();
    const stored = Buffer.alloc(32, 7);
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: "exists", ...meta }));
    sm.on(GetSecretValueCommand, { SecretId: secretName, VersionId: token }).resolves({ VersionId: token, SecretBinary: stored });
    const kek = await store().create(ref, token);
    expect(kek).toEqual({ version: token, key: stored });
  });

  it("does not adopt someone else's store: a create whose token names no version fails", async () => {
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: "exists", ...meta }));
    sm.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "no such version", ...meta }));
    await expect(store().create(ref, randomUUID())).rejects.toThrow(KeyStoreConflict);
  });

  it("reads the current version by its AWSCURRENT stage and others by version id", async () => {
    const current = randomUUID();
    const old = randomUUID();
    sm.on(GetSecretValueCommand, { SecretId: secretName, VersionStage: "AWSCURRENT" }).resolves({ VersionId: current, SecretBinary: Buffer.alloc(32, 1) });
    sm.on(GetSecretValueCommand, { SecretId: secretName, VersionId: old }).resolves({ VersionId: old, SecretBinary: Buffer.alloc(32, 2) });
    const keys = store();
    expect(await keys.current(ref)).toEqual({ version: current, key: Buffer.alloc(32, 1) });
    expect(await keys.version(ref, old)).toEqual({ version: old, key: Buffer.alloc(32, 2) });
    expect(sm).toHaveReceivedNthCommandWith(GetSecretValueCommand, 1, { SecretId: secretName, VersionStage: "AWSCURRENT" });
    expect(sm).toHaveReceivedNthCommandWith(GetSecretValueCommand, 2, { SecretId: secretName, VersionId: old });
  });

  it("caches versions it has read (versions never change) but always asks for the current one", async () => {
    const version = randomUUID();
    sm.on(GetSecretValueCommand).resolves({ VersionId: version, SecretBinary: Buffer.alloc(32, 3) });
    const keys = store();
    await keys.current(ref);
    await keys.version(ref, version);
    await keys.version(ref, version);
    await keys.current(ref);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it("maps a missing store, a missing version and a store pending deletion to KekNotFound", async () => {
    const keys = store();
    sm.on(GetSecretValueCommand).rejectsOnce(new ResourceNotFoundException({ message: "not found", ...meta }))
      .rejectsOnce(new InvalidRequestException({ message: "You can't perform this operation on the secret because it was marked for deletion.", ...meta }));
    await expect(keys.current(ref)).rejects.toThrow(KekNotFound);
    await expect(keys.version(ref, randomUUID())).rejects.toThrow(KekNotFound);
    await expect(keys.version(ref, "not-a-version")).rejects.toThrow(KekNotFound);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it("refuses a secret that does not hold a 256-bit key", async () => {
    sm.on(GetSecretValueCommand).resolves({ VersionId: randomUUID(), SecretBinary: Buffer.alloc(16) });
    await expect(store().current(ref)).rejects.toThrow(/256-bit/);
  });

  it("destroys with the recovery window, or at once for a store that never wrapped anything", async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await store().destroy(ref);
    await store().destroy(ref, { unused: true });
    expect(sm).toHaveReceivedNthCommandWith(DeleteSecretCommand, 1, { SecretId: secretName, RecoveryWindowInDays: 7 });
    expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).not.toHaveProperty("ForceDeleteWithoutRecovery");
    expect(sm).toHaveReceivedNthCommandWith(DeleteSecretCommand, 2, { SecretId: secretName, ForceDeleteWithoutRecovery: true });
  });

  it("forgets cached versions when it destroys a store", async () => {
    const version = randomUUID();
    const keys = store();
    sm.on(GetSecretValueCommand).resolvesOnce({ VersionId: version, SecretBinary: Buffer.alloc(32, 4) })
      .rejects(new ResourceNotFoundException({ message: "gone", ...meta }));
    sm.on(DeleteSecretCommand).resolves({});
    await keys.version(ref, version);
    await keys.destroy(ref);
    await expect(keys.version(ref, version)).rejects.toThrow(KekNotFound);
  });

  it("destroying is idempotent: already gone or already scheduled is success; other failures are not", async () => {
    sm.on(DeleteSecretCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: "not found", ...meta }))
      .rejectsOnce(new InvalidRequestException({ message: "You can't delete secret because it was already scheduled for deletion.", ...meta }))
      .rejectsOnce(new InvalidRequestException({ message: "something else", ...meta }));
    await store().destroy(ref);
    await store().destroy(ref);
    await expect(store().destroy(ref)).rejects.toThrow("something else");
  });

  it("never builds a name outside the app's own path", async () => {
    const keys = store();
    for (const bad of [{ org: "ACME", app: ref.app }, { org: "acme", app: "../globex/x" }, { org: "acme/x", app: ref.app }, { org: "www", app: ref.app }]) {
      await expect(keys.current(bad)).rejects.toThrow(/invalid key-store reference/);
    }
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });

  describe("rotation requests", () => {
    const [current, pending, previous] = [randomUUID(), randomUUID(), randomUUID()];

    it("puts a pending version with our token and an explicit AWSPENDING stage", async () => {
      sm.on(PutSecretValueCommand).resolves({ VersionId: pending });
      const kek = await store().createPending(ref, pending);
      expect(kek.version).toBe(pending);
      expect(sm).toHaveReceivedCommandExactlyOnceWith(PutSecretValueCommand, {
        SecretId: secretName, ClientRequestToken: pending, SecretBinary: kek.key, VersionStages: ["AWSPENDING"],
      });
    });

    it("treats a retried put whose first attempt went through as done", async () => {
      sm.on(PutSecretValueCommand).rejects(new ResourceExistsException({ message: "version exists with other data", ...meta }));
      sm.on(GetSecretValueCommand, { SecretId: secretName, VersionId: pending }).resolves({ VersionId: pending, SecretBinary: Buffer.alloc(32, 9) });
      expect(await store().createPending(ref, pending)).toEqual({ version: pending, key: Buffer.alloc(32, 9) });
    });

    it("promotes by moving AWSCURRENT from the current version, then clearing AWSPENDING", async () => {
      sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { [current]: ["AWSCURRENT"], [pending]: ["AWSPENDING"], [previous]: ["AWSPREVIOUS"] } });
      await store().promote(ref, pending);
      expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 2);
      expect(sm).toHaveReceivedNthCommandWith(UpdateSecretVersionStageCommand, 1, {
        SecretId: secretName, VersionStage: "AWSCURRENT", MoveToVersionId: pending, RemoveFromVersionId: current,
      });
      expect(sm).toHaveReceivedNthCommandWith(UpdateSecretVersionStageCommand, 2, { SecretId: secretName, VersionStage: "AWSPENDING", RemoveFromVersionId: pending });
    });

    it("finishes a half-done promotion and repeats a finished one without a request", async () => {
      sm.on(DescribeSecretCommand).resolvesOnce({ VersionIdsToStages: { [pending]: ["AWSCURRENT", "AWSPENDING"], [current]: ["AWSPREVIOUS"] } })
        .resolves({ VersionIdsToStages: { [pending]: ["AWSCURRENT"], [current]: ["AWSPREVIOUS"] } });
      await store().promote(ref, pending);
      await store().promote(ref, pending);
      expect(sm).toHaveReceivedCommandExactlyOnceWith(UpdateSecretVersionStageCommand, { SecretId: secretName, VersionStage: "AWSPENDING", RemoveFromVersionId: pending });
    });

    it("refuses to promote a version that is not pending", async () => {
      sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { [current]: ["AWSCURRENT"], [previous]: ["AWSPREVIOUS"] } });
      await expect(store().promote(ref, previous)).rejects.toThrow(/pending/);
      expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 0);
    });

    it("retires a previous version by removing its labels, and never the current or pending one", async () => {
      sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { [current]: ["AWSCURRENT"], [previous]: ["AWSPREVIOUS"], [pending]: ["AWSPENDING"] } });
      await store().retire(ref, previous);
      expect(sm).toHaveReceivedCommandExactlyOnceWith(UpdateSecretVersionStageCommand, { SecretId: secretName, VersionStage: "AWSPREVIOUS", RemoveFromVersionId: previous });
      await expect(store().retire(ref, current)).rejects.toThrow();
      await expect(store().retire(ref, pending)).rejects.toThrow();
      await store().retire(ref, randomUUID()); // already unlabelled: nothing to do
      expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
    });

    it("describes a store pending deletion as gone", async () => {
      sm.on(DescribeSecretCommand).resolves({ DeletedDate: new Date(), VersionIdsToStages: { [current]: ["AWSCURRENT"] } });
      await expect(store().describe(ref)).rejects.toThrow(KekNotFound);
    });
  });

  it("refuses a recovery window Secrets Manager would refuse", () => {
    expect(() => new SecretsManagerKeyStore({ recoveryWindowDays: 3 })).toThrow();
    expect(() => new SecretsManagerKeyStore({ recoveryWindowDays: 31 })).toThrow();
  });
});

describe("the offline key store stand-in", () => {
  const fresh = (): { store: KeyStore; directory: string } => {
    const directory = mkdtempSync(join(tmpdir(), "bulkhead-keystore-test-"));
    return { store: new KeyStoreStandIn(directory), directory };
  };

  it("creates a store whose only version is AWSCURRENT, in a private file", async () => {
    const { store, directory } = fresh();
    const token = randomUUID();
    const kek = await store.create(ref, token);
    expect(kek.version).toBe(token);
    expect(await store.current(ref)).toEqual(kek);
    expect(await store.version(ref, token)).toEqual(kek);
    const file = join(directory, "acme", `${ref.app}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved).toMatchObject({ name: secretName, tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: ref.app }] });
    expect(saved.versions).toEqual([expect.objectContaining({ id: token, stages: ["AWSCURRENT"] })]);
  });

  it("persists across instances on the same directory (an `npm start` restart)", async () => {
    const { store, directory } = fresh();
    const kek = await store.create(ref, randomUUID());
    expect(await new KeyStoreStandIn(directory).current(ref)).toEqual(kek);
  });

  it("is idempotent per request token and refuses a second store for the same app", async () => {
    const { store } = fresh();
    const token = randomUUID();
    const first = await store.create(ref, token);
    expect(await store.create(ref, token)).toEqual(first);
    await expect(store.create(ref, randomUUID())).rejects.toThrow(KeyStoreConflict);
    const racing = await Promise.allSettled([store.create({ ...ref, app: "b".repeat(26) }, token), store.create({ ...ref, app: "b".repeat(26) }, token)]);
    expect(racing.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
  });

  it("destroys at once: nothing is left to read", async () => {
    const { store } = fresh();
    const kek = await store.create(ref, randomUUID());
    await store.destroy(ref);
    await expect(store.current(ref)).rejects.toThrow(KekNotFound);
    await expect(store.version(ref, kek.version)).rejects.toThrow(KekNotFound);
    await store.destroy(ref); // idempotent
  });

  it("follows Secrets Manager's staging labels through a rotation, dropping versions left without one", async () => {
    const { store } = fresh();
    const first = await store.create(ref, randomUUID());
    const second = await store.createPending(ref, randomUUID());
    expect(stagesOf(await store.describe(ref))).toEqual({ current: first.version, pending: second.version, previous: undefined });
    expect(await store.current(ref)).toEqual(first);
    expect(await store.createPending(ref, second.version)).toEqual(second); // a retry
    await store.promote(ref, second.version);
    await store.promote(ref, second.version); // idempotent
    expect(stagesOf(await store.describe(ref))).toEqual({ current: second.version, pending: undefined, previous: first.version });
    expect(await store.version(ref, first.version)).toEqual(first);

    const third = await store.createPending(ref, randomUUID());
    await store.promote(ref, third.version);
    // AWSPREVIOUS moved on: the first version lost its last label and is gone.
    expect((await store.describe(ref)).map((v) => v.id).sort()).toEqual([second.version, third.version].sort());
    await expect(store.version(ref, first.version)).rejects.toThrow(KekNotFound);

    await expect(store.retire(ref, third.version)).rejects.toThrow();
    await store.retire(ref, second.version);
    expect((await store.describe(ref)).map((v) => v.id)).toEqual([third.version]);
  });

  it("moves AWSPENDING when a second pending version is put, as Secrets Manager does", async () => {
    const { store } = fresh();
    await store.create(ref, randomUUID());
    const abandoned = await store.createPending(ref, randomUUID());
    const next = await store.createPending(ref, randomUUID());
    expect(stagesOf(await store.describe(ref)).pending).toBe(next.version);
    await expect(store.version(ref, abandoned.version)).rejects.toThrow(KekNotFound);
  });

  it("serialises changes from concurrent writers (as `npm start` and `npm run rotate` may be)", async () => {
    const { store, directory } = fresh();
    await store.create(ref, randomUUID());
    const other = new KeyStoreStandIn(directory);
    const puts = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).createPending(ref, randomUUID())));
    const { pending } = stagesOf(await store.describe(ref));
    expect(puts.map((p) => p.version)).toContain(pending);
    expect(await store.describe(ref)).toHaveLength(2);
  });

  it("refuses references that could escape its directory", async () => {
    const { store } = fresh();
    await expect(store.create({ org: "acme", app: "../../etc/passwd" }, randomUUID())).rejects.toThrow(/invalid key-store reference/);
    await expect(store.current({ org: "..", app: ref.app })).rejects.toThrow(/invalid key-store reference/);
  });
});
