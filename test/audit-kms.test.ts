import { generateKeyPairSync, sign } from "node:crypto";
import { GetPublicKeyCommand, KMSClient, SignCommand, type GetPublicKeyCommandOutput } from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appendAudit } from "../packages/core/src/audit/chain.ts";
import { KMS_SIGNING_ALGORITHM, kmsCheckpointSigner } from "../packages/core/src/audit/kms-signer.ts";
import { sequenceRecords } from "../packages/core/src/audit/sequencer.ts";
import { signedPayload, treeHeadProblem } from "../packages/core/src/audit/tree-heads.ts";
import { readRecords, readTreeState } from "../packages/core/src/audit/tree-store.ts";
import { verifyAuditLog } from "../packages/core/src/audit/verify-stored.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { startTestApi, type TestApi } from "./support/api.ts";

/**
 * The cloud tree-head signer (the stream sequencer of its org is held off, so this test's sequencer
 * signs with KMS). KMS has no local server, so it is mocked, and the exact requests
 * are checked; the mock signs with a real P-256 key, so the signatures verify for real.
 */
const ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALIAS = "alias/bulkhead-audit-checkpoints";
const p256 = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const kms = mockClient(KMSClient);

/** An org with no log yet (npm start's seeded orgs begin theirs with their creation record). */
const KMS_ORG = "kms-signed";
let api: TestApi;
beforeAll(async () => (api = await startTestApi({ auditFault: (_step, org) => {
  if (org === KMS_ORG) throw new Error(`${KMS_ORG} is sequenced by the test`);
} })));
afterAll(() => api?.stop());

const signingKey: Partial<GetPublicKeyCommandOutput> = {
  KeyId: ARN,
  KeySpec: "ECC_NIST_P256",
  KeyUsage: "SIGN_VERIFY",
  SigningAlgorithms: [KMS_SIGNING_ALGORITHM],
  PublicKey: p256.publicKey.export({ type: "spki", format: "der" }),
};

beforeEach(() => {
  kms.reset();
  kms.on(GetPublicKeyCommand).resolves(signingKey);
  kms.on(SignCommand).callsFake((input) => ({
    KeyId: ARN,
    SigningAlgorithm: input.SigningAlgorithm,
    Signature: sign("sha256", Buffer.from(input.Message), { key: p256.privateKey, dsaEncoding: "der" }),
  }));
});

describe("the KMS tree-head signer", () => {
  it("signs the canonical tree head with ECDSA_SHA_256 over the raw message, one signature per sequenced batch, and verify checks it", async () => {
    const table = tenantTable(KMS_ORG);
    for (const n of ["one", "two", "three"]) {
      await appendAudit(table, { actor: { kind: "system", sub: "kms-test" }, action: "test.append", target: { n }, outcome: { result: "ok" }, requestId: n });
    }
    const signer = kmsCheckpointSigner(ALIAS, new KMSClient({ region: "eu-west-1" }));
    expect(await sequenceRecords(table, await readRecords(table, 10), { signer })).toBe(3);
    const state = await readTreeState(table);
    const head = state.head!;
    expect(head).toMatchObject({ org: KMS_ORG, treeSize: 3, rootHash: state.rootHash, keyId: ARN, algorithm: "ECDSA_SHA_256" });

    expect(kms).toHaveReceivedCommandExactlyOnceWith(GetPublicKeyCommand, { KeyId: ALIAS });
    expect(kms).toHaveReceivedCommandTimes(SignCommand, 1);
    const { signature: _signature, ...unsigned } = head;
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toEqual({
      KeyId: ARN,
      Message: signedPayload(unsigned),
      MessageType: "RAW",
      SigningAlgorithm: "ECDSA_SHA_256",
    });
    const pem = p256.publicKey.export({ type: "spki", format: "pem" }) as string;
    expect(treeHeadProblem(head, pem)).toBeUndefined();
    expect(treeHeadProblem({ ...head, treeSize: 2 }, pem)).toContain("not validly signed");

    // Verifying reads and checks; it signs nothing.
    expect(await verifyAuditLog(table, signer)).toMatchObject({ ok: true, entries: 3, headsChecked: 1, unverifiedAnchors: 0 });
    expect(kms).toHaveReceivedCommandTimes(SignCommand, 1);
  });

  it("refuses a key that is not an ECDSA signing key, and asks KMS again next time", async () => {
    kms.on(GetPublicKeyCommand).resolvesOnce({ KeyId: ARN, KeyUsage: "ENCRYPT_DECRYPT", KeySpec: "SYMMETRIC_DEFAULT" }).resolves(signingKey);
    const signer = kmsCheckpointSigner(ALIAS, new KMSClient({ region: "eu-west-1" }));
    await expect(signer.describe()).rejects.toThrow(/not an ECDSA_SHA_256 signing key/);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(signer.describe()).resolves.toMatchObject({ keyId: ARN });
    expect(kms).toHaveReceivedCommandTimes(GetPublicKeyCommand, 2);
    expect(kms).not.toHaveReceivedCommand(SignCommand);
  });
});
