import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListHostedZonesByNameCommand, Route53Client, type HostedZone } from "@aws-sdk/client-route-53";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { suggestedStageName } from "../packages/core/src/stage-settings.ts";
import { preflight, report, stageEnvironment, type CommandResult, type PreflightDeps } from "../packages/local/src/preflight/checks.ts";

/**
 * `npm run preflight` against recorded answers: STS and Route 53 through aws-sdk-client-mock, SST's
 * secret listing through the injected command runner, the identity provider through an injected
 * fetch that serves recorded documents. Each check has a passing and a failing case.
 */
const STAGE = "dev-me";
const ACCOUNT = "123456789012";
const ISSUER = "https://id.example.com/";
const JWKS_URI = "https://id.example.com/.well-known/jwks.json";
const ENV = {
  BULKHEAD_BASE_DOMAIN: "example.com",
  BULKHEAD_AUTH_ISSUER: ISSUER,
  BULKHEAD_AUTH_AUDIENCE: "bulkhead-api",
  BULKHEAD_AUTH_JWKS_URI: JWKS_URI,
  BULKHEAD_CONSOLE_CLIENT_ID: "bulkhead-console",
  BULKHEAD_AUTH_AUTHORIZATION_ENDPOINT: "https://id.example.com/authorize",
  BULKHEAD_AUTH_TOKEN_ENDPOINT: "https://id.example.com/oauth/token",
};
const CURSOR_KEY = "k7Qm2vR9xLp4Ws8Nz1Bc6Hd3Jf5Tg0YaUe+oIiOq/Ps=";
const EXTERNAL_ID = "3f9c2a7e1b4d8f60a5c3e9b2d7f1a4c8e6b0d3f5a9c2e7b1";

const sts = mockClient(STSClient);
const route53 = mockClient(Route53Client);

const publicZone = (id: string, name = "example.com."): HostedZone =>
  ({ Id: `/hostedzone/${id}`, Name: name, CallerReference: `ref-${id}`, Config: { PrivateZone: false }, ResourceRecordSetCount: 4 });
const privateZone = (id: string): HostedZone => ({ ...publicZone(id), Config: { PrivateZone: true } });

/** The shape SST prints: one `Name=value` line per secret of the stage (a dotenv file). */
const secretList = (secrets: Record<string, string>): CommandResult =>
  ({ exitCode: 0, stdout: Object.entries(secrets).map(([name, value]) => `${name}=${value}`).join("\n") + "\n", stderr: "" });

function signingKey(kid: string) {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
}

/** A discovery document as identity providers publish it (OpenID Connect Discovery 1.0). */
const discoveryDocument = (overrides: Record<string, unknown> = {}) => ({
  issuer: ISSUER,
  authorization_endpoint: "https://id.example.com/authorize",
  token_endpoint: "https://id.example.com/oauth/token",
  jwks_uri: JWKS_URI,
  response_types_supported: ["code"],
  subject_types_supported: ["public"],
  id_token_signing_alg_values_supported: ["RS256"],
  ...overrides,
});

/**
 * Route 53's answers to ListHostedZonesByName, by DNSName: the account's zones from that name on,
 * in Route 53's order (by reversed labels: `com.example.api` comes before `com.example.shop`).
 */
function recordZones(answers: Record<string, HostedZone[]>) {
  route53.on(ListHostedZonesByNameCommand).resolves({ HostedZones: [], IsTruncated: false, MaxItems: 100 });
  for (const [name, zones] of Object.entries(answers)) {
    route53.on(ListHostedZonesByNameCommand, { DNSName: name }).resolves({ HostedZones: zones, DNSName: name, IsTruncated: false, MaxItems: 100 });
  }
}

type Recorded = { secrets: Record<string, CommandResult>; documents: Record<string, { status: number; body: unknown }> };
let recorded: Recorded;
let commands: string[][];
let fetched: string[];

function deps(env: Record<string, string | undefined> = ENV): PreflightDeps {
  return {
    env,
    run: async (command, args) => {
      commands.push([command, ...args]);
      const answer = recorded.secrets[args.join(" ")];
      if (!answer) throw new Error(`no recorded answer for ${command} ${args.join(" ")}`);
      return answer;
    },
    fetch: async (input) => {
      const url = String(input);
      fetched.push(url);
      const document = recorded.documents[url];
      if (!document) throw new TypeError(`fetch failed: getaddrinfo ENOTFOUND ${new URL(url).host}`);
      return new Response(JSON.stringify(document.body), { status: document.status, headers: { "content-type": "application/json" } });
    },
    sts: new STSClient({ region: "eu-central-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example" } }),
    route53: new Route53Client({ region: "us-east-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example" } }),
  };
}

beforeEach(() => {
  sts.reset();
  route53.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/session`, UserId: "AROAEXAMPLE:session" });
  recordZones({ "api.example.com": [publicZone("ZSHOP", "shop.example.com.")], "example.com": [publicZone("Z0123456789ABC"), publicZone("ZSHOP", "shop.example.com.")] });
  recorded = {
    secrets: { [`sst secret list --stage ${STAGE}`]: secretList({ CursorKey: CURSOR_KEY, HostedTargetExternalId: EXTERNAL_ID }) },
    documents: {
      "https://id.example.com/.well-known/openid-configuration": { status: 200, body: discoveryDocument() },
      [JWKS_URI]: { status: 200, body: { keys: [signingKey("key-2026-11")] } },
    },
  };
  commands = [];
  fetched = [];
});

const byCheck = async (stage = STAGE, env?: Record<string, string | undefined>) =>
  Object.fromEntries((await preflight(stage, deps(env))).map((r) => [r.check, r]));

describe("npm run preflight", () => {
  it("passes every check of a ready stage, asking each service exactly what it needs", async () => {
    const results = await preflight(STAGE, deps());
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["AWS credentials", "pass"],
      ["stage name", "pass"],
      ["secret CursorKey", "pass"],
      ["secret HostedTargetExternalId", "pass"],
      ["environment", "pass"],
      ["hosted zone", "pass"],
      ["identity provider issuer", "pass"],
      ["identity provider keys", "pass"],
    ]);
    expect(commands).toEqual([["npx", "sst", "secret", "list", "--stage", STAGE]]);
    expect(sts).toHaveReceivedCommandExactlyOnceWith(GetCallerIdentityCommand, {});
    expect(route53.commandCalls(ListHostedZonesByNameCommand).map((call) => call.args[0].input)).toEqual([
      { DNSName: "api.example.com", MaxItems: 100 },
      { DNSName: "example.com", MaxItems: 100 },
    ]);
    expect(fetched).toEqual(["https://id.example.com/.well-known/openid-configuration", JWKS_URI]);
    const printed = report(STAGE, results);
    expect(printed).toMatch(/All 8 checks pass/);
    expect(printed).toContain("Z0123456789ABC (example.com, public) holds api.example.com");
    // SST's listing holds the values; the report never does.
    expect(printed).not.toContain(CURSOR_KEY);
    expect(printed).not.toContain(EXTERNAL_ID);
  });

  it("fails without working credentials, and says how to configure them", async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error("The security token included in the request is expired"), { name: "ExpiredTokenException" }));
    const { "AWS credentials": result } = await byCheck();
    expect(result).toMatchObject({ status: "fail", detail: "The security token included in the request is expired" });
    expect(result!.fix).toMatch(/aws configure|AWS_PROFILE/);
  });

  it("fails a stage name the platform cannot use, suggests one, and lists no secrets for it", async () => {
    const { "stage name": result, secrets } = await byCheck("Jo.Doe");
    expect(result).toMatchObject({ status: "fail" });
    expect(result!.detail).toMatch(/stage must match \/\^\[a-z\]\[a-z0-9-\]\{0,19\}\$\//);
    expect(result!.fix).toContain("--stage jo-doe");
    expect(secrets).toMatchObject({ status: "skip" });
    expect(commands).toEqual([]);
    // A name within the rule whose resource names still do not fit the account and region.
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
    const long = await preflight("abcdefghijklmnopqrst", { ...deps(), sts: new STSClient({ region: "ap-southeast-3", credentials: { accessKeyId: "A", secretAccessKey: "B" } }) });
    expect(long.find((r) => r.check === "stage name")!.detail).toMatch(/bucket name .* longer than 63/);
  });

  it("suggests only stage names the platform accepts", () => {
    for (const name of ["Jo.Doe", "app", "deploy", "123", "ä", "a-very-long-user-name-from-a-directory", "---", "ROOT"]) {
      const suggested = suggestedStageName(name);
      expect(suggested, name).toMatch(/^[a-z][a-z0-9-]{0,19}$/);
      expect(["app", "deploy"], name).not.toContain(suggested);
    }
    expect(suggestedStageName("Jo.Doe")).toBe("jo-doe");
  });

  it("fails each secret that is missing or too short, with the exact command that sets it", async () => {
    recorded.secrets[`sst secret list --stage ${STAGE}`] = secretList({ CursorKey: "short" });
    recorded.secrets["sst secret list --fallback"] = secretList({});
    const results = await byCheck();
    expect(results["secret CursorKey"]).toMatchObject({ status: "fail", detail: "shorter than 32 characters", fix: `npx sst secret set CursorKey "$(openssl rand -base64 32)" --stage ${STAGE}` });
    expect(results["secret HostedTargetExternalId"]).toMatchObject({ status: "fail", fix: `npx sst secret set HostedTargetExternalId "$(openssl rand -hex 24)" --stage ${STAGE}` });
    expect(results["secret HostedTargetExternalId"]!.detail).toMatch(/not set for stage dev-me/);
    expect(commands).toEqual([["npx", "sst", "secret", "list", "--stage", STAGE], ["npx", "sst", "secret", "list", "--fallback"]]);
  });

  it("accepts a secret set by its fallback value", async () => {
    recorded.secrets[`sst secret list --stage ${STAGE}`] = secretList({ CursorKey: CURSOR_KEY });
    recorded.secrets["sst secret list --fallback"] = secretList({ HostedTargetExternalId: EXTERNAL_ID });
    const results = await byCheck();
    expect(results["secret HostedTargetExternalId"]).toMatchObject({ status: "pass", detail: "set by its fallback value" });
  });

  it("fails when SST cannot list the stage's secrets, and says to install SST first", async () => {
    recorded.secrets[`sst secret list --stage ${STAGE}`] = { exitCode: 1, stdout: "", stderr: "✕ Unexpected error occurred\n  Error: could not find sst platform, run sst install\n" };
    const { secrets } = await byCheck();
    expect(secrets).toMatchObject({ status: "fail", detail: "npx sst secret list --stage dev-me failed: Error: could not find sst platform, run sst install" });
    expect(secrets!.fix).toMatch(/npx sst install/);
  });

  it("fails the environment for each missing or malformed variable", async () => {
    const { environment } = await byCheck(STAGE, { ...ENV, BULKHEAD_AUTH_AUDIENCE: undefined, BULKHEAD_AUTH_JWKS_URI: "http://id.example.com/jwks", BULKHEAD_THROTTLE_RATE: "fast", BULKHEAD_SOURCE_MAX_BYTES: String(6 * 1024 ** 3) });
    expect(environment).toMatchObject({ status: "fail" });
    expect(environment!.detail.split("; ")).toEqual([
      "BULKHEAD_AUTH_AUDIENCE is not set (see infra/README.md)",
      'BULKHEAD_AUTH_JWKS_URI must be an https URL, got "http://id.example.com/jwks"',
      'BULKHEAD_THROTTLE_RATE must be a positive integer, got "fast"',
      `BULKHEAD_SOURCE_MAX_BYTES may be at most 5 GiB (S3's limit for a POST upload), got "${6 * 1024 ** 3}"`,
    ]);
    expect(environment!.fix).toContain(".env.dev-me");
  });

  describe("the hosted zone", () => {
    it("passes with the nearest public zone holding api.<base domain>, asking from the most specific name up", async () => {
      recordZones({ "dev-me.example.com": [publicZone("ZDEVME", "dev-me.example.com.")], "example.com": [publicZone("Z0123456789ABC")] });
      const result = (await byCheck(STAGE, { ...ENV, BULKHEAD_BASE_DOMAIN: "dev-me.example.com" }))["hosted zone"];
      expect(result).toMatchObject({ status: "pass", detail: "ZDEVME (dev-me.example.com, public) holds api.dev-me.example.com" });
      expect(route53.commandCalls(ListHostedZonesByNameCommand).map((call) => call.args[0].input.DNSName)).toEqual(["api.dev-me.example.com", "dev-me.example.com"]);
    });

    it("fails without a public zone holding the domain (other names, or private zones only, do not count)", async () => {
      recordZones({ "api.example.com": [publicZone("ZSHOP", "shop.example.com.")], "example.com": [publicZone("ZOTHER", "examples.com.")] });
      expect((await byCheck())["hosted zone"]).toMatchObject({ status: "fail", detail: "no public hosted zone in this account holds api.example.com", fix: expect.stringMatching(/create a public hosted zone for example.com/) });
      recordZones({ "example.com": [privateZone("ZPRIVATE")] });
      expect((await byCheck())["hosted zone"]).toMatchObject({ status: "fail", detail: "no public hosted zone in this account holds api.example.com (only private ones: example.com)" });
    });

    it("fails when several public zones match and none is chosen, and passes with BULKHEAD_HOSTED_ZONE_ID", async () => {
      recordZones({ "example.com": [publicZone("ZONE1"), publicZone("ZONE2")] });
      expect((await byCheck())["hosted zone"]).toMatchObject({ status: "fail", detail: "2 public zones are named example.com", fix: "set BULKHEAD_HOSTED_ZONE_ID to the delegated one of: ZONE1, ZONE2" });
      expect((await byCheck(STAGE, { ...ENV, BULKHEAD_HOSTED_ZONE_ID: "ZONE2" }))["hosted zone"]).toMatchObject({ status: "pass", detail: "ZONE2 (example.com, public) holds api.example.com, from BULKHEAD_HOSTED_ZONE_ID" });
      expect((await byCheck(STAGE, { ...ENV, BULKHEAD_HOSTED_ZONE_ID: "ZONE3" }))["hosted zone"]).toMatchObject({ status: "fail", fix: "set BULKHEAD_HOSTED_ZONE_ID to one of: ZONE1 (example.com), ZONE2 (example.com)" });
    });

    it("fails when Route 53 refuses the listing", async () => {
      route53.on(ListHostedZonesByNameCommand).rejects(Object.assign(new Error("User is not authorized to perform: route53:ListHostedZonesByName"), { name: "AccessDenied" }));
      expect((await byCheck())["hosted zone"]).toMatchObject({ status: "fail", fix: expect.stringMatching(/route53:ListHostedZonesByName/) });
    });
  });

  describe("the identity provider", () => {
    it("fails an issuer whose discovery document names another issuer (a trailing slash counts)", async () => {
      recorded.documents["https://id.example.com/.well-known/openid-configuration"] = { status: 200, body: discoveryDocument({ issuer: "https://id.example.com" }) };
      const result = (await byCheck())["identity provider issuer"];
      expect(result).toMatchObject({ status: "fail", fix: "set BULKHEAD_AUTH_ISSUER to exactly https://id.example.com (trailing slash included)" });
    });

    it("fails a JWKS location other than the provider's, or not https", async () => {
      recorded.documents["https://id.example.com/.well-known/openid-configuration"] = { status: 200, body: discoveryDocument({ jwks_uri: "https://id.example.com/keys" }) };
      expect((await byCheck())["identity provider issuer"]).toMatchObject({ status: "fail", fix: "set BULKHEAD_AUTH_JWKS_URI to https://id.example.com/keys" });
      recorded.documents["https://id.example.com/.well-known/openid-configuration"] = { status: 200, body: discoveryDocument({ jwks_uri: "http://id.example.com/keys" }) };
      expect((await byCheck())["identity provider issuer"]).toMatchObject({ status: "fail", detail: 'its jwks_uri "http://id.example.com/keys" is not https' });
    });

    it("fails an issuer that serves no discovery document", async () => {
      recorded.documents["https://id.example.com/.well-known/openid-configuration"] = { status: 404, body: { error: "not found" } };
      expect((await byCheck())["identity provider issuer"]).toMatchObject({ status: "fail", detail: "GET https://id.example.com/.well-known/openid-configuration answered 404" });
      const unreachable = await byCheck(STAGE, { ...ENV, BULKHEAD_AUTH_ISSUER: "https://nowhere.example.com/" });
      expect(unreachable["identity provider issuer"]!.detail).toMatch(/ENOTFOUND nowhere.example.com/);
    });

    it("fails a JWKS without an RS256 signing key", async () => {
      const rsa = signingKey("enc-key");
      recorded.documents[JWKS_URI] = { status: 200, body: { keys: [{ kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid: "ec", alg: "ES256" }, { ...rsa, use: "enc", alg: "RSA-OAEP" }] } };
      const result = (await byCheck())["identity provider keys"];
      expect(result).toMatchObject({ status: "fail", detail: "no RSA signing key for RS256 with a kid among 2 key(s)" });
      recorded.documents[JWKS_URI] = { status: 500, body: {} };
      expect((await byCheck())["identity provider keys"]).toMatchObject({ status: "fail", detail: `GET ${JWKS_URI} answered 500` });
    });
  });
});

describe("the stage's environment", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "bulkhead-preflight-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("reads .env, then .env.<stage> over it, then the shell over both, as SST does", () => {
    writeFileSync(join(root, ".env"), "BULKHEAD_BASE_DOMAIN=example.org\nBULKHEAD_AUTH_AUDIENCE=from-env\n");
    writeFileSync(join(root, `.env.${STAGE}`), "BULKHEAD_BASE_DOMAIN=example.com\n");
    const env = stageEnvironment(root, STAGE, { BULKHEAD_AUTH_AUDIENCE: "from-shell" });
    expect(env).toMatchObject({ BULKHEAD_BASE_DOMAIN: "example.com", BULKHEAD_AUTH_AUDIENCE: "from-shell" });
    expect(stageEnvironment(root, "production", {})).toEqual({ BULKHEAD_BASE_DOMAIN: "example.org", BULKHEAD_AUTH_AUDIENCE: "from-env" });
  });
});
