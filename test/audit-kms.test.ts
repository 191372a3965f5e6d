import { generateKeyPairSync, sign } from "node:crypto";
import { GetPublicKeyCommand, KMSClient, SignCommand, type GetPublicKeyCommandOutput } from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../packages/core/src/audit/checkpoints.ts";
import { KMS_SIGNING_ALGORITHM, kmsCheckpointSigner } from "../packages/core/src/audit/kms-signer.ts";
import { checkpointPayload, checkpointSignatureValid } from "../packages/core/src/audit/verify.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { startTestApi, type TestApi } from "./support/api.ts";

/**
 * The cloud checkpoint signer. KMS has no local server, so it is mocked, and the exact requests
 * are checked; the mock signs with a real P-256 key, so the signatures verify for real.
 */
const ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALIAS = "alias/bulkhead-audit-checkpoints";
const p256 = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const kms = mockClient(KMSClient);

let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
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

describe("the KMS checkpoint signer", () => {
  it("signs the canonical checkpoint with ECDSA_SHA_256 over the raw message, and verify anchors the chain with it", async () => {
    const token = api.tokens.member("acme", "admin");
    for (const name of ["one", "two", "three"]) {
      expect((await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token, body: { name } })).status).toBe(201);
    }
    const signer = kmsCheckpointSigner(ALIAS, new KMSClient({ region: "eu-west-1" }));
    const result = await verifyAuditChain(tenantTable("acme"), signer);
    expect(result).toMatchObject({ ok: true, entries: 3, head: { seq: 3 } });
    if (!result.ok) throw new Error("unreachable");
    const checkpoint = result.checkpoint!;
    expect(checkpoint).toMatchObject({ org: "acme", seq: 3, hash: result.head!.hash, keyId: ARN, algorithm: "ECDSA_SHA_256" });

    expect(kms).toHaveReceivedCommandExactlyOnceWith(GetPublicKeyCommand, { KeyId: ALIAS });
    expect(kms).toHaveReceivedCommandTimes(SignCommand, 1);
    const { signature: _signature, ...unsigned } = checkpoint;
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toEqual({
      KeyId: ARN,
      Message: checkpointPayload(unsigned),
      MessageType: "RAW",
      SigningAlgorithm: "ECDSA_SHA_256",
    });
    expect(checkpointSignatureValid(checkpoint, p256.publicKey)).toBe(true);
    expect(checkpointSignatureValid({ ...checkpoint, seq: 2 }, p256.publicKey)).toBe(false);

    // Verifying again with nothing new appended reuses the checkpoint: no second signature.
    expect(await verifyAuditChain(tenantTable("acme"), signer)).toMatchObject({ ok: true, checkpoint: { seq: 3 } });
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
