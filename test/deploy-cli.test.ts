import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../packages/local/src/runtime.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { newApp } from "./support/deployments.ts";

/**
 * `npm run deploy` end to end: the CLI runs as a child process against a full offline stack on
 * port 0 (the same startOffline as `npm start`), through the org's host name, the presigned form
 * and the deployment workflow. The upload cap is 64 KiB here so a too-large source is cheap.
 */
const MAX_BYTES = 64 * 1024;
let api: TestApi;
let work: string;
beforeAll(async () => {
  api = await startTestApi({ sourceUploads: { maxBytes: MAX_BYTES } });
  work = mkdtempSync(join(tmpdir(), "bulkhead-deploy-cli-"));
});
afterAll(async () => {
  await api?.stop();
  rmSync(work, { recursive: true, force: true });
});

type Run = { code: number; stdout: string; stderr: string };

/** Runs the CLI as `npm run deploy` does (tsx), asynchronously: the API answers from this process. */
function deployCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", join(REPO_ROOT, "packages/local/src/cli/deploy.ts"), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH!, PORT: String(api.offline.port), ...env },
      timeout: 60_000,
    }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }));
  });
}

const developerToken = (org = "acme") => api.tokens.member(org, "developer");

/** The sample app, with things its .gitignore files leave out. */
function sampleWithIgnoredFiles(): string {
  const dir = join(work, `hello-${randomBytes(4).toString("hex")}`);
  cpSync(join(REPO_ROOT, "examples/hello"), dir, { recursive: true });
  mkdirSync(join(dir, "dist"));
  writeFileSync(join(dir, "dist/stale.html"), "stale");
  writeFileSync(join(dir, "debug.log"), "noise");
  mkdirSync(join(dir, "assets/raw"), { recursive: true });
  writeFileSync(join(dir, "assets/logo.txt"), "logo");
  writeFileSync(join(dir, "assets/raw/huge.bin"), "raw");
  writeFileSync(join(dir, "assets/.gitignore"), "raw/\n");
  mkdirSync(join(dir, ".git"));
  writeFileSync(join(dir, ".git/HEAD"), "ref: refs/heads/main\n");
  return dir;
}

describe("npm run deploy", () => {
  it("zips the sample app (respecting .gitignore), uploads it, follows the workflow and exits 0 on SUCCEEDED", async () => {
    const appId = await newApp(api, "acme", { command: "sh build.sh" });
    const dir = sampleWithIgnoredFiles();
    const run = await deployCli(["--org", "acme", "--app", appId, "--dir", dir, "--ref", "v2"], { BULKHEAD_TOKEN: developerToken() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Uploaded source "v2"');
    expect(run.stdout).toMatch(/Deployment [0-9A-Z]{26} of "v2" to hosted: QUEUED/);
    expect(run.stdout).toContain("built dist/index.html for source v2");
    expect(run.stdout).toMatch(/ SUCCEEDED\n/);
    expect(run.stdout).toMatch(/Deployed: release bh-acme-/);

    const source = unzipSync(readFileSync(api.offline.deployments.standIns.store.path("bulkhead-artifacts", `acme/${appId}/sources/v2.zip`)));
    expect(Object.keys(source).sort()).toEqual([".gitignore", "README.md", "assets/.gitignore", "assets/logo.txt", "build.sh", "index.html"]);
    const list = await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}/sources`, { token: developerToken() });
    expect(list.json.items).toEqual([expect.objectContaining({ ref: "v2", status: expect.stringMatching(/pending|uploaded/) })]);
  });

  it("without --ref names the upload by time and checksum; the token may come from --token and the org from BULKHEAD_ORG", async () => {
    const appId = await newApp(api, "acme");
    const run = await deployCli(["--app", appId, "--dir", join(REPO_ROOT, "examples/hello"), "--token", developerToken()], { BULKHEAD_ORG: "acme" });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Uploaded source "\d{8}t\d{6}z-[0-9a-f]{12}"/);
  });

  it("shows the build's log while it runs: the build waits until the CLI has printed its first line", async () => {
    // The build blocks on a file in its sandbox, which this test creates only once the CLI printed the line.
    const appId = await newApp(api, "acme", { command: "echo live-one; until [ -f ../go ]; do sleep 0.05; done; echo live-two" });
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "packages/local/src/cli/deploy.ts"),
      "--org", "acme", "--app", appId, "--dir", join(REPO_ROOT, "examples/hello")], {
      cwd: REPO_ROOT, env: { PATH: process.env.PATH!, PORT: String(api.offline.port), BULKHEAD_TOKEN: developerToken() },
    });
    let stdout = "";
    let released = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      const id = /Deployment ([0-9A-Z]{26})/.exec(stdout)?.[1];
      if (!released && id && stdout.includes("  | live-one")) {
        released = true;
        const sandbox = readdirSync(api.sandboxRoot).find((name) => name.startsWith(`${id}-`))!;
        writeFileSync(join(api.sandboxRoot, sandbox, "go"), "");
      }
    });
    const [code] = await once(child, "close");
    expect(code, stdout).toBe(0);
    expect(released).toBe(true);
    expect(stdout.indexOf("  | live-one")).toBeGreaterThan(stdout.indexOf(" BUILDING\n"));
    expect(stdout.indexOf("  | live-two")).toBeGreaterThan(stdout.indexOf("  | live-one"));
    expect(stdout.split("  | live-one").length, "each line once").toBe(2);
  });

  it("a failing build exits 1 with the workflow's reason", async () => {
    const appId = await newApp(api, "acme", { command: "echo breaking; exit 3" });
    const run = await deployCli(["--org", "acme", "--app", appId, "--dir", join(REPO_ROOT, "examples/hello")], { BULKHEAD_TOKEN: developerToken() });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("  | breaking");
    expect(run.stderr).toMatch(/deploy: the deployment ended FAILED: .*exit status 3/);
  });

  it("a source over the upload cap is refused before any upload, with the limit", async () => {
    const appId = await newApp(api, "acme");
    const dir = join(work, "too-large");
    mkdirSync(dir);
    writeFileSync(join(dir, "noise.bin"), randomBytes(MAX_BYTES + 1024));
    const run = await deployCli(["--org", "acme", "--app", appId, "--dir", dir], { BULKHEAD_TOKEN: developerToken() });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`deploy: 400 The request is not valid: The source is \\d+ bytes; uploads may be at most ${MAX_BYTES} bytes\\.`));
    const list = await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}/sources`, { token: developerToken() });
    expect(list.json.items).toEqual([]);
  });

  it("another org's token, a viewer's, an unknown app: refused with the API's problem; bad usage exits 2", async () => {
    const appId = await newApp(api, "acme");
    const hello = join(REPO_ROOT, "examples/hello");
    const foreign = await deployCli(["--org", "acme", "--app", appId, "--dir", hello], { BULKHEAD_TOKEN: developerToken("globex") });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^deploy: 403 /);
    const viewer = await deployCli(["--org", "acme", "--app", appId, "--dir", hello], { BULKHEAD_TOKEN: api.tokens.member("acme", "viewer") });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/^deploy: 403 /);
    const unknown = await deployCli(["--org", "acme", "--app", "a".repeat(26), "--dir", hello], { BULKHEAD_TOKEN: developerToken() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^deploy: 404 .*No such app/);
    expect((await deployCli(["--org", "acme", "--app", appId], { BULKHEAD_TOKEN: developerToken() })).stderr).toContain("--dir <directory> is required");
    const noToken = await deployCli(["--org", "acme", "--app", appId, "--dir", hello]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("a token is required");
    expect((await deployCli(["--org", "acme", "--app", appId, "--dir", join(work, "nope")], { BULKHEAD_TOKEN: developerToken() })).stderr).toContain("is not a directory");
  });
});
