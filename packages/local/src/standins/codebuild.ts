import { createHash, randomUUID } from "node:crypto";
import {
  closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync,
} from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { BuildEnvironmentPort } from "@bulkhead/core/deployments/ports";
import { extractZip, zipDirectory } from "../zip.ts";
import { IntegrationError, parseStartBuild, PHASE_ORDER } from "./codebuild-request.ts";
import type { LocalLogGroups } from "./logs.ts";
import type { LocalObjectStore } from "./object-store.ts";
import { BuildCommands } from "./process-group.ts";

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

const SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

type ActiveBuild = { dir: string; commands: BuildCommands };

export function codeBuildStandIn(options: CodeBuildStandInOptions): CodeBuildStandIn {
  const sandboxRoot = resolve(options.sandboxRoot);
  const maxLogBytes = options.maxLogBytes ?? 1024 * 1024;
  const maxArtifactBytes = options.maxArtifactBytes ?? 256 * 1024 * 1024;
  const active = new Map<string, ActiveBuild>();

  async function startBuildSync(raw: unknown): Promise<{ Build: BuildRecord }> {
    const { request, buildspec } = parseStartBuild(raw);
    const variables = Object.fromEntries(request.EnvironmentVariablesOverride.map((v) => [v.Name, v.Value]));
    const deploymentId = variables.BULKHEAD_DEPLOYMENT ?? request.IdempotencyToken;
    if (active.has(deploymentId)) throw new IntegrationError("CodeBuild.InvalidInputException", "a build of this deployment is already running");

    const buildId = `${request.ProjectName}:${randomUUID()}`;
    const started = new Date();
    const { GroupName, StreamName } = request.LogsConfigOverride.CloudWatchLogs;
    const phases: Phase[] = [{ PhaseType: "SUBMITTED", PhaseStatus: "SUCCEEDED" }, { PhaseType: "PROVISIONING", PhaseStatus: "SUCCEEDED" }];
    mkdirSync(sandboxRoot, { recursive: true });
    const dir = mkdtempSync(join(sandboxRoot, `${deploymentId}-`));
    const entry: ActiveBuild = { dir, commands: new BuildCommands() };
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
          const outcome = await entry.commands.run(command, { cwd: workspace, env, timeoutMs: deadline - Date.now(), log });
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
      const zip = zipDirectory(base, { maxBytes: maxArtifactBytes, onSymlink: (name) => log(`[Container] Skipping symbolic link ${name}\n`) });
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
      await entry.commands.destroy();
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
