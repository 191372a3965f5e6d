import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { zipFiles } from "../zip.ts";

/** A source version as it is uploaded: one ZIP, named by its SHA-256. */
export type SourceArchive = { zip: Uint8Array; sha256: string; files: number; skipped: string[] };

type Rules = { base: string; rules: Ignore };

/**
 * Zips `dir` as git would see it: `.gitignore` files (in `dir` and below, each for its own
 * subtree, with git's rules via the `ignore` library) and `.git/` are left out; symbolic links are
 * skipped (never followed), as the build stand-in and CodeBuild do not need them to stay links.
 */
export function archiveDirectory(dir: string): SourceArchive {
  const files: Record<string, Uint8Array> = {};
  const skipped: string[] = [];
  let count = 0;
  const walk = (current: string, inherited: readonly Rules[]) => {
    const gitignore = join(current, ".gitignore");
    const rules = existsSync(gitignore) ? [...inherited, { base: current, rules: ignore().add(readFileSync(gitignore, "utf8")) }] : inherited;
    for (const name of readdirSync(current).sort()) {
      if (name === ".git") continue;
      const path = join(current, name);
      const stat = lstatSync(path);
      const ignored = rules.some(({ base, rules: r }) => r.ignores(relative(base, path).split(sep).join("/") + (stat.isDirectory() ? "/" : "")));
      if (ignored) continue;
      const key = relative(dir, path).split(sep).join("/");
      if (stat.isSymbolicLink()) skipped.push(key);
      else if (stat.isDirectory()) walk(path, rules);
      else if (stat.isFile()) {
        files[key] = readFileSync(path);
        count++;
      }
    }
  };
  walk(dir, []);
  const zip = zipFiles(files);
  return { zip, sha256: createHash("sha256").update(zip).digest("hex"), files: count, skipped };
}
