import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { unzipSync, zipSync, type Zippable } from "fflate";

/** Fixed times make the ZIP of the same files the same bytes, so its checksum names its content. */
const FIXED_ZIP_TIME = new Date("1980-01-01T00:00:00Z");

/** The one ZIP format written offline: entries in the order given, fixed times, deflate level 6. */
export function zipFiles(files: Record<string, Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const [name, bytes] of Object.entries(files)) entries[name] = [bytes, { mtime: FIXED_ZIP_TIME }];
  return zipSync(entries, { level: 6, mtime: FIXED_ZIP_TIME });
}

/**
 * Zips a directory deterministically (sorted, fixed times); undefined when its files add up to
 * more than `maxBytes`. Symlinks are skipped, never followed. A missing directory zips to nothing.
 */
export function zipDirectory(base: string, options: { maxBytes: number; onSymlink: (name: string) => void }): Uint8Array | undefined {
  const files: Record<string, Uint8Array> = {};
  let total = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const key = relative(base, path).split(sep).join("/");
      if (stat.isSymbolicLink()) {
        options.onSymlink(key);
      } else if (stat.isDirectory()) {
        walk(path);
      } else if (stat.isFile()) {
        total += stat.size;
        if (total > options.maxBytes) throw new RangeError("artifact too large");
        files[key] = readFileSync(path);
      }
    }
  };
  try {
    if (existsSync(base)) walk(base);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  return zipFiles(files);
}

const ZIP_ENTRY_SEGMENT = /^(?!\.\.?$)[^\\\0:]+$/;

/**
 * Extracts a ZIP into `dir`, as CodeBuild's DOWNLOAD_SOURCE does: entries are regular files and
 * folders under `dir` (no absolute names, no `..`, no backslashes), at most `maxBytes`
 * uncompressed in all. Returns why it refused, or undefined.
 */
export function extractZip(zip: Uint8Array, dir: string, maxBytes: number): string | undefined {
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
