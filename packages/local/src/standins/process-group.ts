import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

export type CommandOptions = { cwd: string; env: Record<string, string>; timeoutMs: number; log: (chunk: Buffer | string) => void };

/** A command's exit status, or why it was killed. */
export type CommandOutcome = number | "timeout" | "destroyed";

/** Kills the command's whole process group, including children still running after it exited. */
function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** One build's commands, run one after another, each in a process group of its own. */
export class BuildCommands {
  private child?: ChildProcess;
  private closed?: Promise<unknown>;
  private stop?: "timeout" | "destroyed";

  /** Runs one command; resolves its exit status, or why it was killed. */
  async run(command: string, options: CommandOptions): Promise<CommandOutcome> {
    if (this.stop === "destroyed") return "destroyed";
    if (options.timeoutMs <= 0) return "timeout";
    const child = spawn("/bin/sh", ["-e", "-c", command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout.on("data", options.log);
    child.stderr.on("data", options.log);
    const closed = once(child, "close").catch(() => [1, null]);
    this.closed = closed;
    const timer = setTimeout(() => {
      this.stop ??= "timeout";
      killGroup(child);
    }, options.timeoutMs);
    try {
      const [code] = (await closed) as [number | null, NodeJS.Signals | null];
      if (this.stop) return this.stop;
      return code ?? 1;
    } finally {
      clearTimeout(timer);
      // A command's background children die with it.
      killGroup(child);
    }
  }

  /** Kills the running command's group and waits until it has closed; no command runs after it. */
  async destroy(): Promise<void> {
    this.stop = "destroyed";
    killGroup(this.child);
    await this.closed;
  }
}
