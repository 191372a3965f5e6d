import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { ListHostedZonesByNameCommand, type Route53Client } from "@aws-sdk/client-route-53";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { readStageSettings, STAGE_SECRETS, stageNameProblem, suggestedStageName, type StageSettings } from "@bulkhead/core/stage-settings";

/**
 * What a first `sst dev` or `sst deploy` of a stage needs from outside the repository, checked
 * before it runs (`npm run preflight -- --stage <name>`): credentials, the stage name, the
 * stage's secrets (through SST's own listing), its environment, the base domain's hosted zone
 * and the identity provider. Every AWS and HTTP call goes through what the caller passes in,
 * so the test answers them from recordings.
 */
export type CheckResult = { check: string; status: "pass" | "fail" | "skip"; detail: string; fix?: string };

export type CommandResult = { exitCode: number; stdout: string; stderr: string };

export type PreflightDeps = {
  /** The stage's environment as SST sees it: the shell's, over `.env.<stage>`, over `.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Runs a command in the project root; never rejects for a non-zero exit. */
  run: (command: string, args: string[]) => Promise<CommandResult>;
  fetch: typeof globalThis.fetch;
  sts: STSClient;
  route53: Route53Client;
};

const pass = (check: string, detail: string): CheckResult => ({ check, status: "pass", detail });
const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: "fail", detail, fix });
const skip = (check: string, detail: string): CheckResult => ({ check, status: "skip", detail });

export async function preflight(stage: string, deps: PreflightDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const where = await credentials(deps.sts);
  results.push(where.result);

  const stageProblem = stageNameProblem(stage, where.location);
  results.push(stageProblem
    ? fail("stage name", stageProblem, `name the stage yourself, e.g. --stage ${suggestedStageName(stage)}, in every command: sst secret set, npm run preflight, sst dev, sst deploy`)
    : pass("stage name", `"${stage}": platform resources are named bulkhead-${stage}-…`));

  results.push(...(stageProblem ? [skip("secrets", "needs a valid stage name")] : await secrets(stage, deps.run)));

  const { settings, problems } = readStageSettings(deps.env);
  results.push(problems.length
    ? fail("environment", problems.join("; "), `set them in .env.${stage} next to sst.config.ts, or in the shell (infra/README.md, step 4)`)
    : pass("environment", `base domain ${settings.baseDomain}, issuer ${settings.auth.issuer}, audience ${settings.auth.audience}`));

  results.push(settings.apiDomain ? await hostedZone(settings, deps.route53) : skip("hosted zone", "needs BULKHEAD_BASE_DOMAIN"));
  results.push(...(settings.auth.issuer && settings.auth.jwksUri
    ? await identityProvider(settings.auth, deps.fetch)
    : [skip("identity provider", "needs BULKHEAD_AUTH_ISSUER and BULKHEAD_AUTH_JWKS_URI")]));
  return results;
}

async function credentials(sts: STSClient): Promise<{ result: CheckResult; location?: { account: string; region: string } }> {
  const check = "AWS credentials";
  const fix = "configure credentials and a region for the target account (aws configure, or AWS_PROFILE and AWS_REGION)";
  try {
    const region = await sts.config.region();
    const { Account, Arn } = await sts.send(new GetCallerIdentityCommand({}));
    if (!Account) return { result: fail(check, "STS named no account", fix) };
    return { result: pass(check, `${Arn ?? "caller"} in account ${Account}, region ${region}`), location: { account: Account, region } };
  } catch (error) {
    return { result: fail(check, (error as Error).message, fix) };
  }
}

/** `sst secret list` prints `Name=value` lines (a dotenv file): only the names and lengths are kept. */
function listedSecretLengths(stdout: string): Map<string, number> {
  const lengths = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line.trim());
    if (match) lengths.set(match[1]!, match[2]!.length);
  }
  return lengths;
}

async function secrets(stage: string, run: PreflightDeps["run"]): Promise<CheckResult[]> {
  const listing = await run("npx", ["sst", "secret", "list", "--stage", stage]);
  if (listing.exitCode !== 0) {
    return [fail("secrets", `npx sst secret list --stage ${stage} failed: ${lastLine(listing.stderr)}`,
      "run npx sst install first, with AWS credentials for the target account")];
  }
  const own = listedSecretLengths(listing.stdout);
  // A fallback value (`sst secret set … --fallback`) serves every stage that has none of its own.
  const fallback = STAGE_SECRETS.every((s) => own.has(s.name)) ? new Map<string, number>()
    : await run("npx", ["sst", "secret", "list", "--fallback"]).then((r) => (r.exitCode === 0 ? listedSecretLengths(r.stdout) : new Map<string, number>()));
  return STAGE_SECRETS.map(({ name, minLength, generate, purpose }) => {
    const check = `secret ${name}`;
    const fix = `npx sst secret set ${name} ${generate} --stage ${stage}`;
    const length = own.get(name) ?? fallback.get(name);
    if (length === undefined) return fail(check, `not set for stage ${stage} (${purpose}); SST stops a deploy while a linked secret has no value`, fix);
    if (length < minLength) return fail(check, `shorter than ${minLength} characters`, fix);
    return pass(check, own.has(name) ? `set for stage ${stage}` : "set by its fallback value");
  });
}

const lastLine = (text: string) => text.trim().split("\n").at(-1)?.trim().slice(0, 300) || "no output";

/**
 * SST puts the certificate's validation records and the API aliases in the public zone that holds
 * `api.<base domain>`: the zone of that name or of its nearest parent, or BULKHEAD_HOSTED_ZONE_ID.
 */
async function hostedZone(settings: Pick<StageSettings, "apiDomain" | "hostedZoneId">, route53: Route53Client): Promise<CheckResult> {
  const check = "hosted zone";
  const labels = settings.apiDomain.split(".");
  const names = labels.slice(0, -1).map((_, i) => labels.slice(i).join("."));
  const found: { name: string; ids: string[]; private: number }[] = [];
  try {
    for (const name of names) {
      // Zones come sorted by name from DNSName on: any of that exact name are on the first page.
      const { HostedZones: zones = [] } = await route53.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 100 }));
      const exact = zones.filter((zone) => zone.Name === `${name}.`);
      const ids = exact.filter((zone) => !zone.Config?.PrivateZone).map((zone) => zone.Id!.replace(/^\/hostedzone\//, ""));
      found.push({ name, ids, private: exact.length - ids.length });
      if (ids.length && !settings.hostedZoneId) break;
    }
  } catch (error) {
    return fail(check, `Route 53 ListHostedZonesByName failed: ${(error as Error).message}`, "use credentials allowed route53:ListHostedZonesByName in the target account");
  }
  if (settings.hostedZoneId) {
    const chosen = found.find((zone) => zone.ids.includes(settings.hostedZoneId!));
    const all = found.flatMap((zone) => zone.ids.map((id) => `${id} (${zone.name})`));
    return chosen
      ? pass(check, `${settings.hostedZoneId} (${chosen.name}, public) holds ${settings.apiDomain}, from BULKHEAD_HOSTED_ZONE_ID`)
      : fail(check, `BULKHEAD_HOSTED_ZONE_ID ${settings.hostedZoneId} is not a public zone holding ${settings.apiDomain}`, all.length ? `set BULKHEAD_HOSTED_ZONE_ID to one of: ${all.join(", ")}` : `create a public hosted zone for ${names.at(-1)} (or a subdomain of it) and delegate the domain to its name servers`);
  }
  const nearest = found.find((zone) => zone.ids.length);
  if (!nearest) {
    const privateOnly = found.filter((zone) => zone.private).map((zone) => zone.name);
    return fail(check, `no public hosted zone in this account holds ${settings.apiDomain}${privateOnly.length ? ` (only private ones: ${privateOnly.join(", ")})` : ""}`,
      `create a public hosted zone for ${names.at(-1)} (or a subdomain of it) in Route 53 and delegate the domain to its name servers`);
  }
  if (nearest.ids.length > 1) return fail(check, `${nearest.ids.length} public zones are named ${nearest.name}`, `set BULKHEAD_HOSTED_ZONE_ID to the delegated one of: ${nearest.ids.join(", ")}`);
  return pass(check, `${nearest.ids[0]} (${nearest.name}, public) holds ${settings.apiDomain}`);
}

async function fetchJson(fetch: PreflightDeps["fetch"], url: string): Promise<{ json?: any; problem?: string }> {
  try {
    const response = await fetch(url, { headers: { accept: "application/json" }, redirect: "error", signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return { problem: `GET ${url} answered ${response.status}` };
    return { json: await response.json() };
  } catch (error) {
    return { problem: `GET ${url} failed: ${(error as Error).message}` };
  }
}

/**
 * The issuer's discovery document (OpenID Connect Discovery 1.0, section 4) must name exactly the
 * configured issuer and JWKS; the JWKS must hold an RSA signing key for RS256, the only algorithm
 * the platform's verifier accepts.
 */
async function identityProvider(auth: Pick<StageSettings["auth"], "issuer" | "jwksUri">, fetch: PreflightDeps["fetch"]): Promise<CheckResult[]> {
  const discoveryUrl = `${auth.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const discovery = await fetchJson(fetch, discoveryUrl);
  const issuerCheck = ((): CheckResult => {
    const check = "identity provider issuer";
    if (discovery.problem) return fail(check, discovery.problem, `check BULKHEAD_AUTH_ISSUER: the provider must serve ${discoveryUrl}`);
    const document = discovery.json ?? {};
    if (document.issuer !== auth.issuer) {
      return fail(check, `the discovery document names issuer ${JSON.stringify(document.issuer)}, not ${auth.issuer}; tokens would be refused`, `set BULKHEAD_AUTH_ISSUER to exactly ${document.issuer} (trailing slash included)`);
    }
    if (URL.parse(document.jwks_uri)?.protocol !== "https:") return fail(check, `its jwks_uri ${JSON.stringify(document.jwks_uri)} is not https`, "serve the provider's keys over https");
    if (document.jwks_uri !== auth.jwksUri) return fail(check, `its jwks_uri is ${document.jwks_uri}, not ${auth.jwksUri}`, `set BULKHEAD_AUTH_JWKS_URI to ${document.jwks_uri}`);
    return pass(check, `${auth.issuer} names itself and ${auth.jwksUri}`);
  })();

  const check = "identity provider keys";
  const jwks = await fetchJson(fetch, auth.jwksUri);
  if (jwks.problem) return [issuerCheck, fail(check, jwks.problem, `check BULKHEAD_AUTH_JWKS_URI: the provider's keys must be served there over https`)];
  const keys: any[] = Array.isArray(jwks.json?.keys) ? jwks.json.keys : [];
  const signing = keys.filter((key) => key?.kty === "RSA" && (key.alg === undefined || key.alg === "RS256") && key.use !== "enc" && typeof key.kid === "string" && key.n && key.e);
  return [issuerCheck, signing.length
    ? pass(check, `${signing.length} RS256 signing key(s): ${signing.map((key) => key.kid).join(", ")}`)
    : fail(check, `no RSA signing key for RS256 with a kid among ${keys.length} key(s)`, "have the provider sign access tokens with RS256; the platform verifies RS256 only")];
}

/** The stage's environment as SST loads it: the shell's variables over `.env.<stage>` over `.env`. */
export function stageEnvironment(root: string, stage: string, shell: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const file = (name: string) => (existsSync(join(root, name)) ? parseEnv(readFileSync(join(root, name), "utf8")) : {});
  return { ...file(".env"), ...file(`.env.${stage}`), ...shell };
}

/** One line per check, with the fix under each failure; never a secret's value. */
export function report(stage: string, results: CheckResult[]): string {
  const mark = { pass: "✓", fail: "✗", skip: "-" } as const;
  const lines = [`Preflight of stage "${stage}"`];
  for (const result of results) {
    lines.push(`  ${mark[result.status]} ${result.check}: ${result.status === "skip" ? `skipped (${result.detail})` : result.detail}`);
    if (result.fix) lines.push(`      fix: ${result.fix}`);
  }
  const failed = results.filter((r) => r.status !== "pass").length;
  lines.push(failed ? `${failed} of ${results.length} checks did not pass: fix them before the first deploy of ${stage}.` : `All ${results.length} checks pass: ready for the first deploy of ${stage}.`);
  return lines.join("\n");
}
