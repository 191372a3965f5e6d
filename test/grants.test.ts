import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { BulkheadError } from "../packages/core/src/errors.ts";
import { decide as decideGrant, listGrants, requestGrant } from "../packages/core/src/grants/grants.ts";
import { toProblem } from "../packages/core/src/http/problem-response.ts";
import { startTestApi, type Reply, type TestApi } from "./support/api.ts";
import { newTarget, systemAudit } from "./support/samples.ts";

let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const host = () => api.orgHost("acme");
const owner = () => api.tokens.member("acme", "owner", "olivia");
const admin = () => api.tokens.member("acme", "admin", "adam");
const operator = (sub = "ops-1") => api.tokens.platform("operator", sub);

async function request(body: Record<string, unknown> = {}, token = operator()) {
  const targetId = body.targetId ?? (await newTarget(api, "acme"));
  return api.call(host(), "POST", "/v1/grants", {
    token, body: { phase: "Deploy", targetId, reason: "ship release 42", durationSeconds: 3600, ...body },
  });
}
const decide = (id: string, verb: "approve" | "deny" | "revoke", token = owner()) =>
  api.call(host(), "POST", `/v1/grants/${id}/${verb}`, { token });

function expectRefused(reply: Reply, status: number, detail?: RegExp) {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  if (detail) expect(reply.json.detail).toMatch(detail);
}

const listed = async (id: string) =>
  ((await api.call(host(), "GET", "/v1/grants?limit=100", { token: api.tokens.member("acme", "viewer") })).json.items as any[])
    .find((grant) => grant.id === id);

describe("an elevated grant's life over HTTP", () => {
  it("is requested by an operator, approved by an admin, then revoked at once", async () => {
    const requested = await request();
    expect(requested.status, requested.text).toBe(201);
    expect(requested.json).toMatchObject({ phase: "Deploy", state: "PENDING", requestedBy: "ops-1", durationSeconds: 3600 });
    expect((await listed(requested.json.id)).state).toBe("PENDING");

    const approved = await decide(requested.json.id, "approve", admin());
    expect(approved.status, approved.text).toBe(200);
    expect(approved.json).toMatchObject({ state: "ACTIVE", approvedBy: "adam" });
    const window = Date.parse(approved.json.notAfter) - Date.parse(approved.json.notBefore);
    expect(window).toBe(3600 * 1000);
    expect((await listed(requested.json.id)).state).toBe("ACTIVE");

    const revoked = await decide(requested.json.id, "revoke");
    expect(revoked.json).toMatchObject({ state: "REVOKED", revokedBy: "olivia" });
    expect((await listed(requested.json.id)).state).toBe("REVOKED");
  });

  it("is denied", async () => {
    const { json } = await request();
    const denied = await decide(json.id, "deny", admin());
    expect(denied.json).toMatchObject({ state: "DENIED", deniedBy: "adam" });
    expect((await listed(json.id)).state).toBe("DENIED");
  });

  it("lives in the org's partition, its decisions mirrored on the phase-and-target access item", async () => {
    const { json } = await request();
    await decide(json.id, "approve");
    const items = await api.partition("ORG#acme");
    const grant = items.find((item) => item.SK === `GRANT#${json.id}`)!;
    const access = items.find((item) => item.SK === `ACCESS#Deploy#${json.targetId}`)!;
    expect(access).toMatchObject({ grantId: json.id, approvedAt: grant.approvedAt, notBefore: grant.notBefore, notAfter: grant.notAfter });
    expect(grant).not.toHaveProperty("state");
  });
});

describe("refused transitions", () => {
  it("approve twice, deny after approval, revoke twice", async () => {
    const { json } = await request();
    expect((await decide(json.id, "approve")).status).toBe(200);
    expectRefused(await decide(json.id, "approve", admin()), 409, /ACTIVE/);
    expectRefused(await decide(json.id, "deny"), 409, /ACTIVE/);
    expect((await decide(json.id, "revoke")).status).toBe(200);
    expectRefused(await decide(json.id, "revoke"), 409, /REVOKED/);
    expectRefused(await decide(json.id, "approve"), 409, /REVOKED/);
    expect((await listed(json.id)).state).toBe("REVOKED");
  });

  it("approve or revoke a denied grant; revoke a pending one", async () => {
    const pending = (await request()).json;
    expectRefused(await decide(pending.id, "revoke"), 409, /PENDING: deny it/);
    expect((await decide(pending.id, "deny")).status).toBe(200);
    expectRefused(await decide(pending.id, "approve"), 409, /DENIED/);
    expectRefused(await decide(pending.id, "revoke"), 409, /DENIED/);
    expectRefused(await decide(pending.id, "deny"), 409, /DENIED/);
  });

  it("a member below admin decides nothing", async () => {
    const { json } = await request();
    for (const role of ["viewer", "developer"] as const) {
      for (const verb of ["approve", "deny", "revoke"] as const) {
        expectRefused(await decide(json.id, verb, api.tokens.member("acme", role)), 403);
      }
    }
    expect((await listed(json.id)).state).toBe("PENDING");
  });

  it("the requester never approves its own request: not with its platform token, not as an org member", async () => {
    const { json } = await request({}, operator("dual-hat"));
    for (const role of ["operator", "platform-admin"] as const) {
      expectRefused(await decide(json.id, "approve", api.tokens.platform(role, "dual-hat")), 403);
    }
    expectRefused(await decide(json.id, "approve", api.tokens.member("acme", "owner", "dual-hat")), 403, /requested it/);
    expect((await listed(json.id)).state).toBe("PENDING");
    expect((await decide(json.id, "approve", admin())).status).toBe(200);
  });

  it("another org's owner cannot decide on this org's grant, nor see it", async () => {
    const { json } = await request();
    const globexOwner = api.tokens.member("globex", "owner");
    expectRefused(await api.call(host(), "POST", `/v1/grants/${json.id}/approve`, { token: globexOwner }), 403);
    // On its own host, globex's partition has no such grant.
    expectRefused(await api.call(api.orgHost("globex"), "POST", `/v1/grants/${json.id}/approve`, { token: globexOwner }), 404);
    const globexList = await api.call(api.orgHost("globex"), "GET", "/v1/grants", { token: globexOwner });
    expect(globexList.text).not.toContain(json.id);
  });

  it("one open grant per phase and target; a closed one makes room", async () => {
    const first = (await request()).json;
    expectRefused(await request({ targetId: first.targetId }), 409, new RegExp(first.id));
    expect((await request({ targetId: first.targetId, phase: "Operate" })).status).toBe(201);
    expect((await decide(first.id, "approve")).status).toBe(200);
    expectRefused(await request({ targetId: first.targetId }), 409, /ACTIVE/);
    expect((await decide(first.id, "revoke")).status).toBe(200);
    expect((await request({ targetId: first.targetId })).status).toBe(201);
  });

  it("unknown grants and targets, including another org's target", async () => {
    expectRefused(await decide("a".repeat(26), "approve"), 404);
    expectRefused(await request({ targetId: "b".repeat(26) }), 404, /target/);
    const globexTarget = await newTarget(api, "globex");
    expectRefused(await request({ targetId: globexTarget }), 404, /target/);
  });
});

describe("concurrent decisions: conditional writes let exactly one win", () => {
  const statuses = (replies: Reply[]) => replies.map((r) => r.status).sort();

  it("eight admins approving at once", async () => {
    const admins = Array.from({ length: 8 }, (_, i) => api.tokens.member("acme", "admin", `admin-${i}`));
    for (let round = 0; round < 5; round++) {
      const { json } = await request();
      const replies = await Promise.all(admins.map((token) => decide(json.id, "approve", token)));
      expect(statuses(replies)).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
      const winner = replies.find((r) => r.status === 200)!;
      expect((await listed(json.id)).approvedBy).toBe(winner.json.approvedBy);
    }
  });

  it("approve against deny", async () => {
    for (let round = 0; round < 5; round++) {
      const { json } = await request();
      const replies = await Promise.all([decide(json.id, "approve"), decide(json.id, "deny", admin())]);
      expect(statuses(replies)).toEqual([200, 409]);
      const state = (await listed(json.id)).state;
      expect(state).toBe(replies[0]!.status === 200 ? "ACTIVE" : "DENIED");
    }
  });

  it("eight revocations at once", async () => {
    const { json } = await request();
    await decide(json.id, "approve");
    const replies = await Promise.all(Array.from({ length: 8 }, () => decide(json.id, "revoke")));
    expect(statuses(replies)).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
  });
});

describe("the standing Observe grant", () => {
  it("is ACTIVE by default, revoked and restored by an admin, never denied or requested", async () => {
    const list = async () => listed("observe");
    expect(await list()).toMatchObject({ id: "observe", phase: "Observe", state: "ACTIVE" });
    expectRefused(await decide("observe", "approve"), 409, /already ACTIVE/);
    expectRefused(await decide("observe", "deny"), 409);
    expectRefused(await decide("observe", "revoke", api.tokens.member("acme", "developer")), 403);

    expect((await decide("observe", "revoke", admin())).json).toMatchObject({ state: "REVOKED", revokedBy: "adam" });
    expect(await list()).toMatchObject({ state: "REVOKED", revokedBy: "adam" });
    expectRefused(await decide("observe", "revoke"), 409, /already REVOKED/);
    expectRefused(await api.call(host(), "GET", "/v1/apps", { token: operator() }), 403, /Observe/);

    expect((await decide("observe", "approve")).json).toMatchObject({ state: "ACTIVE", approvedBy: "olivia" });
    expect((await api.call(host(), "GET", "/v1/apps", { token: operator() })).status).toBe(200);
    expectRefused(await request({ phase: "Observe" }), 400);
  });
});

describe("the clock decides, not a stored state (service level, real DynamoDB Local)", () => {
  const hour = 3600 * 1000;
  const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
  const expectProblem = async (work: Promise<unknown>, status: number, detail: RegExp) => {
    const error = await work.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadError);
    expect(toProblem(error).status).toBe(status);
    expect((error as BulkheadError).detail).toMatch(detail);
  };

  it("an undecided request lapses after 24 h: EXPIRED, and no longer approvable", async () => {
    const table = tenantTable("acme");
    const t0 = new Date();
    const grant = await requestGrant(table, "ops-1", { phase: "Install", targetId: await newTarget(api, "acme"), reason: "r", durationSeconds: 600 }, systemAudit("grants.request"), t0);
    await expectProblem(decideGrant(table, grant.id, "approve", "olivia", systemAudit("grants.approve"), at(t0, 25 * hour)), 409, /EXPIRED/);
    await expectProblem(decideGrant(table, grant.id, "deny", "olivia", systemAudit("grants.deny"), at(t0, 25 * hour)), 409, /EXPIRED/);
    const page = await listGrants(table, "k", { limit: 100 }, at(t0, 25 * hour));
    expect(page.items.find((g) => g.id === grant.id)?.state).toBe("EXPIRED");
    // The lapsed request no longer blocks a new one for the same phase and target.
    await expect(requestGrant(table, "ops-1", { phase: "Install", targetId: grant.targetId, reason: "again", durationSeconds: 600 }, systemAudit("grants.request"), at(t0, 25 * hour))).resolves.toMatchObject({ state: "PENDING" });
  });

  it("an approved grant is ACTIVE in its window, EXPIRED after it, and an expired grant cannot be revoked", async () => {
    const table = tenantTable("acme");
    const t0 = new Date();
    const grant = await requestGrant(table, "ops-1", { phase: "Operate", targetId: await newTarget(api, "acme"), reason: "r", durationSeconds: 600 }, systemAudit("grants.request"), t0);
    const approved = await decideGrant(table, grant.id, "approve", "olivia", systemAudit("grants.approve"), at(t0, hour));
    expect(approved).toMatchObject({ state: "ACTIVE", notBefore: at(t0, hour).toISOString(), notAfter: at(t0, hour + 600_000).toISOString() });
    const stateAt = async (when: Date) => (await listGrants(table, "k", { limit: 100 }, when)).items.find((g) => g.id === grant.id)?.state;
    expect(await stateAt(at(t0, hour + 599_999))).toBe("ACTIVE");
    expect(await stateAt(at(t0, hour + 600_000))).toBe("EXPIRED");
    await expectProblem(decideGrant(table, grant.id, "revoke", "olivia", systemAudit("grants.revoke"), at(t0, hour + 600_000)), 409, /EXPIRED/);
    await expectProblem(decideGrant(table, grant.id, "approve", "olivia", systemAudit("grants.approve"), at(t0, 2 * hour)), 409, /EXPIRED/);
  });
});

describe("listing grants page by page", () => {
  it("shows every grant and the Observe grant exactly once, whatever the page size, stored or not", async () => {
    const org = "pager";
    expect((await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug: org, name: "Pager" } })).status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await api.call(api.orgHost(org), "POST", "/v1/grants", {
        token: operator(), body: { phase: "Install", targetId: await newTarget(api, org), reason: "r", durationSeconds: 600 },
      });
      ids.push(reply.json.id);
    }
    const owner = api.tokens.member(org, "owner");
    const walk = async (limit: number) => {
      const seen: { id: string; state: string }[] = [];
      let cursor: string | undefined;
      do {
        const reply = await api.call(api.orgHost(org), "GET", `/v1/grants?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: owner });
        expect(reply.status, reply.text).toBe(200);
        expect(reply.json.items.length).toBeLessThanOrEqual(limit);
        seen.push(...reply.json.items);
        cursor = reply.json.cursor;
      } while (cursor);
      return seen;
    };
    for (const stored of [false, true]) {
      if (stored) expect((await api.call(api.orgHost(org), "POST", "/v1/grants/observe/revoke", { token: owner })).status).toBe(200);
      for (let limit = 1; limit <= 8; limit++) {
        const seen = await walk(limit);
        expect(seen.map((g) => g.id).sort(), `limit ${limit}, stored ${stored}`).toEqual([...ids, "observe"].sort());
        expect(seen.find((g) => g.id === "observe")?.state).toBe(stored ? "REVOKED" : "ACTIVE");
      }
    }
  });
});
