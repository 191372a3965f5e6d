import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { SingleBar } from "cli-progress";
import { createSource, getDeployment, postUploadForm, startDeployment, type Api } from "./api.ts";
import { archiveDirectory } from "./archive.ts";

export type DeployOptions = { api: Api; appId: string; dir: string; ref?: string; target?: string; timeoutMs: number; pollMs?: number };

type Output = { out: NodeJS.WritableStream; err: NodeJS.WritableStream; isTTY: boolean };

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
/** A ref the API accepts, unique per run and telling what it holds: `20261203t131500z-<sha256 prefix>`. */
const defaultRef = (sha256: string) => `${new Date().toISOString().replace(/[-:]|\.\d+/g, "").toLowerCase()}-${sha256.slice(0, 12)}`;

/** Packs a source ZIP of `dir` (respecting .gitignore) and uploads it through the API's presigned form. */
export async function uploadSource(options: Pick<DeployOptions, "api" | "appId" | "dir" | "ref">, io: Output): Promise<string> {
  if (!existsSync(options.dir) || !statSync(options.dir).isDirectory()) throw new Error(`--dir ${options.dir} is not a directory`);
  const archive = archiveDirectory(options.dir);
  const ref = options.ref ?? defaultRef(archive.sha256);
  io.out.write(`Packed ${archive.files} file${archive.files === 1 ? "" : "s"} of ${options.dir} into ${kib(archive.zip.length)} (sha256 ${archive.sha256})\n`);
  for (const skipped of archive.skipped) io.out.write(`  skipped symbolic link ${skipped}\n`);
  const { upload } = await createSource(options.api, options.appId, { ref, sha256: archive.sha256, size: archive.zip.length });
  const bar = io.isTTY ? new SingleBar({ format: "Uploading {bar} {percentage}% | {value}/{total} bytes", stream: io.err as NodeJS.WriteStream }) : undefined;
  bar?.start(archive.zip.length, 0);
  try {
    await postUploadForm(upload, archive.zip, (sent) => bar?.update(Math.min(sent, archive.zip.length)));
  } finally {
    bar?.stop();
  }
  io.out.write(`Uploaded source "${ref}" (${kib(archive.zip.length)})\n`);
  return ref;
}

/**
 * The whole deploy: upload, start the deployment, then follow it until it ends, printing each
 * status change with its step and the build log lines as the read model shows them. Resolves
 * the final deployment; the caller turns its status into the exit code.
 */
export async function deploy(options: DeployOptions, io: Output) {
  const ref = await uploadSource(options, io);
  const started = await startDeployment(options.api, options.appId, { source: { ref }, ...(options.target && { target: options.target }) }, randomUUID());
  io.out.write(`Deployment ${started.id} of "${ref}" to ${started.target.id}: ${started.status}\n`);
  const deadline = Date.now() + options.timeoutMs;
  let status = started.status as string;
  let printedLog = "";
  for (;;) {
    const deployment = await getDeployment(options.api, options.appId, started.id);
    if (deployment.status !== status) {
      status = deployment.status;
      io.out.write(`${new Date().toISOString()} ${status}\n`);
    }
    const log: string = deployment.buildLog?.excerpt ?? "";
    if (log.length > printedLog.length) {
      // The excerpt is the log's tail: print what is new since the last poll.
      const fresh = log.startsWith(printedLog) ? log.slice(printedLog.length) : log;
      for (const line of fresh.split("\n").filter(Boolean)) io.out.write(`  | ${line}\n`);
      printedLog = log;
    }
    if (TERMINAL.has(status)) return deployment;
    if (Date.now() > deadline) throw new Error(`deployment ${started.id} is still ${status} after ${options.timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
