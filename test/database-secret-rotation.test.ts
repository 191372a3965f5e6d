import { randomUUID } from "node:crypto";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DatabasePasswordsStandIn, type DatabaseConnection } from "../packages/core/src/credentials/database-passwords.ts";
import { databaseSecretName, rotateDatabaseSecret, type RotationStep } from "../packages/core/src/credentials/database-secret-rotation.ts";
import { SecretRotationRefused } from "../packages/core/src/credentials/errors.ts";

const sm = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
afterAll(() => sm.restore());

const org = "acme";
const app = "abcdefghijklmnopqrstuvwxyz";
const SecretId = `arn:aws:secretsmanager:us-east-1:111122223333:secret:${databaseSecretName(org, app)}-AbCdEf`;
const meta = { $metadata: {} };
const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value", ...meta });
const connection: DatabaseConnection = { engine: "postgres", host: "db.internal", port: 5432, dbname: "app", username: "app_user", password: "old-password" };
const step = (Step: RotationStep, token: string, database: DatabasePasswordsStandIn, newPassword?: () => string) =>
  rotateDatabaseSecret({ SecretId, ClientRequestToken: token, Step }, { secrets, database, newPassword });

/**
 * Secrets Manager's behaviour for one secret, kept in aws-sdk-client-mock: versions with staging
 * labels, idempotent puts per client request token, and the AWSPREVIOUS move on AWSCURRENT.
 */
function fakeSecret(initial: { id: string; value: DatabaseConnection }) {
  const versions = new Map<string, { value: string; stages: string[] }>([[initial.id, { value: JSON.stringify(initial.value), stages: ["AWSCURRENT"] }]]);
  const state = { rotationEnabled: true, name: databaseSecretName(org, app), tags: [{ Key: "org", Value: org }, { Key: "app", Value: app }] };
  const move = (stage: string, to?: string, from?: string) => {
    if (from) versions.get(from)!.stages = versions.get(from)!.stages.filter((s) => s !== stage);
    if (to) {
      for (const v of versions.values()) v.stages = v.stages.filter((s) => s !== stage);
      versions.get(to)!.stages.push(stage);
    }
  };
  sm.on(DescribeSecretCommand).callsFake(() => ({
    Name: state.name, Tags: state.tags, RotationEnabled: state.rotationEnabled,
    VersionIdsToStages: Object.fromEntries([...versions].filter(([, v]) => v.stages.length).map(([id, v]) => [id, [...v.stages]])),
  }));
  sm.on(GetSecretValueCommand).callsFake(({ VersionId, VersionStage }) => {
    // A version RotateSecret labelled but createSecret has not filled yet has no value to get.
    const found = [...versions].find(([id, v]) => v.value && (!VersionId || id === VersionId) && (!VersionStage || v.stages.includes(VersionStage)));
    if (!found) throw notFound();
    return { VersionId: found[0], SecretString: found[1].value, VersionStages: found[1].stages };
  });
  sm.on(PutSecretValueCommand).callsFake(({ ClientRequestToken, SecretString, VersionStages }) => {
    const existing = versions.get(ClientRequestToken);
    if (existing?.value && existing.value !== SecretString) throw new ResourceExistsException({ message: "version exists", ...meta });
    if (existing) existing.value = SecretString;
    else versions.set(ClientRequestToken, { value: SecretString, stages: [] });
    for (const stage of VersionStages ?? []) move(stage, ClientRequestToken);
    return { VersionId: ClientRequestToken };
  });
  sm.on(UpdateSecretVersionStageCommand).callsFake(({ VersionStage, MoveToVersionId, RemoveFromVersionId }) => {
    if (RemoveFromVersionId && !versions.get(RemoveFromVersionId)?.stages.includes(VersionStage)) {
      throw new Error(`${VersionStage} is not on ${RemoveFromVersionId}`);
    }
    const leaving = VersionStage === "AWSCURRENT" ? RemoveFromVersionId : undefined;
    move(VersionStage, MoveToVersionId, RemoveFromVersionId);
    if (leaving && MoveToVersionId) move("AWSPREVIOUS", leaving);
    return {};
  });
  /** Starts a rotation as RotateSecret does: a new token labelled AWSPENDING, with no value yet. */
  const startRotation = () => {
    const token = randomUUID();
    versions.set(token, { value: "", stages: [] });
    move("AWSPENDING", token);
    return token;
  };
  const holding = (stage: string) => [...versions].find(([, v]) => v.stages.includes(stage))?.[0];
  const value = (id: string) => JSON.parse(versions.get(id)!.value) as DatabaseConnection;
  return { state, startRotation, holding, value };
}

beforeEach(() => sm.reset());

describe("the database-secret rotation protocol, step by step and retried", () => {
  it("runs createSecret → setSecret → testSecret → finishSecret, each repeated, to one clean rotation", async () => {
    const initial = randomUUID();
    const secret = fakeSecret({ id: initial, value: connection });
    const database = new DatabasePasswordsStandIn([connection]);
    const token = secret.startRotation();

    for (const name of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) {
      await step(name, token, database);
      await step(name, token, database); // a retry of the same step with the same token
    }

    expect(secret.holding("AWSCURRENT")).toBe(token);
    expect(secret.holding("AWSPREVIOUS")).toBe(initial);
    expect(secret.holding("AWSPENDING")).toBeUndefined();
    const rotated = secret.value(token);
    expect(rotated).toEqual({ ...connection, password: expect.any(String) });
    expect(rotated.password).not.toBe(connection.password);
    expect(rotated.password.length).toBeGreaterThanOrEqual(32);
    expect(await database.canLogIn(rotated)).toBe(true);
    expect(await database.canLogIn(connection)).toBe(false);
    expect(database.changes).toEqual([{ account: "postgres://app_user@db.internal:5432/app", at: expect.any(String) }]);
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 2);
  });

  it("a second rotation logs in with the new current password", async () => {
    const secret = fakeSecret({ id: randomUUID(), value: connection });
    const database = new DatabasePasswordsStandIn([connection]);
    for (let round = 0; round < 2; round++) {
      const token = secret.startRotation();
      for (const name of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) await step(name, token, database);
    }
    expect(database.changes).toHaveLength(2);
    expect(await database.canLogIn(secret.value(secret.holding("AWSCURRENT")!))).toBe(true);
  });
});

describe("each step's requests", () => {
  const current = randomUUID();
  const token = randomUUID();
  const describeWith = (stages: Record<string, string[]>, extra: object = {}) =>
    sm.on(DescribeSecretCommand, { SecretId }).resolves({
      Name: databaseSecretName(org, app), Tags: [{ Key: "org", Value: org }, { Key: "app", Value: app }], RotationEnabled: true, VersionIdsToStages: stages, ...extra,
    });
  const pendingValue = { ...connection, password: "new-password" };

  it("createSecret: reads AWSCURRENT, finds no pending value, puts one with the token and an explicit AWSPENDING stage", async () => {
    describeWith({ [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    sm.on(GetSecretValueCommand, { SecretId, VersionStage: "AWSCURRENT" }).resolves({ SecretString: JSON.stringify(connection) });
    sm.on(GetSecretValueCommand, { SecretId, VersionId: token, VersionStage: "AWSPENDING" }).rejects(notFound());
    sm.on(PutSecretValueCommand).resolves({});
    await step("createSecret", token, new DatabasePasswordsStandIn(), () => "generated-password");
    expect(sm).toHaveReceivedCommandExactlyOnceWith(PutSecretValueCommand, {
      SecretId, ClientRequestToken: token, VersionStages: ["AWSPENDING"], SecretString: JSON.stringify({ ...connection, password: "generated-password" }),
    });
  });

  it("createSecret retried after its put went through: no second put", async () => {
    describeWith({ [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(pendingValue) });
    await step("createSecret", token, new DatabasePasswordsStandIn());
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId, VersionId: token, VersionStage: "AWSPENDING" });
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 0);
  });

  it("setSecret: changes the password logging in as the current user; retried, it sees the change and does nothing", async () => {
    describeWith({ [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    sm.on(GetSecretValueCommand, { SecretId, VersionId: token, VersionStage: "AWSPENDING" }).resolves({ SecretString: JSON.stringify(pendingValue) });
    sm.on(GetSecretValueCommand, { SecretId, VersionStage: "AWSCURRENT" }).resolves({ SecretString: JSON.stringify(connection) });
    const database = new DatabasePasswordsStandIn([connection]);
    await step("setSecret", token, database);
    await step("setSecret", token, database);
    expect(database.changes).toHaveLength(1);
    expect(await database.canLogIn(pendingValue)).toBe(true);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3); // pending + current, then pending only
  });

  it("setSecret: falls back to AWSPREVIOUS when the current password no longer logs in", async () => {
    describeWith({ [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    const previous = { ...connection, password: "previous-password" };
    sm.on(GetSecretValueCommand, { SecretId, VersionId: token, VersionStage: "AWSPENDING" }).resolves({ SecretString: JSON.stringify(pendingValue) });
    sm.on(GetSecretValueCommand, { SecretId, VersionStage: "AWSCURRENT" }).resolves({ SecretString: JSON.stringify(connection) });
    sm.on(GetSecretValueCommand, { SecretId, VersionStage: "AWSPREVIOUS" }).resolves({ SecretString: JSON.stringify(previous) });
    const database = new DatabasePasswordsStandIn([previous]);
    await step("setSecret", token, database);
    expect(await database.canLogIn(pendingValue)).toBe(true);
  });

  it("setSecret: refuses a pending value that names another account or host", async () => {
    describeWith({ [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    sm.on(GetSecretValueCommand, { SecretId, VersionId: token, VersionStage: "AWSPENDING" }).resolves({ SecretString: JSON.stringify({ ...pendingValue, host: "evil.example" }) });
    sm.on(GetSecretValueCommand, { SecretId, VersionStage: "AWSCURRENT" }).resolves({ SecretString: JSON.stringify(connection) });
    const database = new DatabasePasswordsStandIn([connection]);
    await expect(step("setSecret", token, database)).rejects.toThrow(SecretRotationRefused);
    expect(database.changes).toEqual([]);
  });

  it("testSecret: passes when the pending password logs in, fails (every retry) when it does not", async () => {
    describeWith({ [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    sm.on(GetSecretValueCommand, { SecretId, VersionId: token, VersionStage: "AWSPENDING" }).resolves({ SecretString: JSON.stringify(pendingValue) });
    await step("testSecret", token, new DatabasePasswordsStandIn([pendingValue]));
    await step("testSecret", token, new DatabasePasswordsStandIn([pendingValue]));
    await expect(step("testSecret", token, new DatabasePasswordsStandIn([connection]))).rejects.toThrow(SecretRotationRefused);
    await expect(step("testSecret", token, new DatabasePasswordsStandIn([connection]))).rejects.toThrow(SecretRotationRefused);
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 0);
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 0);
  });

  it("finishSecret: moves AWSCURRENT from the current version, then takes AWSPENDING off", async () => {
    describeWith({ [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    await step("finishSecret", token, new DatabasePasswordsStandIn());
    expect(sm).toHaveReceivedNthCommandWith(UpdateSecretVersionStageCommand, 1, { SecretId, VersionStage: "AWSCURRENT", MoveToVersionId: token, RemoveFromVersionId: current });
    expect(sm).toHaveReceivedNthCommandWith(UpdateSecretVersionStageCommand, 2, { SecretId, VersionStage: "AWSPENDING", RemoveFromVersionId: token });
  });

  it("finishSecret retried after its first move: only AWSPENDING comes off; after both: nothing", async () => {
    describeWith({ [token]: ["AWSCURRENT", "AWSPENDING"], [current]: ["AWSPREVIOUS"] });
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    await step("finishSecret", token, new DatabasePasswordsStandIn());
    expect(sm).toHaveReceivedCommandExactlyOnceWith(UpdateSecretVersionStageCommand, { SecretId, VersionStage: "AWSPENDING", RemoveFromVersionId: token });
    sm.reset();
    describeWith({ [token]: ["AWSCURRENT"], [current]: ["AWSPREVIOUS"] });
    await step("finishSecret", token, new DatabasePasswordsStandIn());
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 0);
  });

  it("every step, retried once the version is current, does nothing", async () => {
    describeWith({ [token]: ["AWSCURRENT"], [current]: ["AWSPREVIOUS"] });
    for (const name of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) await step(name, token, new DatabasePasswordsStandIn());
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 0);
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 0);
  });

  it.each([
    ["rotation disabled", { [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] }, { RotationEnabled: false }],
    ["a token naming no version", { [current]: ["AWSCURRENT"] }, {}],
    ["a token that is not pending", { [current]: ["AWSCURRENT"], [token]: ["AWSPREVIOUS"] }, {}],
    ["another kind of secret", { [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] }, { Name: `bulkhead/${org}/${app}/kek` }],
    ["another app's tags", { [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] }, { Tags: [{ Key: "org", Value: org }, { Key: "app", Value: "b".repeat(26) }] }],
    ["no tags", { [current]: ["AWSCURRENT"], [token]: ["AWSPENDING"] }, { Tags: [] }],
  ])("refuses %s before touching anything", async (_what, stages, extra) => {
    describeWith(stages, extra);
    for (const name of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) {
      await expect(step(name, token, new DatabasePasswordsStandIn([connection]))).rejects.toThrow(SecretRotationRefused);
    }
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 0);
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 0);
  });
});
