/**
 * The commands a README section tells a user to run, in order: every line of its `sh` blocks,
 * with comments dropped, classified by what it does to a stage.
 */
export type DeployCommand = {
  line: string;
  kind: "secret-set" | "dev" | "deploy" | "preflight" | "other";
  /** The `--stage` it names, if any. */
  stage?: string;
  /** For `sst secret set`: the secret's name. */
  secret?: string;
};

/** The text from a `## ` heading to the next one. */
export function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

export function deployCommands(text: string): DeployCommand[] {
  const blocks = [...text.matchAll(/^\s*```sh\n([\s\S]*?)^\s*```/gm)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, " ").split("\n"))
    .map((line) => line.replace(/(^|\s)#\s.*$/, "").trim())
    .filter(Boolean)
    .map((line) => {
      const stage = /--stage[ =](\S+)/.exec(line)?.[1];
      const secret = /\bsst secret set (\S+)/.exec(line)?.[1];
      const kind = secret ? "secret-set"
        : /\bsst dev\b/.test(line) ? "dev"
        : /\bsst deploy\b/.test(line) ? "deploy"
        : /\bnpm run preflight\b/.test(line) ? "preflight"
        : "other";
      return { line, kind, ...(stage ? { stage } : {}), ...(secret ? { secret } : {}) };
    });
}

/**
 * What a first `sst dev` or `sst deploy` would stop at, following these commands in order: a run
 * without `--stage` (SST would name the stage after the user), a stage name the platform refuses,
 * a secret the stage links that is not set before the run, no preflight of the stage before it.
 */
export function setupGaps(commands: DeployCommand[], secrets: readonly string[], stageProblem: (stage: string) => string | undefined): string[] {
  const gaps: string[] = [];
  commands.forEach((command, index) => {
    if (command.kind !== "dev" && command.kind !== "deploy") return;
    if (!command.stage) return void gaps.push(`"${command.line}" runs without --stage`);
    const problem = stageProblem(command.stage);
    if (problem) gaps.push(`"${command.line}": ${problem}`);
    const before = commands.slice(0, index).filter((c) => c.stage === command.stage);
    const set = new Set(before.filter((c) => c.kind === "secret-set").map((c) => c.secret));
    for (const secret of secrets) if (!set.has(secret)) gaps.push(`"${command.line}" runs before "sst secret set ${secret} … --stage ${command.stage}"`);
    if (!before.some((c) => c.kind === "preflight")) gaps.push(`"${command.line}" runs before "npm run preflight -- --stage ${command.stage}"`);
  });
  return gaps;
}
