import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestApi, type TestApi } from "./support/api.ts";
import { byoiTarget } from "./support/samples.ts";

/**
 * The ExternalId and enrollment tokens are returned once and must never reach a log line, even
 * at DEBUG, while every enrollment refusal is logged with its reason. Handlers run in this
 * process (behind the local gateway), so their log lines are captured here.
 */
// Before any module (and so the logger) is loaded: this file logs everything.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
});

let api: TestApi;
const lines: string[] = [];
let restore: () => void;

beforeAll(async () => {
  api = await startTestApi();
  // The logger writes INFO to stdout and WARN/ERROR to stderr.
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0) as typeof stream.write;
  }
  restore = () => streams.forEach((stream, i) => (stream.write = writes[i]!));
});
afterAll(async () => {
  restore?.();
  await api?.stop();
});

describe("logs", () => {
  it("carry every enrollment refusal with its reason, and no secret", async () => {
    const host = api.orgHost("acme");
    const admin = api.tokens.member("acme", "admin");
    const operator = api.tokens.platform("operator");
    const target = (await api.call(host, "POST", "/v1/targets", { token: admin, body: byoiTarget("acme", "logged") })).json;
    const token = (await api.call(host, "POST", "/v1/enrollments", { token: admin, body: { targetId: target.id } })).json.token;
    const globexToken = (await api.call(api.orgHost("globex"), "POST", "/v1/enrollments", { token: api.tokens.member("globex", "admin"), body: {} })).json.token;
    const enroll = (t: string, on = host) => api.call(on, "POST", "/v1/enroll", { headers: { authorization: `Enrollment ${t}` }, body: { name: "edge" } });

    expect((await enroll(token)).status).toBe(201);
    expect((await enroll(token)).status).toBe(401);
    expect((await enroll(globexToken)).status).toBe(401);
    expect((await enroll("garbage")).status).toBe(401);
    const grant = await api.call(host, "POST", "/v1/grants", { token: operator, body: { phase: "Deploy", targetId: target.id, reason: "r", durationSeconds: 600 } });
    expect((await api.call(host, "POST", "/v1/apps", { token: operator, body: { name: "x" } })).status).toBe(403);
    await api.call(host, "POST", `/v1/grants/${grant.json.id}/approve`, { token: admin });

    const log = lines.join("");
    const records = log.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    const refusals = records.filter((r) => r.message === "enrollment refused").map((r) => r.reason);
    expect(refusals).toEqual([
      "replayed: token already used",
      "unknown token (not issued by this org, or purged)",
      "missing or malformed enrollment token",
    ]);
    expect(records.some((r) => r.message === "request refused" && /active Install grant/.test(r.reason))).toBe(true);

    for (const secret of [token, token.slice(4), globexToken.slice(4), target.externalId, admin, operator]) {
      expect(log).not.toContain(secret);
    }
  });
});
