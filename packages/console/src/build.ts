import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, version as esbuildVersion } from "esbuild";
import type { MemberRole } from "@bulkhead/core/auth/principal";
import { routes } from "@bulkhead/core/routes";
import type { RouteDef } from "@bulkhead/core/routes/types";
import { CONSOLE_PATH } from "./settings.ts";

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const UI = join(PACKAGE_ROOT, "src/ui");
export const ASSETS_PREFIX = "assets/";

/**
 * The least member role of every org route, from the route table: the page shows an action only
 * to a role its route admits (the API refuses anyway). Built in, so the bundle carries no schemas.
 */
export function memberRoles(): Record<string, MemberRole> {
  const roles: Record<string, MemberRole> = {};
  for (const route of routes as readonly RouteDef[]) {
    if (route.host === "org" && "member" in route.access) roles[route.id] = route.access.member;
  }
  return roles;
}

export type ConsoleBuild = { dir: string; files: { name: string; bytes: number; gzipBytes: number }[] };

/** Bundles the page into `outDir`: hashed, minified assets and the index.html that names them. */
export async function buildConsole(outDir: string): Promise<ConsoleBuild> {
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(UI, "main.tsx")],
    outdir: join(outDir, ASSETS_PREFIX),
    entryNames: "[name]-[hash]",
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    define: { __MEMBER_ROLES__: JSON.stringify(memberRoles()) },
    metafile: true,
    legalComments: "none",
    logLevel: "silent",
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => relative(join(outDir, ASSETS_PREFIX), file));
  const script = outputs.find((name) => name.endsWith(".js"))!;
  const style = outputs.find((name) => name.endsWith(".css"));
  const asset = (name: string) => `${CONSOLE_PATH}/${ASSETS_PREFIX}${name}`;
  writeFileSync(join(outDir, "index.html"), [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<link rel="icon" href="data:,"><title>Bulkhead console</title>`,
    style ? `<link rel="stylesheet" href="${asset(style)}">` : "",
    `<script type="module" src="${asset(script)}"></script>`,
    `</head><body><main id="console"><noscript>The console needs JavaScript.</noscript></main></body></html>`,
    "",
  ].join(""));
  const files = ["index.html", ...outputs.map((name) => `${ASSETS_PREFIX}${name}`)].map((name) => {
    const body = readFileSync(join(outDir, name));
    return { name, bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
  });
  return { dir: outDir, files };
}

/** What the build depends on: the page's sources, the route roles and the bundler's version. */
function sourceHash(): string {
  const hash = createHash("sha256").update(esbuildVersion).update(JSON.stringify(memberRoles()));
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(path.slice(UI.length)).update(readFileSync(path));
    }
  };
  walk(UI);
  return hash.digest("hex").slice(0, 16);
}

/**
 * The built console for the current sources, building it once into `packages/console/dist/<hash>`
 * (a fresh clone builds on first start). Concurrent starts each build aside and the first rename wins.
 */
export async function consoleAssets(distRoot = join(PACKAGE_ROOT, "dist")): Promise<string> {
  const dir = join(distRoot, sourceHash());
  if (existsSync(join(dir, "index.html"))) return dir;
  const aside = join(distRoot, `.build-${randomBytes(6).toString("hex")}`);
  try {
    await buildConsole(aside);
    try {
      renameSync(aside, dir);
    } catch (error) {
      if (!existsSync(join(dir, "index.html"))) throw error;
    }
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
  return dir;
}
