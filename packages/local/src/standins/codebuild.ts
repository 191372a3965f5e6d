import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { once } from "node:events";
import {
  closeSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync,
  writeFileSync, writeSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { unzipSync, zipSync, type Zippable } from "fflate";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import type { BuildEnvironmentPort } from "@bulkhead/core/deployments/ports";
import type { LocalLogGroups } from "./logs.ts";
import type { LocalObjectStore } from "./object-store.ts";

/**
 * Offline stand-in for CodeBuild's `startBuild.sync`: the RunBuild state's local handler. It reads
 * the very StartBuild request the state machine sends to CodeBuild and answers with the same
 * shape, so the definition's Parameters and ResultSelector serve both runtimes.
 *
 * Each build runs in a sandbox: a fresh temporary directory (workspace, HOME and TMPDIR inside
 * it), an environment built from scratch (PATH, HOME, the request's variables: nothing of this
 * process, so no secrets and no AWS variables), its own process group, a wall-clock limit that
 * kills the whole group, and output captured as the build log. The directory is removed when the
 * build ends, however it ends, and by `destroy`.
 *
 * It is not a security boundary against hostile code the way a fresh VM is: it keeps offline
 * builds honest about what they may rely on.
 */
export type CodeBuildStandInOptions = {
  store: LocalObjectStore;
  logs: LocalLogGroups;
  /** Where sandboxes are created. */
  sandboxRoot: string;
  /** Caps the request's TimeoutInMinutesOverride (tests use a second or two). */
  maxWallClockMs?: number;
  maxLogBytes?: number;
  maxArtifactBytes?: number;
};

export type CodeBuildStandIn = {
  /** The RunBuild local handler. */
  startBuildSync: (request: unknown) => Promise<{ Build: BuildRecord }>;
  /** Kills and removes whatever remains of a deployment's builds. */
  destroy: (deploymentId: string) => Promise<{ destroyed: number }>;
  /** Deployment ids with a build running now. */
  running: () => string[];
  buildEnvironments: BuildEnvironmentPort;
};

type Phase = { PhaseType: string; PhaseStatus: string; Contexts?: { StatusCode: string; Message: string }[] };
type BuildRecord = {
  Id: string;
  Arn: string;
  ProjectName: string;
  BuildStatus: "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "STOPPED";
  CurrentPhase: string;
  StartTime: string;
  EndTime: string;
  Phases: Phase[];
  Artifacts?: { Location: string; Sha256sum: string };
  Logs: { GroupName: string; StreamName: string };
};

// zod/mini ships without messages; a refused request names its first issue in English, as CodeBuild would.
z.config(en());

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_ENV = /^(?:AWS_|CODEBUILD_)/;
const SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PHASE_ORDER = ["install", "pre_build", "build", "post_build"] as const;
const FIXED_ZIP_TIME = new Date("1980-01-01T00:00:00Z");

const nonEmpty = z.string().check(z.minLength(1));
const minutes = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

const requestSchema = z.object({
  ProjectName: nonEmpty,
  IdempotencyToken: nonEmpty,
  SourceTypeOverride: z.literal("S3"),
  // As CodeBuild's S3 source: a folder (`bucket/prefix/`) or a ZIP object it extracts (`bucket/key.zip`).
  SourceLocationOverride: z.string().check(z.regex(/^[^/]+\/.+(?:\/|\.zip)$/, "an S3 folder (bucket/prefix/) or ZIP object (bucket/key.zip)")),
  ServiceRoleOverride: z.string().check(z.startsWith("arn:")),
  BuildspecOverride: nonEmpty,
  EnvironmentVariablesOverride: z.array(z.object({
    Name: z.string().check(z.regex(ENV_NAME), z.refine((n) => !RESERVED_ENV.test(n), "reserved prefix")),
    Value: z.string(),
    Type: z.literal("PLAINTEXT"),
  })),
  ArtifactsOverride: z.object({
    Type: z.literal("S3"),
    Location: nonEmpty,
    Path: nonEmpty,
    Name: nonEmpty,
    NamespaceType: z.literal("NONE"),
    Packaging: z.literal("ZIP"),
  }),
  LogsConfigOverride: z.looseObject({
    CloudWatchLogs: z.object({ Status: z.literal("ENABLED"), GroupName: nonEmpty, StreamName: nonEmpty }),
  }),
  TimeoutInMinutesOverride: minutes(5, 2160),
  QueuedTimeoutInMinutesOverride: minutes(5, 480),
});

const buildspecSchema = z.object({
  version: z.union([z.literal(0.2), z.literal("0.2")]),
  phases: z._default(z.partialRecord(z.enum(PHASE_ORDER), z.object({ commands: z.array(z.string()).check(z.minLength(1)) })), {}),
  artifacts: z.object({ files: z.tuple([z.literal("**/*")]), "base-directory": z.optional(z.string()) }),
});

/** Errors named like the ones Step Functions' CodeBuild integration raises. */
class IntegrationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type ActiveBuild = { dir: string; child?: ChildProcess; closed?: Promise<unknown>; stop?: "timeout" | "destroyed" };

export function codeBuildStandIn(options: CodeBuildStandInOptions): CodeBuildStandIn {
  const sandboxRoot = resolve(options.sandboxRoot);
  const maxLogBytes = options.maxLogBytes ?? 1024 * 1024;
  const maxArtifactBytes = options.maxArtifactBytes ?? 256 * 1024 * 1024;
  const active = new Map<string, ActiveBuild>();

  async function startBuildSync(raw: unknown): Promise<{ Build: BuildRecord }> {
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) throw new IntegrationError("CodeBuild.InvalidInputException", `invalid StartBuild request: ${parsed.error.issues[0]?.message}`);
    const request = parsed.data;
    let buildspec: z.output<typeof buildspecSchema>;
    try {
      buildspec = buildspecSchema.parse(JSON.parse(request.BuildspecOverride));
    } catch {
      throw new IntegrationError("CodeBuild.InvalidInputException", "the buildspec is not one this stand-in runs (JSON, phases of commands, artifacts **/*)");
    }
    const variables = Object.fromEntries(request.EnvironmentVariablesOverride.map((v) => [v.Name, v.Value]));
    const deploymentId = variables.BULKHEAD_DEPLOYMENT ?? request.IdempotencyToken;
    if (active.has(deploymentId)) throw new IntegrationError("CodeBuild.InvalidInputException", "a build of this deployment is already running");

    const buildId = `${request.ProjectName}:${randomUUID()}`;
    const started = new Date();
    const { GroupName, StreamName } = request.LogsConfigOverride.CloudWatchLogs;
    const phases: Phase[] = [{ PhaseType: "SUBMITTED", PhaseStatus: "SUCCEEDED" }, { PhaseType: "PROVISIONING", PhaseStatus: "SUCCEEDED" }];
    mkdirSync(sandboxRoot, { recursive: true });
    const dir = mkdtempSync(join(sandboxRoot, `${deploymentId}-`));
    const entry: ActiveBuild = { dir };
    active.set(deploymentId, entry);

    const logFile = options.logs.streamFile(GroupName, StreamName);
    mkdirSync(dirname(logFile), { recursive: true });
    const logFd = openSync(logFile, "a", 0o600);
    let logBytes = 0;
    let logClosed = false;
    const log = (text: string | Buffer) => {
      if (logClosed || logBytes >= maxLogBytes) return;
      const chunk = Buffer.from(text);
      const room = maxLogBytes - logBytes;
      writeSync(logFd, room >= chunk.length ? chunk : Buffer.concat([chunk.subarray(0, room), Buffer.from("\n[log truncated]\n")]));
      logBytes += chunk.length;
    };

    const finish = (status: BuildRecord["BuildStatus"], artifacts?: BuildRecord["Artifacts"]): BuildRecord => ({
      Id: buildId,
      Arn: `arn:aws:codebuild:local:000000000000:build/${buildId}`,
      ProjectName: request.ProjectName,
      BuildStatus: status,
      CurrentPhase: "COMPLETED",
      StartTime: started.toISOString(),
      EndTime: new Date().toISOString(),
      Phases: phases,
      Artifacts: artifacts,
      Logs: { GroupName, StreamName },
    });
    const fail = (phase: string, status: BuildRecord["BuildStatus"], code: string, message: string): never => {
      phases.push({ PhaseType: phase, PhaseStatus: status === "SUCCEEDED" ? "FAILED" : status, Contexts: [{ StatusCode: code, Message: message }] });
      log(`[Container] Phase ${phase} State: ${status}\n[Container] Phase context status code: ${code} Message: ${message}\n`);
      // startBuild.sync fails the task with States.TaskFailed and the build as the Cause.
      throw new IntegrationError("States.TaskFailed", JSON.stringify({ Build: finish(status === "SUCCEEDED" ? "FAILED" : status) }));
    };

    try {
      const workspace = join(dir, "src");
      const home = join(dir, "home");
      const tmp = join(dir, "tmp");
      for (const d of [home, tmp]) mkdirSync(d);

      log(`[Container] ${started.toISOString()} Entering phase DOWNLOAD_SOURCE\n`);
      const [bucket, ...rest] = request.SourceLocationOverride.split("/");
      const source = options.store.path(bucket!, rest.join("/"));
      const folder = request.SourceLocationOverride.endsWith("/");
      if (!existsSync(source) || (folder ? !statSync(source).isDirectory() : !statSync(source).isFile())) {
        fail("DOWNLOAD_SOURCE", "FAILED", "CLIENT_ERROR", `no source at s3://${request.SourceLocationOverride}`);
      }
      if (folder) {
        cpSync(source, workspace, { recursive: true, verbatimSymlinks: true });
      } else {
        const refused = extractZip(readFileSync(source), workspace, maxArtifactBytes);
        if (refused) fail("DOWNLOAD_SOURCE", "FAILED", "CLIENT_ERROR", `the source ZIP at s3://${request.SourceLocationOverride} ${refused}`);
      }
      phases.push({ PhaseType: "DOWNLOAD_SOURCE", PhaseStatus: "SUCCEEDED" });

      const env: Record<string, string> = {
        PATH: SAFE_PATH,
        HOME: home,
        TMPDIR: tmp,
        LANG: "C.UTF-8",
        CODEBUILD_BUILD_ID: buildId,
        CODEBUILD_SRC_DIR: workspace,
        CODEBUILD_START_TIME: String(started.getTime()),
        ...variables,
      };
      const limitMs = Math.min(request.TimeoutInMinutesOverride * 60_000, options.maxWallClockMs ?? Infinity);
      const deadline = Date.now() + limitMs;

      for (const phase of PHASE_ORDER) {
        const commands = buildspec.phases[phase]?.commands;
        if (!commands) continue;
        const phaseType = phase.toUpperCase();
        log(`[Container] Entering phase ${phaseType}\n`);
        for (const command of commands) {
          log(`[Container] Running command ${command}\n`);
          const outcome = await runCommand(entry, command, { cwd: workspace, env, timeoutMs: deadline - Date.now(), log });
          if (outcome === "timeout") {
            fail(phaseType, "TIMED_OUT", "BUILD_TIMED_OUT", `Build timed out after ${Math.round(limitMs / 1000)} seconds; the build's processes were killed`);
          }
          if (outcome === "destroyed") fail(phaseType, "STOPPED", "BUILD_STOPPED", "The build was stopped");
          if (outcome !== 0) {
            const shown = command.length > 200 ? `${command.slice(0, 200)}…` : command;
            fail(phaseType, "FAILED", "COMMAND_EXECUTION_ERROR", `Error while executing command: ${shown}. Reason: exit status ${outcome}`);
          }
        }
        phases.push({ PhaseType: phaseType, PhaseStatus: "SUCCEEDED" });
      }

      log("[Container] Entering phase UPLOAD_ARTIFACTS\n");
      const base = resolve(workspace, buildspec.artifacts["base-directory"] ?? ".");
      if (base !== workspace && !base.startsWith(`${workspace}${sep}`)) {
        fail("UPLOAD_ARTIFACTS", "FAILED", "CLIENT_ERROR", "base-directory is outside the source");
      }
      const zip = zipDirectory(base, log, maxArtifactBytes);
      if (!zip) fail("UPLOAD_ARTIFACTS", "FAILED", "CLIENT_ERROR", `the artifact exceeds ${maxArtifactBytes} bytes`);
      const { Location, Path, Name } = request.ArtifactsOverride;
      const target = options.store.path(Location, `${Path}/${Name}`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, zip!);
      const sha256 = createHash("sha256").update(zip!).digest("hex");
      phases.push({ PhaseType: "UPLOAD_ARTIFACTS", PhaseStatus: "SUCCEEDED" });
      log(`[Container] Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED (sha256 ${sha256})\n`);
      return { Build: finish("SUCCEEDED", { Location: `arn:aws:s3:::${Location}/${Path}/${Name}`, Sha256sum: sha256 }) };
    } finally {
      logClosed = true;
      closeSync(logFd);
      rmSync(dir, { recursive: true, force: true });
      if (active.get(deploymentId) === entry) active.delete(deploymentId);
    }
  }

  async function destroy(deploymentId: string): Promise<{ destroyed: number }> {
    let destroyed = 0;
    const entry = active.get(deploymentId);
    if (entry) {
      entry.stop = "destroyed";
      killGroup(entry.child);
      await entry.closed;
      rmSync(entry.dir, { recursive: true, force: true });
      destroyed++;
    }
    // A sandbox left by a process that died mid-build.
    if (existsSync(sandboxRoot)) {
      for (const name of readdirSync(sandboxRoot)) {
        if (name.startsWith(`${deploymentId}-`) && join(sandboxRoot, name) !== entry?.dir) {
          rmSync(join(sandboxRoot, name), { recursive: true, force: true });
          destroyed++;
        }
      }
    }
    return { destroyed };
  }

  return {
    startBuildSync,
    destroy,
    running: () => [...active.keys()],
    buildEnvironments: { destroy: ({ deploymentId }) => destroy(deploymentId) },
  };
}

/** Kills the command's whole process group, including children still running after it exited. */
function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Runs one command in its own process group; resolves its exit status, or why it was killed. */
async function runCommand(
  entry: ActiveBuild,
  command: string,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; log: (chunk: Buffer | string) => void },
): Promise<number | "timeout" | "destroyed"> {
  if (entry.stop === "destroyed") return "destroyed";
  if (options.timeoutMs <= 0) return "timeout";
  const child = spawn("/bin/sh", ["-e", "-c", command], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  entry.child = child;
  child.stdout.on("data", options.log);
  child.stderr.on("data", options.log);
  const closed = once(child, "close").catch(() => [1, null]);
  entry.closed = closed;
  const timer = setTimeout(() => {
    entry.stop ??= "timeout";
    killGroup(child);
  }, options.timeoutMs);
  try {
    const [code] = (await closed) as [number | null, NodeJS.Signals | null];
    if (entry.stop) return entry.stop;
    return code ?? 1;
  } finally {
    clearTimeout(timer);
    // A command's background children die with it.
    killGroup(child);
  }
}

const ZIP_ENTRY_SEGMENT = /^(?!\.\.?$)[^\\\0:]+$/;

/**
 * Extracts a source ZIP into `dir`, as CodeBuild's DOWNLOAD_SOURCE does: entries are regular files
 * and folders under `dir` (no absolute names, no `..`, no backslashes), at most `maxBytes`
 * uncompressed in all. Returns why it refused, or undefined.
 */
function extractZip(zip: Uint8Array, dir: string, maxBytes: number): string | undefined {
  let total = 0;
  let refused: string | undefined;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, {
      filter: (file) => {
        const segments = file.name.replace(/\/$/, "").split("/");
        if (file.name.startsWith("/") || !segments.every((segment) => ZIP_ENTRY_SEGMENT.test(segment))) refused ??= `has an entry outside its root: ${JSON.stringify(file.name)}`;
        total += file.originalSize;
        if (total > maxBytes) refused ??= `extracts to more than ${maxBytes} bytes`;
        return refused === undefined;
      },
    });
  } catch {
    return "is not a valid ZIP archive";
  }
  if (refused) return refused;
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(entries)) {
    const path = join(dir, ...name.split("/"));
    if (name.endsWith("/")) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  return undefined;
}

/** Zips a directory deterministically (sorted, fixed times). Symlinks are skipped, never followed. */
function zipDirectory(base: string, log: (text: string) => void, maxBytes: number): Uint8Array | undefined {
  const files: Zippable = {};
  let total = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const key = relative(base, path).split(sep).join("/");
      if (stat.isSymbolicLink()) {
        log(`[Container] Skipping symbolic link ${key}\n`);
      } else if (stat.isDirectory()) {
        walk(path);
      } else if (stat.isFile()) {
        total += stat.size;
        if (total > maxBytes) throw new RangeError("artifact too large");
        files[key] = [readFileSync(path), { mtime: FIXED_ZIP_TIME }];
      }
    }
  };
  try {
    if (existsSync(base)) walk(base);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  return zipSync(files, { level: 6, mtime: FIXED_ZIP_TIME });
}
