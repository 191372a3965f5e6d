import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { strToU8, unzipSync, zipSync } from "fflate";
import { auditSettled } from "./support/samples.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postUploadForm, UploadRefused, type UploadForm } from "../packages/local/src/deploy/api.ts";
import { send } from "../packages/local/src/deploy/http.ts";
import { lambdaContext } from "../packages/local/src/lambda-context.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { newApp, putSource, startDeployment, waitForStatus } from "./support/deployments.ts";

/**
 * Source uploads end to end: the API issues a presigned S3 POST (signed by the real
 * @aws-sdk/s3-presigned-post), and the object store stand-in takes or refuses it over HTTP as S3
 * would. The cap is small here so a too-large upload is cheap; the form lives 3 s so expiry is too.
 */
const MAX_BYTES = 4096;
const UPLOAD_SECONDS = 3;
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ sourceUploads: { maxBytes: MAX_BYTES, uploadSeconds: UPLOAD_SECONDS } });
});
afterAll(() => api?.stop());

const host = () => api.orgHost("acme");
const developer = () => api.tokens.member("acme", "developer");
const zipOf = (files: Record<string, string>) => zipSync(Object.fromEntries(Object.entries(files).map(([n, c]) => [n, strToU8(c)])));
const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const objectPath = (appId: string, ref: string) =>
  api.offline.deployments.standIns.store.path("bulkhead-artifacts", `acme/${appId}/sources/${ref}.zip`);

async function issue(appId: string, ref: string, bytes: Uint8Array, extra: object = {}) {
  const reply = await api.call(host(), "POST", `/v1/apps/${appId}/sources`, { token: developer(), body: { ref, sha256: sha256Hex(bytes), ...extra } });
  expect(reply.status, reply.text).toBe(201);
  return reply.json as { source: Record<string, unknown>; upload: UploadForm };
}

/** The S3 refusal a form gets, or undefined when it was taken. */
async function refusalOf(upload: UploadForm, bytes: Uint8Array): Promise<UploadRefused | undefined> {
  try {
    await postUploadForm(upload, bytes);
    return undefined;
  } catch (error) {
    if (error instanceof UploadRefused) return error;
    throw error;
  }
}

const policyOf = (upload: UploadForm) => JSON.parse(Buffer.from(upload.fields.Policy!, "base64").toString("utf8"));

/** Audit entries of one action, read through the API (kept in one place while the audit log is reworked). */
async function auditEntries(action: string) {
  await auditSettled(api, "acme");
  const reply = await api.call(host(), "GET", `/v1/audit?action=${action}`, { token: api.tokens.member("acme", "admin") });
  expect(reply.status, reply.text).toBe(200);
  return reply.json.items as { action: string; target: Record<string, string>; outcome: { result: string } }[];
}

describe("issuing a source upload", () => {
  it("returns a form for exactly the app's key: size range, required checksum, short expiry; the upload lands and is listed", async () => {
    const appId = await newApp(api, "acme");
    const bytes = zipOf({ "index.html": "<h1>v1</h1>\n" });
    const { source, upload } = await issue(appId, "v1", bytes, { size: bytes.length });
    expect(source).toMatchObject({ ref: "v1", sha256: sha256Hex(bytes), status: "pending", createdBy: "developer-of-acme" });
    expect(upload.url).toBe(`${api.offline.objectStoreUrl}/bulkhead-artifacts`);
    expect(upload.maxBytes).toBe(MAX_BYTES);
    expect(upload.fields.key).toBe(`acme/${appId}/sources/v1.zip`);
    const policy = policyOf(upload);
    expect(policy.conditions).toEqual(expect.arrayContaining([
      ["content-length-range", 1, MAX_BYTES],
      { key: `acme/${appId}/sources/v1.zip` },
      { bucket: "bulkhead-artifacts" },
      { "x-amz-checksum-algorithm": "SHA256" },
      { "x-amz-checksum-sha256": Buffer.from(sha256Hex(bytes), "hex").toString("base64") },
    ]));
    const lifetime = Date.parse(policy.expiration) - Date.now();
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(UPLOAD_SECONDS * 1000);

    await postUploadForm(upload, bytes);
    expect(unzipSync(readFileSync(objectPath(appId, "v1")))["index.html"]).toEqual(strToU8("<h1>v1</h1>\n"));
    const list = await api.call(host(), "GET", `/v1/apps/${appId}/sources`, { token: api.tokens.member("acme", "viewer") });
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([expect.objectContaining({ ref: "v1", sha256: sha256Hex(bytes) })]);
    const entries = (await auditEntries("sources.create")).filter((e) => e.target.appId === appId);
    expect(entries).toEqual([expect.objectContaining({ target: { appId, ref: "v1", sha256: sha256Hex(bytes) }, outcome: expect.objectContaining({ result: "ok" }) })]);
    // The object store's notification marks it uploaded, audited as the object store's act.
    expect(await waitForSourceStatus(appId, "v1", "uploaded")).toMatchObject({ size: bytes.length, uploadedAt: expect.any(String) });
    const uploaded = (await auditEntries("sources.uploaded")).filter((e) => e.target.appId === appId);
    expect(uploaded).toEqual([expect.objectContaining({ actor: { kind: "system", sub: "object-store" }, target: { appId, ref: "v1" } })]);
  });

  it("lists by ref with signed cursors, one page at a time", async () => {
    const appId = await newApp(api, "acme");
    for (const ref of ["c", "a", "b"]) await putSource(api, "acme", appId, ref, { "f.txt": ref });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call(host(), "GET", `/v1/apps/${appId}/sources?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: developer() });
      expect(page.status, page.text).toBe(200);
      seen.push(...page.json.items.map((s: { ref: string }) => s.ref));
      cursor = page.json.cursor;
    } while (cursor);
    expect(seen).toEqual(["a", "b", "c"]);
  });

  it("refuses bad refs, checksums and sizes with a 400 problem, writing nothing", async () => {
    const appId = await newApp(api, "acme");
    const before = await api.partition(`ORG#acme#APP#${appId}`);
    const good = { ref: "v1", sha256: "a".repeat(64) };
    const cases: object[] = [
      { ...good, ref: ".." }, { ...good, ref: "a/.." }, { ...good, ref: "../x" }, { ...good, ref: "a/b" }, { ...good, ref: "a".repeat(129) },
      { ...good, ref: "v1#x" }, { ...good, ref: "" }, { ...good, sha256: "A".repeat(64) }, { ...good, sha256: "a".repeat(63) },
      { ...good, size: 0 }, { ...good, size: MAX_BYTES + 1 }, { ...good, extra: 1 }, { ref: "v1" },
    ];
    for (const body of cases) {
      const reply = await api.call(host(), "POST", `/v1/apps/${appId}/sources`, { token: developer(), body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
    }
    const tooLarge = await api.call(host(), "POST", `/v1/apps/${appId}/sources`, { token: developer(), body: { ...good, size: MAX_BYTES + 1 } });
    expect(tooLarge.json.detail).toBe(`The source is ${MAX_BYTES + 1} bytes; uploads may be at most ${MAX_BYTES} bytes.`);
    expect(await api.partition(`ORG#acme#APP#${appId}`)).toEqual(before);
    expect((await api.call(host(), "POST", `/v1/apps/${"a".repeat(26)}/sources`, { token: developer(), body: good })).status).toBe(404);
  });

  it("a ref names one content: a retry of the same bytes gets a new form, other bytes or a finished upload a 409", async () => {
    const appId = await newApp(api, "acme");
    const bytes = zipOf({ "a.txt": "one" });
    await issue(appId, "v1", bytes);
    const retry = await issue(appId, "v1", bytes);
    const other = await api.call(host(), "POST", `/v1/apps/${appId}/sources`, { token: developer(), body: { ref: "v1", sha256: sha256Hex(zipOf({ "a.txt": "two" })) } });
    expect(other.status).toBe(409);
    await postUploadForm(retry.upload, bytes);
    await waitForSourceStatus(appId, "v1", "uploaded");
    const again = await api.call(host(), "POST", `/v1/apps/${appId}/sources`, { token: developer(), body: { ref: "v1", sha256: sha256Hex(bytes) } });
    expect(again.status).toBe(409);
    expect(again.json.detail).toMatch(/immutable, use a new ref/);
  });
});

/** Polls the listing until `ref` has `status` (the object-created notification is asynchronous, as S3's). */
async function waitForSourceStatus(appId: string, ref: string, status: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const list = await api.call(host(), "GET", `/v1/apps/${appId}/sources`, { token: developer() });
    const source = list.json.items.find((s: { ref: string }) => s.ref === ref);
    if (source?.status === status) return source;
    if (Date.now() > deadline) throw new Error(`source ${ref} is ${source?.status}, wanted ${status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("the object store stand-in refuses what S3 would refuse", () => {
  let appId: string;
  beforeAll(async () => {
    appId = await newApp(api, "acme");
  });

  const expectRefused = async (refusal: UploadRefused | undefined, status: number, code: string, message: string | RegExp, ref: string) => {
    expect(refusal, "the upload was taken").toBeInstanceOf(UploadRefused);
    expect({ status: refusal!.status, code: refusal!.code }).toEqual({ status, code });
    if (typeof message === "string") expect(refusal!.s3Message).toBe(message);
    else expect(refusal!.s3Message).toMatch(message);
    expect(existsSync(objectPath(appId, ref)), "nothing stored").toBe(false);
  };

  it("a file over the content-length-range cap: 400 EntityTooLarge with the sizes", async () => {
    const big = new Uint8Array(MAX_BYTES + 1).fill(7);
    const { upload } = await issue(appId, "big", big);
    const refusal = await refusalOf(upload, big);
    await expectRefused(refusal, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", "big");
    expect(refusal!.details).toEqual({ ProposedSize: String(MAX_BYTES + 1), MaxSizeAllowed: String(MAX_BYTES) });
  });

  it("an empty file: 400 EntityTooSmall", async () => {
    const { upload } = await issue(appId, "empty", zipOf({ x: "x" }));
    await expectRefused(await refusalOf(upload, new Uint8Array()), 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", "empty");
  });

  it("bytes other than the announced checksum: 400 BadDigest", async () => {
    const { upload } = await issue(appId, "mismatch", zipOf({ "a.txt": "announced" }));
    const refusal = await refusalOf(upload, zipOf({ "a.txt": "sent instead" }));
    await expectRefused(refusal, 400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.", "mismatch");
    // What the CLIs print.
    expect(refusal!.message).toBe("the object store refused the upload (400 BadDigest): The SHA256 you specified did not match the calculated checksum.");
  });

  it("another key than the signed one (another app's, another org's): 403 policy condition failed", async () => {
    const bytes = zipOf({ "a.txt": "k" });
    const { upload } = await issue(appId, "keyed", bytes);
    for (const key of [`acme/${appId}/sources/other.zip`, `acme/${"b".repeat(26)}/sources/keyed.zip`, `globex/${appId}/sources/keyed.zip`]) {
      const refusal = await refusalOf({ ...upload, fields: { ...upload.fields, key } }, bytes);
      await expectRefused(refusal, 403, "AccessDenied", `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "acme/${appId}/sources/keyed.zip"]`, "keyed");
    }
  });

  it("a checksum field left out or changed: 403 policy condition failed", async () => {
    const bytes = zipOf({ "a.txt": "c" });
    const { upload } = await issue(appId, "nosum", bytes);
    const { "x-amz-checksum-sha256": _dropped, ...without } = upload.fields;
    await expectRefused(await refusalOf({ ...upload, fields: without }, bytes), 403, "AccessDenied", /^Invalid according to Policy: Policy Condition failed: \["eq", "\$x-amz-checksum-sha256"/, "nosum");
    const forged = { ...upload.fields, "x-amz-checksum-sha256": createHash("sha256").update("other").digest("base64") };
    await expectRefused(await refusalOf({ ...upload, fields: forged }, bytes), 403, "AccessDenied", /Policy Condition failed/, "nosum");
  });

  it("a field the policy does not cover: 403 extra input fields", async () => {
    const bytes = zipOf({ "a.txt": "e" });
    const { upload } = await issue(appId, "extra", bytes);
    await expectRefused(await refusalOf({ ...upload, fields: { ...upload.fields, "x-amz-acl": "public-read" } }, bytes), 403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-acl", "extra");
  });

  it("a rewritten policy (longer expiry, any key, bigger cap): 403 SignatureDoesNotMatch", async () => {
    const bytes = zipOf({ "a.txt": "p" });
    const { upload } = await issue(appId, "forged", bytes);
    const policy = policyOf(upload);
    policy.expiration = new Date(Date.now() + 86_400_000).toISOString();
    policy.conditions = policy.conditions.map((c: unknown) => (Array.isArray(c) && c[0] === "content-length-range" ? ["content-length-range", 1, 10 ** 9] : c));
    const fields = { ...upload.fields, Policy: Buffer.from(JSON.stringify(policy)).toString("base64") };
    await expectRefused(await refusalOf({ ...upload, fields }, bytes), 403, "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.", "forged");
  });

  it("an unknown access key: 403 InvalidAccessKeyId; a credential for another region: 400", async () => {
    const bytes = zipOf({ "a.txt": "a" });
    const { upload } = await issue(appId, "akid", bytes);
    const [, ...scope] = upload.fields["X-Amz-Credential"]!.split("/");
    const unknown = { ...upload.fields, "X-Amz-Credential": ["AKIDNOTKNOWN", ...scope].join("/") };
    await expectRefused(await refusalOf({ ...upload, fields: unknown }, bytes), 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", "akid");
    const [akid, date] = upload.fields["X-Amz-Credential"]!.split("/");
    const region = { ...upload.fields, "X-Amz-Credential": [akid, date, "eu-west-1", "s3", "aws4_request"].join("/") };
    await expectRefused(await refusalOf({ ...upload, fields: region }, bytes), 400, "AuthorizationQueryParametersError", /the region 'eu-west-1' is wrong; expecting 'us-east-1'/, "akid");
  });

  it("no policy: 403 AccessDenied; another bucket: 404 NoSuchBucket; not multipart: 412", async () => {
    const bytes = zipOf({ "a.txt": "n" });
    const { upload } = await issue(appId, "bare", bytes);
    const { Policy: _policy, ...noPolicy } = upload.fields;
    await expectRefused(await refusalOf({ ...upload, fields: noPolicy }, bytes), 403, "AccessDenied", "Access Denied", "bare");
    await expectRefused(await refusalOf({ ...upload, url: `${api.offline.objectStoreUrl}/other-bucket` }, bytes), 404, "NoSuchBucket", "The specified bucket does not exist", "bare");
    const plain = await send(upload.url, { method: "POST", headers: { "content-type": "application/json" }, body: strToU8("{}") });
    expect(plain.status).toBe(412);
    expect(plain.text).toContain("<Code>PreconditionFailed</Code>");
    expect(plain.headers["content-type"]).toBe("application/xml");
  });

  it("an expired form: 403 policy expired", async () => {
    const bytes = zipOf({ "a.txt": "late" });
    const { upload } = await issue(appId, "late", bytes);
    await new Promise((r) => setTimeout(r, UPLOAD_SECONDS * 1000 + 200));
    await expectRefused(await refusalOf(upload, bytes), 403, "AccessDenied", "Invalid according to Policy: Policy expired.", "late");
  });
});

describe("the ObjectCreated notification handler", () => {
  const event = (key: string, size = 10) => ({
    Records: [{ eventTime: new Date().toISOString(), responseElements: { "x-amz-request-id": "REQ1" }, s3: { bucket: { name: "bulkhead-artifacts" }, object: { key, size } } }],
  });
  it("ignores artifacts, keys of no announced source and redeliveries; writes nothing for them", async () => {
    const { handler } = await import("../functions/src/jobs/source-uploaded.ts");
    const appId = await newApp(api, "acme");
    await putSource(api, "acme", appId, "v1");
    await waitForSourceStatus(appId, "v1", "uploaded");
    // The upload's audit records are sequenced in the background: the table is compared once they are.
    await auditSettled(api, "acme");
    const before = await api.dumpTable();
    const outcomes = [
      await handler(event(`acme/${appId}/01ARZ3NDEKTSV4RRFFQ69G5FAV/artifact.zip`) as never, lambdaContext("source-uploaded", "REQ1")),
      await handler(event(`acme/${appId}/sources/never.zip`) as never, lambdaContext("source-uploaded", "REQ1")),
      await handler(event(`acme/${appId}/sources/v1.zip`) as never, lambdaContext("source-uploaded", "REQ1")),
      await handler(event(`acme/${appId}/sources/..%2Fx.zip`) as never, lambdaContext("source-uploaded", "REQ1")),
      await handler(event("ORG%23acme/x/sources/v1.zip") as never, lambdaContext("source-uploaded", "REQ1")),
    ];
    expect(outcomes).toEqual(Array.from({ length: 5 }, () => ({ outcomes: ["ignored"] })));
    expect(await api.dumpTable()).toEqual(before);
  });
});

describe("sources and deployments", () => {
  it("an uploaded ZIP builds and deploys; another org's source of the same ref cannot be named", async () => {
    const globexApp = await newApp(api, "globex");
    await putSource(api, "globex", globexApp, "shared", { "index.html": "globex" });
    const appId = await newApp(api, "acme", { command: "test -f lib/app.js && cat index.html" });
    const refused = await startDeployment(api, "acme", appId, { source: { ref: "shared" } });
    expect(refused.status, refused.text).toBe(400);
    // The other org's app id on acme's host is not an app of acme.
    const foreign = await startDeployment(api, "acme", globexApp, { source: { ref: "shared" } });
    expect(foreign.status).toBe(404);

    await putSource(api, "acme", appId, "shared", { "index.html": "acme-own", "lib/app.js": "export {};\n" });
    const started = await startDeployment(api, "acme", appId, { source: { ref: "shared" } });
    expect(started.status, started.text).toBe(202);
    const done = await waitForStatus(api, "acme", appId, started.json.id, ["SUCCEEDED", "FAILED"]);
    expect(done.status, done.failureReason).toBe("SUCCEEDED");
    expect(done.buildLog.excerpt).toContain("acme-own");
    expect(done.buildLog.excerpt).not.toContain("globex");
  });
});
