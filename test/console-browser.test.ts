/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Functions passed to page.evaluate run in the browser, against DOM types.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, HTTPRequest, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "./support/api.ts";
import { CHROMIUM, chromiumMissing, launchBrowser, screenshot, signIn, texts, watch } from "./support/browser.ts";
import { putSource } from "./support/deployments.ts";

/**
 * The console end to end in Debian's chromium, against a real offline stack (DynamoDB Local,
 * the gateway, the dev issuer): every click is an ordinary API call with the member's token.
 */
const INJECTED = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">`;

let api: TestApi;
let browser: Browser & { cleanUp: () => Promise<void> };
beforeAll(async () => {
  api = await startTestApi();
  browser = await launchBrowser();
}, 90_000);
afterAll(async () => {
  await browser?.cleanUp();
  await api?.stop();
});

const consoleUrl = (org: string) => `http://${org}.localhost:${api.offline.port}/console/`;

/** Audit entries through the API (GET /v1/audit), kept in one place while the audit log is reworked. */
const auditActions = async (org: string) =>
  ((await api.call(api.orgHost(org), "GET", "/v1/audit?limit=100", { token: api.tokens.member(org, "admin") })).json.items as { action: string }[])
    .map((entry) => entry.action);

async function newPage(context: BrowserContext = browser.defaultBrowserContext()) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width: 1200, height: 800 });
  // Headless pages lose focus to one another, and the Clipboard API writes only from a focused document.
  await (await page.createCDPSession()).send("Emulation.setFocusEmulationEnabled", { enabled: true });
  const problems = await watch(page);
  return { page, problems };
}

/** The bearer token the page sent with its API calls: what a forger would lift from the browser. */
function capturedToken(page: Page) {
  let token: string | undefined;
  page.on("request", (request: HTTPRequest) => {
    const header = request.headers().authorization;
    if (header?.startsWith("Bearer ")) token = header.slice(7);
  });
  return () => token;
}

const cspViolations = (page: Page) => page.evaluate(() => (window as any).__cspViolations ?? []);
const xss = (page: Page) => page.evaluate(() => (window as any).__xss);

async function requestGrant(org: string, reason: string) {
  const admin = api.tokens.member(org, "admin");
  const target = await api.call(api.orgHost(org), "POST", "/v1/targets", { token: admin, body: { name: `t-${Date.now()}`, kind: "hosted" } });
  expect(target.status).toBe(201);
  const grant = await api.call(api.orgHost(org), "POST", "/v1/grants", {
    token: api.tokens.platform("operator", "ops-1"),
    body: { phase: "Deploy", targetId: target.json.id, reason, durationSeconds: 3600 },
  });
  expect(grant.status).toBe(201);
  return grant.json.id as string;
}

type Credential = { name: string; scope: string; sub?: string; description?: string; version: number; updatedAt: string };

/** The app's credentials as the API lists them: metadata only. */
const credentialsListed = async (appId: string) =>
  (await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}/credentials?limit=100`, { token: api.tokens.member("acme", "viewer") })).json.items as Credential[];

/** What the console's credentials table should show for one credential. */
const credentialRow = (c: Credential) =>
  ({ name: c.name, scope: c.sub ? `${c.scope} (${c.sub})` : c.scope, version: String(c.version), updatedAt: c.updatedAt, readable: true, description: c.description ?? "" });

/** The credentials table as shown: each row's cells, its update time's instant, and whether that time reads as that instant. */
const credentialRows = (page: Page) => page.$$eval("[data-testid=credentials] tbody tr", (rows) => rows.map((row) => {
  const cells = [...row.querySelectorAll("td")].map((cell) => cell.textContent);
  const time = row.querySelector("td:nth-child(4) time");
  const at = time?.getAttribute("datetime");
  return { name: cells[0], scope: cells[1], version: cells[2], updatedAt: at, readable: !!at && time!.textContent === new Date(at).toLocaleString(), description: cells[4] };
}));

/** The app page's last KEK rotation: its instant, and whether the text shown reads as that instant. */
const kekRotated = (page: Page) => page.$eval("[data-testid=kek-rotated]", (cell) => {
  const at = cell.querySelector("time")?.getAttribute("datetime");
  return { at, readable: !!at && cell.textContent === new Date(at).toLocaleString() };
});

type AuditEntry = { seq: number; time: string; action: string; actor: { kind: string; sub: string; role?: string }; target: Record<string, string> };
type AuditFilter = { from?: string; to?: string; actor?: string; action?: string };

/** One page of the audit trail through the API, as the console asks for it (GET /v1/audit, 50 at a time). */
async function auditPage(org: string, filter: AuditFilter & { order?: string; limit?: number } = {}) {
  const query = new URLSearchParams(Object.entries({ limit: 50, ...filter }).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
  const reply = await api.call(api.orgHost(org), "GET", `/v1/audit?${query}`, { token: api.tokens.member(org, "admin") });
  expect(reply.status).toBe(200);
  return reply.json as { items: AuditEntry[]; pending: number };
}

/** Polls `read` until it answers something `done` accepts (audit records are sequenced a little after the write). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resume) => setTimeout(resume, 300));
  }
}

/** The audit rows the page shows: seq, action, actor cell and the instant of each entry. */
const auditRows = (page: Page) => page.$$eval("[data-testid=audit-trail] tbody tr[data-action]", (rows) => rows.map((row) => ({
  seq: Number(row.querySelector("td button")!.textContent),
  action: row.getAttribute("data-action")!,
  actor: row.children[2]!.textContent!,
  time: row.querySelector("time")!.getAttribute("datetime")!,
})));

const actorCell = (entry: AuditEntry) => `${entry.actor.kind}: ${entry.actor.sub}${entry.actor.role ? ` (${entry.actor.role})` : ""}`;
const asRow = (entry: AuditEntry) => ({ seq: entry.seq, action: entry.action, actor: actorCell(entry), time: entry.time });

/**
 * Fills the audit page's filters as a person would (from and to are instants, typed as the
 * browser's local wall time to the minute, which is all a datetime-local field takes), applies
 * them, and waits for the trail to show what the API answers for the same filter.
 */
async function filterAudit(page: Page, filter: AuditFilter) {
  for (const name of ["from", "to", "actor", "action"] as const) {
    const value = filter[name];
    const typed = value && (name === "from" || name === "to")
      ? await page.evaluate((iso) => {
        const at = new Date(iso);
        const two = (n: number) => String(n).padStart(2, "0");
        return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
      }, value)
      : value ?? "";
    await page.$eval(`form.filters input[name=${name}]`, (input, text) => {
      (input as HTMLInputElement).value = text;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }, typed);
  }
  const expected = (await auditPage("acme", filter)).items.map(asRow);
  await page.click("form.filters button[type=submit]");
  const same = (rows: unknown) => JSON.stringify(rows) === JSON.stringify(expected);
  const shown = await until(() => auditRows(page), same, 10_000);
  expect(shown).toEqual(expected);
  return shown;
}

const minute = (iso: string) => new Date(Math.floor(Date.parse(iso) / 60_000) * 60_000).toISOString();

// A prerequisite like Java: say so plainly rather than skip.
it.runIf(chromiumMissing)("needs a chromium to drive", () => {
  throw new Error(`No chromium at ${CHROMIUM}: apt-get install chromium (Debian), or set CHROMIUM_PATH`);
});

describe.skipIf(chromiumMissing)("the console in a browser", () => {
  it("serves the page under its CSP: the header is on the document and nothing on the page breaks it", async () => {
    const { page, problems } = await newPage();
    const reply = await page.goto(consoleUrl("acme"));
    const csp = reply!.headers()["content-security-policy"]!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    await page.waitForSelector("button::-p-text(Sign in)");
    // An inline script is refused by the page's policy (and reported as a violation).
    // An inline script cannot even be written (Trusted Types), let alone run (script-src 'self').
    const inline = await page.evaluate(() => {
      try {
        const s = document.createElement("script");
        s.textContent = "window.__inline = 1";
        document.body.append(s);
        return "appended";
      } catch (error) {
        return (error as Error).name;
      }
    });
    expect(inline).toBe("TypeError");
    expect(await page.evaluate(() => (window as any).__inline)).toBeUndefined();
    const html = await page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML("beforeend", "<b>x</b>");
        return "parsed";
      } catch (error) {
        return (error as Error).name;
      }
    });
    expect(html).toBe("TypeError");
    await page.close();
    // The only complaints are the two refusals above.
    expect(problems).toEqual([
      "console: This document requires 'TrustedScript' assignment. The action has been blocked.",
      "console: This document requires 'TrustedHTML' assignment. The action has been blocked.",
    ]);
  });

  it("an admin approves a grant an operator requested, revokes it, and finds both in the audit; injected markup stays text", async () => {
    const grantId = await requestGrant("acme", `release 1.4.2 ${INJECTED}`);
    const { page, problems } = await newPage();
    await signIn(page, consoleUrl("acme"), { org: "acme", sub: "alice", role: "admin" });
    expect((await texts(page, "[data-testid=who]"))[0]).toContain("alice · admin · acme");
    // The token lives in memory only: nothing in the page's storage or cookies.
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, ""]);

    const row = `[data-testid=pending-grants] tr[data-grant="${grantId}"]`;
    await page.waitForSelector(row);
    expect(await page.$eval(`${row} .reason`, (cell) => cell.textContent)).toBe(`release 1.4.2 ${INJECTED}`);
    expect(await page.$$(`${row} .reason script, ${row} .reason img`)).toHaveLength(0);
    expect((await texts(page, `${row} td`)).slice(0, 4)).toEqual(["Deploy", `release 1.4.2 ${INJECTED}`, "1 h", "ops-1"]);
    await screenshot(page, "grants-pending");
    await page.click(`${row} button::-p-text(Approve)`);

    const active = `[data-testid=active-grants] tr[data-grant="${grantId}"]`;
    await page.waitForSelector(active);
    expect(await page.$eval(active, (r) => r.textContent)).toMatch(/alice(59m|1h 0m|60m)/);
    await screenshot(page, "grants-active");
    await page.click(`${active} button::-p-text(Revoke)`);
    await page.waitForSelector(`[data-testid=closed-grants] tr[data-grant="${grantId}"] .state.REVOKED`);
    expect((await api.call(api.orgHost("acme"), "GET", "/v1/grants", { token: api.tokens.member("acme", "viewer") })).json.items
      .find((g: { id: string }) => g.id === grantId)).toMatchObject({ state: "REVOKED", approvedBy: "alice", revokedBy: "alice" });

    // The standing Observe grant: revoke (with confirmation), then restore.
    await page.click("[data-testid=observe] button::-p-text(Revoke Observe)");
    await page.click("[data-testid=observe] .confirm button::-p-text(Revoke Observe)");
    await page.waitForSelector("[data-testid=observe] .state.REVOKED");
    await page.click("[data-testid=observe] button::-p-text(Restore Observe)");
    await page.waitForSelector("[data-testid=observe] .state.ACTIVE");
    await screenshot(page, "grants");

    // Audit entries may land a little after the write: poll the page, within a bound.
    await page.goto(`${consoleUrl("acme")}#/audit`);
    const deadline = Date.now() + 20_000;
    let shown: string[] = [];
    while (Date.now() < deadline) {
      await page.click("form.filters button[type=submit]");
      await page.waitForSelector("[data-testid=audit-trail], .empty");
      shown = await page.$$eval("[data-testid=audit-trail] tr[data-action]", (rows) => rows.map((r) => r.getAttribute("data-action")!));
      if (shown.includes("grants.approve") && shown.includes("grants.revoke")) break;
      await new Promise((resume) => setTimeout(resume, 500));
    }
    expect(shown).toEqual(expect.arrayContaining(["grants.request", "grants.approve", "grants.revoke"]));
    expect(await auditActions("acme")).toEqual(expect.arrayContaining(["grants.approve", "grants.revoke"]));
    await page.waitForSelector("[data-testid=verification] .verified");
    expect(await page.$("[data-testid=verification] .warning")).toBeNull();
    await page.$eval("form.filters input[name=action]", (input) => ((input as HTMLInputElement).value = ""));
    await page.type("form.filters input[name=action]", "grants.approve");
    await page.click("form.filters button[type=submit]");
    await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=audit-trail] tr[data-action]")].every((r) => r.getAttribute("data-action") === "grants.approve"));
    await page.$$eval("[data-testid=audit-trail] tr[data-action]", (rows, id) => rows.find((r) => r.textContent!.includes(`grantId=${id}`))!.querySelector("button")!.click(), grantId);
    await page.waitForSelector("[data-testid=audit-entry]");
    expect(await page.$eval("[data-testid=audit-entry]", (card) => card.textContent)).toContain(grantId);
    await screenshot(page, "audit");

    expect(await xss(page)).toBeUndefined();
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);

    // Sign-out forgets the token: the page is back at its sign-in button.
    await page.click("button::-p-text(Sign out)");
    await page.waitForSelector("button::-p-text(Sign in)");
    await page.close();
  });

  it("downloads the audit export, and shows a visible warning whatever fields a failed verification carries", async () => {
    const { page, problems } = await newPage();
    const downloads = mkdtempSync(join(tmpdir(), "bulkhead-downloads-"));
    const cdp = await page.createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
    await signIn(page, `${consoleUrl("acme")}#/audit`, { org: "acme", sub: "alice", role: "admin" });
    await page.waitForSelector("[data-testid=verification] .verified");
    await page.click("button::-p-text(Download export)");
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !readdirSync(downloads).some((f) => f.endsWith(".jsonl"))) await new Promise((r) => setTimeout(r, 200));
    const [file] = readdirSync(downloads).filter((f) => f.endsWith(".jsonl"));
    const exported = readFileSync(join(downloads, file!), "utf8");
    const direct = await api.call(api.orgHost("acme"), "GET", "/v1/audit/export", { token: api.tokens.member("acme", "admin") });
    expect(exported).toBe(direct.text);
    rmSync(downloads, { recursive: true, force: true });

    // The verifier's answer is rendered generically: here a failure with fields the page has never seen.
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      if (new URL(request.url()).pathname !== "/v1/audit/verify") return void request.continue();
      void request.respond({ status: 200, contentType: "application/json", body: JSON.stringify({ ok: false, entries: 9, seq: 4, reason: "leaf hash mismatch", treeSize: 9 }) });
    });
    await page.click("button::-p-text(Verify again)");
    await page.waitForSelector("[data-testid=verification] .warning[role=alert]");
    const card = await page.$eval("[data-testid=verification]", (c) => c.textContent);
    expect(card).toContain("Audit verification failed.");
    expect(card).toContain("leaf hash mismatch");
    expect(card).toContain("treeSize");
    expect(await page.$("[data-testid=verification] .verified")).toBeNull();
    await screenshot(page, "audit-verification-failed");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("manages apps, credentials (values never shown), key rotation, deployments and targets", async () => {
    const { page, problems } = await newPage();
    await signIn(page, `${consoleUrl("acme")}#/apps`, { org: "acme", sub: "alice", role: "admin" });
    await page.waitForSelector("#apps-title");
    await page.type("input[name=app-name]", INJECTED);
    await page.click("button::-p-text(Create app)");
    await page.waitForSelector("[data-testid=apps] a.app-name");
    const names = await texts(page, "[data-testid=apps] a.app-name");
    expect(names).toContain(INJECTED);
    await screenshot(page, "apps");
    const href = await page.$$eval("[data-testid=apps] a.app-name", (links, name) => links.find((l) => l.textContent === name)!.getAttribute("href"), INJECTED);
    const appId = href!.split("/").at(-1)!;
    await page.click(`a[href="${href}"]`);
    await page.waitForSelector("#app-title");
    expect(await page.$eval("#app-title", (h) => h.textContent)).toBe(INJECTED);
    const kekBefore = await page.$eval("[data-testid=kek-version]", (d) => d.textContent);
    expect(kekBefore).toMatch(/\S{8,}/);

    // The app's KEK version and last rotation, as the API reads them.
    const created = (await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}`, { token: api.tokens.member("acme", "viewer") })).json;
    expect(kekBefore).toBe(created.kek.version);
    expect(await kekRotated(page)).toEqual({ at: created.kek.rotatedAt, readable: true });

    // A credential: the value goes out once and is never read back. Every API answer the page gets is kept, to search for it.
    const answers: Promise<string>[] = [];
    page.on("response", (response) => {
      if (new URL(response.url()).pathname.startsWith("/v1/")) answers.push(response.text().catch(() => ""));
    });
    await page.type("input[name=credential-name]", "database-url");
    await page.type("input[name=credential-value]", "postgres://u:very-secret@db/x");
    await page.type("input[name=credential-description]", "primary database");
    await page.click("button::-p-text(Set credential)");
    await page.waitForSelector("[data-testid=credentials] code::-p-text(database-url)");
    expect(await page.$eval("input[name=credential-value]", (input) => (input as HTMLInputElement).value)).toBe("");
    expect(await page.$eval("input[name=credential-value]", (input) => input.getAttribute("type"))).toBe("password");
    expect(await page.content()).not.toContain("very-secret");
    const first = await credentialsListed(appId);
    expect(first).toEqual([expect.objectContaining({ name: "database-url", scope: "system", version: 1, description: "primary database" })]);
    expect(await credentialRows(page)).toEqual(first.map(credentialRow));

    // A new value: a new version and update time, still as metadata only.
    await page.type("input[name=credential-name]", "database-url");
    await page.type("input[name=credential-value]", "postgres://u:second-secret@db/x");
    await page.click("button::-p-text(Set credential)");
    await page.waitForFunction(() => document.querySelector("[data-testid=credentials] tbody tr td:nth-child(3)")?.textContent === "2");
    const second = await credentialsListed(appId);
    expect(second).toEqual([expect.objectContaining({ name: "database-url", version: 2 })]);
    expect(Date.parse(second[0]!.updatedAt)).toBeGreaterThan(Date.parse(first[0]!.updatedAt));
    expect(await credentialRows(page)).toEqual(second.map(credentialRow));
    // Neither value is anywhere: not in the document, its text, its fields, nor any API answer the page received.
    const seen = [
      await page.content(),
      await page.evaluate(() => document.body.innerText),
      ...(await page.$$eval("input, textarea", (fields) => fields.map((f) => (f as HTMLInputElement).value))),
      ...(await Promise.all(answers)),
    ].join("\n");
    expect(seen).toContain("database-url");
    expect(seen).not.toMatch(/very-secret|second-secret/);

    await page.click("button::-p-text(Rotate key)");
    await page.waitForSelector(".notice");
    await page.waitForFunction((before) => document.querySelector("[data-testid=kek-version]")?.textContent !== before, {}, kekBefore);
    const rotated = (await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}`, { token: api.tokens.member("acme", "viewer") })).json;
    expect(rotated.kek.version).not.toBe(created.kek.version);
    expect(await page.$eval("[data-testid=kek-version]", (d) => d.textContent)).toBe(rotated.kek.version);
    expect(Date.parse(rotated.kek.rotatedAt)).toBeGreaterThan(Date.parse(created.kek.rotatedAt));
    await page.waitForFunction((at) => document.querySelector("[data-testid=kek-rotated] time")?.getAttribute("datetime") === at, {}, rotated.kek.rotatedAt);
    expect(await kekRotated(page)).toEqual({ at: rotated.kek.rotatedAt, readable: true });
    expect(await page.$eval(".notice", (p) => p.textContent)).toContain(`Rotated to ${rotated.kek.version}`);

    // A deployment from an uploaded source ref, followed live to its end.
    await putSource(api, "acme", appId, "v1");
    await page.type("input[name=source-ref]", "v1");
    await page.click("button::-p-text(Deploy)");
    await page.waitForSelector(".deployment[data-status=SUCCEEDED]", { timeout: 30_000 });
    expect(await texts(page, ".deployment .steps li.done")).toHaveLength(5);

    // A failing build shows its reason and the log's excerpt; a slow one can be cancelled.
    const developer = api.tokens.member("acme", "developer");
    await api.call(api.orgHost("acme"), "PATCH", `/v1/apps/${appId}`, { token: developer, body: { build: { command: "echo compiling; echo broken >&2; exit 3" } } });
    await page.type("input[name=source-ref]", "v1");
    await page.click("button::-p-text(Deploy)");
    await page.waitForSelector(".deployment[data-status=FAILED]", { timeout: 30_000 });
    expect(await page.$eval(".deployment[data-status=FAILED] .problem", (p) => p.textContent)).toMatch(/^Failed: .+/);
    expect(await page.$eval(".deployment[data-status=FAILED] pre.log", (p) => p.textContent)).toContain("broken");
    await api.call(api.orgHost("acme"), "PATCH", `/v1/apps/${appId}`, { token: developer, body: { build: { command: "sleep 20" } } });
    await page.type("input[name=source-ref]", "v1");
    await page.click("button::-p-text(Deploy)");
    await page.waitForSelector(".deployment[data-status=BUILDING] button::-p-text(Cancel)", { timeout: 30_000 });
    await page.click(".deployment[data-status=BUILDING] button::-p-text(Cancel)");
    await page.waitForSelector(".deployment[data-status=CANCELLED]", { timeout: 30_000 });
    await screenshot(page, "app");

    // Rename, then delete with its confirmation.
    await page.click("button::-p-text(Rename)");
    await page.$eval("input[name=rename]", (input) => ((input as HTMLInputElement).value = ""));
    await page.type("input[name=rename]", "web");
    await page.click("button::-p-text(Save name)");
    await page.waitForFunction(() => document.querySelector("#app-title")?.textContent === "web");
    await page.click("button::-p-text(Delete app)");
    await page.click(".confirm button::-p-text(Delete for good)");
    await page.waitForSelector("#apps-title");
    expect((await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}`, { token: api.tokens.member("acme", "viewer") })).status).toBe(404);

    // A BYOI target: its ExternalId and trust policy shown once; an enrollment token shown once.
    await page.goto(`${consoleUrl("acme")}#/targets`);
    await page.waitForSelector("#targets-title");
    await page.type("input[name=target-name]", "prod-eu");
    await page.type("input[name=account-id]", "123456789012");
    await page.type("input[name=region]", "eu-west-1");
    await page.type("input[name=deploy-role-arn]", "arn:aws:iam::123456789012:role/bulkhead-deploy-acme");
    await page.click("button::-p-text(Register target)");
    await page.waitForSelector("[data-testid=external-id]");
    const externalId = await page.$eval("[data-testid=external-id]", (c) => c.textContent!);
    expect(externalId.length).toBeGreaterThanOrEqual(32);
    const trust = JSON.parse(await page.$eval("[data-testid=trust-policy]", (c) => c.textContent!));
    expect(JSON.stringify(trust)).toContain(externalId);
    await browser.defaultBrowserContext().overridePermissions(new URL(consoleUrl("acme")).origin, ["clipboard-read", "clipboard-write", "clipboard-sanitized-write"]);
    await page.bringToFront();
    await page.click("button::-p-text(Copy ExternalId)");
    await page.waitForFunction(() => [...document.querySelectorAll("button")].some((button) => button.textContent === "Copied"));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(externalId);
    await page.click("button::-p-text(Issue token)");
    await page.waitForSelector("[data-testid=enrollment-token] code");
    const token = await page.$eval("[data-testid=enrollment-token] code", (c) => c.textContent!);
    await screenshot(page, "targets");
    const enrolled = await api.call(api.orgHost("acme"), "POST", "/v1/enroll", { headers: { authorization: `Enrollment ${token}` }, body: { name: "edge-01" } });
    expect(enrolled.status).toBe(201);
    // Shown once: a fresh visit has neither the ExternalId nor the token.
    await page.reload();
    await signIn(page, `${consoleUrl("acme")}#/targets`, { org: "acme", sub: "alice", role: "admin" });
    await page.waitForSelector("[data-testid=targets]");
    expect(await page.content()).not.toContain(externalId);

    expect(await xss(page)).toBeUndefined();
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows a viewer no button it cannot use, and the API refuses the viewer's forged approval", async () => {
    const grantId = await requestGrant("acme", "viewer should not approve");
    const context = await browser.createBrowserContext();
    const { page, problems } = await newPage(context);
    const token = capturedToken(page);
    await signIn(page, consoleUrl("acme"), { org: "acme", sub: "vera", role: "viewer" });
    const row = `[data-testid=pending-grants] tr[data-grant="${grantId}"]`;
    await page.waitForSelector(row);
    expect(await page.$$(`${row} button`)).toHaveLength(0);
    expect(await page.$$("[data-testid=observe] button")).toHaveLength(0);
    expect(await texts(page, ".top nav a")).toEqual(["Vendor access", "Apps", "Targets"]);
    await screenshot(page, "viewer-grants");
    await page.goto(`${consoleUrl("acme")}#/apps`);
    await page.waitForSelector("#apps-title");
    expect(await page.$("input[name=app-name]")).toBeNull();
    await page.goto(`${consoleUrl("acme")}#/targets`);
    await page.waitForSelector("#targets-title");
    expect(await page.$$("button")).toHaveLength(1); // sign out only
    await screenshot(page, "viewer-targets");

    const forged = await page.evaluate(async (id, bearer) => {
      const reply = await fetch(`/v1/grants/${id}/approve`, { method: "POST", headers: { authorization: `Bearer ${bearer}` } });
      return { status: reply.status, type: reply.headers.get("content-type"), body: await reply.json() };
    }, grantId, token()!);
    expect(forged).toMatchObject({ status: 403, type: "application/problem+json", body: { title: expect.any(String) } });
    expect((await api.call(api.orgHost("acme"), "GET", "/v1/grants", { token: api.tokens.member("acme", "viewer") })).json.items
      .find((g: { id: string }) => g.id === grantId).state).toBe("PENDING");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("lets a globex member see none of acme's console data: refused on acme's host, and only globex's own on its own", async () => {
    const acmeApp = await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token: api.tokens.member("acme", "admin"), body: { name: "acme-secret-app" } });
    expect(acmeApp.status).toBe(201);
    const context = await browser.createBrowserContext();
    const { page } = await newPage(context);
    await signIn(page, `${consoleUrl("acme")}#/apps`, { org: "globex", sub: "gina", role: "owner" });
    await page.waitForSelector(".problem[role=alert]");
    const problem = await page.$eval(".problem[role=alert]", (box) => ({
      title: box.querySelector(".problem-title")?.textContent, detail: box.querySelector(".problem-detail")?.textContent,
    }));
    expect(problem.title).toBe("Forbidden");
    expect(problem.detail).toMatch(/org/i);
    expect(await page.content()).not.toContain("acme-secret-app");
    expect(await page.$("[data-testid=apps]")).toBeNull();
    await screenshot(page, "globex-on-acme");

    await signIn(page, `${consoleUrl("globex")}#/apps`, { org: "globex", sub: "gina", role: "owner" });
    await page.waitForSelector("#apps-title");
    await page.waitForSelector("[data-testid=apps], .empty");
    expect(await page.content()).not.toContain("acme-secret-app");
    await context.close();
  });

  it("an admin denies a grant an operator requested; the audit page filters by actor and by time as the API does", async () => {
    // The time filter takes minutes: the trail must span two of them, so wait for the minute of its first entry to pass.
    const earliest = () => auditPage("acme", { order: "asc", limit: 1 }).then((page) => page.items[0]);
    if (!(await earliest())) await requestGrant("acme", "an earlier request");
    const first = (await until(earliest, Boolean))!;
    expect(first).toBeDefined();
    const turn = Date.parse(minute(first.time)) + 60_000 + 100 - Date.now();
    if (turn > 0) await new Promise((resume) => setTimeout(resume, turn));

    const requestedSince = Date.now();
    const grantId = await requestGrant("acme", "hotfix 1.4.3, to be denied");
    const { page, problems } = await newPage();
    // Wall time away from UTC, so the filter's local-to-instant conversion matters.
    await page.emulateTimezone("Asia/Kolkata");
    await signIn(page, consoleUrl("acme"), { org: "acme", sub: "dana", role: "admin" });
    const row = `[data-testid=pending-grants] tr[data-grant="${grantId}"]`;
    await page.waitForSelector(row);
    expect(await texts(page, `${row} button`)).toEqual(["Approve", "Deny"]);
    await page.click(`${row} button::-p-text(Deny)`);
    const closed = `[data-testid=closed-grants] tr[data-grant="${grantId}"]`;
    await page.waitForSelector(`${closed} .state.DENIED`);
    expect(await page.$(row)).toBeNull();
    expect(await page.$(`[data-testid=active-grants] tr[data-grant="${grantId}"]`)).toBeNull();
    expect((await texts(page, `${closed} td`)).slice(0, 5)).toEqual(["Deploy", "DENIED", "hotfix 1.4.3, to be denied", "ops-1", "dana"]);
    expect((await api.call(api.orgHost("acme"), "GET", "/v1/grants", { token: api.tokens.member("acme", "viewer") })).json.items
      .find((g: { id: string }) => g.id === grantId)).toMatchObject({ state: "DENIED", deniedBy: "dana" });
    await screenshot(page, "grants-denied");

    // Every record sequenced, the deny among them: from here the trail holds still.
    const settled = await until(() => auditPage("acme", { action: "grants.deny" }),
      (answer) => answer.pending === 0 && answer.items.some((e) => e.target.grantId === grantId));
    const deny = settled.items.find((e) => e.target.grantId === grantId)!;
    expect(deny).toMatchObject({ action: "grants.deny", actor: { kind: "member", sub: "dana", role: "admin" } });
    // The request's entry names no grant (it had no id yet): it is the only request made since.
    const requests = (await auditPage("acme", { action: "grants.request" })).items.filter((e) => Date.parse(e.time) >= requestedSince);
    expect(requests).toEqual([expect.objectContaining({ actor: expect.objectContaining({ kind: "platform", sub: "ops-1" }) })]);
    const request = requests[0]!;

    await page.goto(`${consoleUrl("acme")}#/audit`);
    await page.waitForSelector("[data-testid=audit-trail]");
    const all = await filterAudit(page, {});
    expect(all.map((r) => r.seq)).toEqual(expect.arrayContaining([deny.seq, request.seq]));

    // By actor: the admin who denied has exactly the deny; the operator, its requests and nothing of the members'.
    expect(await filterAudit(page, { actor: "dana" })).toEqual([asRow(deny)]);
    await page.click(`[data-testid=audit-trail] tr[data-action="grants.deny"] button`);
    await page.waitForSelector("[data-testid=audit-entry]");
    const details = await page.$eval("[data-testid=audit-entry]", (card) => card.textContent!);
    expect(details).toContain(grantId);
    expect(details).toContain(`Entry ${deny.seq}`);
    await screenshot(page, "audit-denied");
    const operator = await filterAudit(page, { actor: "ops-1" });
    expect(operator.map((r) => r.seq)).toContain(request.seq);
    expect(operator.map((r) => r.seq)).not.toContain(deny.seq);
    expect(operator.every((r) => r.actor === "platform: ops-1 (operator)")).toBe(true);
    expect(operator.length).toBeLessThan(all.length);

    // By time: from the deny's minute on, then up to it; the earliest entry and the deny fall on either side.
    const boundary = minute(deny.time);
    expect(Date.parse(first.time)).toBeLessThan(Date.parse(boundary));
    const since = await filterAudit(page, { from: boundary });
    expect(since.map((r) => r.seq)).toContain(deny.seq);
    expect(since.map((r) => r.seq)).not.toContain(first.seq);
    expect(since.every((r) => Date.parse(r.time) >= Date.parse(boundary))).toBe(true);
    const before = await filterAudit(page, { from: minute(first.time), to: boundary });
    expect(before.length).toBeGreaterThan(0);
    expect(before.map((r) => r.seq)).not.toContain(deny.seq);
    expect(before.every((r) => Date.parse(r.time) >= Date.parse(minute(first.time)) && Date.parse(r.time) <= Date.parse(boundary))).toBe(true);
    // Time and actor together: the operator's entries from this test's request's minute on.
    const recent = minute(request.time);
    const operatorRecent = await filterAudit(page, { from: recent, actor: "ops-1" });
    expect(operatorRecent.map((r) => r.seq)).toContain(request.seq);
    expect(operatorRecent.map((r) => r.seq)).not.toContain(deny.seq);
    expect(operatorRecent.every((r) => r.actor === "platform: ops-1 (operator)" && Date.parse(r.time) >= Date.parse(recent))).toBe(true);
    await screenshot(page, "audit-filtered");

    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
