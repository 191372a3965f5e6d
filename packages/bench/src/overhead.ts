import { createPublicKey, verify as rawVerify } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { JwtVerifier } from "aws-jwt-verify";
import { linkEnvironment } from "@bulkhead/core/config";
import { keys } from "@bulkhead/core/data/keys";
import { chargeRequest } from "@bulkhead/core/http/rate-limit";
import { LOCAL_AWS_ENV } from "@bulkhead/local/dynamodb";
import { DEV_ISSUER, loadDevIssuer } from "@bulkhead/local/issuer";
import { round, summarize, timeEach } from "./stats.ts";

/** Enough calls for V8 to optimise the stack: 300 left first-seen figures ~25 µs higher. */
const WARMUP = 2000;
const SAMPLES = 2000;

function event(token: string): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "GET /v1/apps",
    rawPath: "/v1/apps",
    rawQueryString: "",
    headers: { host: "acme.localhost", authorization: `Bearer ${token}`, "user-agent": "bench" },
    isBase64Encoded: false,
    requestContext: {
      accountId: "bench", apiId: "bench", domainName: "acme.localhost", domainPrefix: "acme",
      http: { method: "GET", path: "/v1/apps", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: "bench", routeKey: "GET /v1/apps", stage: "$default", time: "", timeEpoch: 0,
    },
  };
}

const context = { awsRequestId: "bench", functionName: "bench", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

/**
 * Bench 1: the whole middleware stack of `GET /v1/apps` with DynamoDB answered in memory, beside
 * two floors on the same tokens: aws-jwt-verify's own verifySync and raw node:crypto RS256.
 */
export async function requestOverhead() {
  const issuer = loadDevIssuer(mkdtempSync(join(tmpdir(), "bulkhead-bench-")));
  const jwks = createServer((_req, res) => res.end(JSON.stringify(issuer.jwks)));
  await new Promise<void>((ready) => jwks.listen(0, "127.0.0.1", ready));
  const jwksUri = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;
  Object.assign(process.env, LOCAL_AWS_ENV, linkEnvironment({
    tableName: "bench", baseDomain: "localhost", auth: { ...DEV_ISSUER, jwksUri }, cursorKey: "bench-cursor-key",
    deployerRoleArn: "arn:aws:iam::000000000000:role/bench-deployer",
  }));

  const now = new Date().toISOString();
  // The data layer answers from memory at the document client, so only the stack is measured
  // (a mocking library's call matching would cost more than the stack itself).
  const answers = new Map<Function, object>([
    [GetCommand, { Item: { ...keys.orgRecord("acme"), slug: "acme", name: "Acme", status: "active", createdAt: now, updatedAt: now } }],
    [QueryCommand, { Items: [1, 2, 3].map((i) => ({ id: `app${i}`.padEnd(26, "a"), name: `app ${i}`, createdAt: now, updatedAt: now })) }],
    // A request-rate draw (limits/rate.ts) that the bucket grants: its cost is the stack's, not DynamoDB's.
    [UpdateCommand, { Attributes: { tat: 0 } }],
  ]);
  const sent = new Map<string, number>();
  const realSend = DynamoDBDocumentClient.prototype.send;
  DynamoDBDocumentClient.prototype.send = async function (command: object) {
    sent.set(command.constructor.name, (sent.get(command.constructor.name) ?? 0) + 1);
    const answer = answers.get(command.constructor);
    if (!answer) throw new Error(`bench: no in-memory answer for ${command.constructor.name}`);
    return answer;
  } as never;

  const { handler } = await import("../../../functions/src/apps/list.ts");
  const claims = { sub: "bench", org: "acme", role: "viewer" };
  const tokens = Array.from({ length: WARMUP + SAMPLES }, (_, i) => issuer.mint({ ...claims, jti: `t${i}` }));
  const repeated = tokens[0]!;

  const call = async (token: string) => {
    const result = await handler(event(token), context);
    if (result.statusCode !== 200) throw new Error(`bench request failed: ${result.statusCode} ${result.body}`);
  };
  const verifier = JwtVerifier.create({ issuer: DEV_ISSUER.issuer, audience: DEV_ISSUER.audience, jwksUri });
  verifier.cacheJwks(issuer.jwks as never);
  const publicKey = createPublicKey(issuer.privateKey);
  const rawVerifyOne = (token: string) => {
    const dot = token.lastIndexOf(".");
    if (!rawVerify("RSA-SHA256", Buffer.from(token.slice(0, dot)), publicKey, Buffer.from(token.slice(dot + 1), "base64url"))) {
      throw new Error("raw verify failed");
    }
  };
  const time = async (fn: () => unknown) => {
    const start = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - start) / 1000;
  };

  for (let i = 0; i < WARMUP; i++) {
    await call(tokens[i]!);
    verifier.verifySync(tokens[i]!);
    rawVerifyOne(tokens[i]!);
  }
  // In context: each sample runs the stack, then each floor, on the same token, so all three
  // meet the same caches and JIT state that a request meets between other work.
  const stackSamples: number[] = [];
  const librarySamples: number[] = [];
  const rawSamples: number[] = [];
  for (let i = WARMUP; i < WARMUP + SAMPLES; i++) {
    stackSamples.push(await time(() => call(tokens[i]!)));
    librarySamples.push(await time(() => verifier.verifySync(tokens[i]!)));
    rawSamples.push(await time(() => rawVerifyOne(tokens[i]!)));
  }
  const firstSeen = summarize(stackSamples);
  sent.clear();
  const repeatedToken = summarize(await timeEach(SAMPLES, () => call(repeated)));
  // What the request-rate limit adds: its charge alone, and its DynamoDB draws per request above.
  const rateDrawsPerRequest = round((sent.get(UpdateCommand.name) ?? 0) / SAMPLES);
  const org = { slug: "acme", name: "Acme", status: "active" as const, createdAt: now, updatedAt: now };
  const principal = { kind: "member" as const, sub: "bench", org: "acme", role: "viewer" as const };
  const rateLimitCharge = summarize(await timeEach(SAMPLES, () => chargeRequest(org, principal)));
  // In a tight loop: each floor's best case, which no request meets; the goals are read against these.
  const libraryFloor = summarize(await timeEach(SAMPLES, (i) => verifier.verifySync(tokens[WARMUP + i]!)));
  const rawFloor = summarize(await timeEach(SAMPLES, (i) => rawVerifyOne(tokens[WARMUP + i]!)));
  const libraryInContext = summarize(librarySamples);
  const rawInContext = summarize(rawSamples);

  DynamoDBDocumentClient.prototype.send = realSend;
  jwks.close();
  return {
    unit: "µs per request",
    firstSeenToken: firstSeen,
    repeatedToken,
    awsJwtVerifyFloor: libraryFloor,
    rawCryptoFloor: rawFloor,
    inContext: { awsJwtVerify: libraryInContext, rawCrypto: rawInContext },
    rateLimit: { charge: rateLimitCharge, drawsPerRequest: rateDrawsPerRequest },
    ratios: {
      firstSeenVsAwsJwtVerify: round(firstSeen.median / libraryFloor.median),
      repeatedVsRawCrypto: round(repeatedToken.median / rawFloor.median),
      inContext: {
        firstSeenVsAwsJwtVerify: round(firstSeen.median / libraryInContext.median),
        repeatedVsRawCrypto: round(repeatedToken.median / rawInContext.median),
      },
    },
    goals: { firstSeenVsAwsJwtVerify: 1.25, repeatedVsRawCrypto: 0.5 },
  };
}
