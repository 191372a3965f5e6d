import { platformNames } from "./iam/names.ts";
import { SOURCE_MAX_BYTES_VARIABLE, SOURCE_UPLOAD_DEFAULTS } from "./sources/config.ts";

/**
 * What a deployed stage is configured by, outside the AWS account it deploys to: environment
 * variables (read by infra/stage.ts) and `sst.Secret` values (set with `npx sst secret set`).
 * `npm run preflight` checks the same rules before a first deploy; infra/README.md lists them.
 */
export type StageSettings = {
  baseDomain: string;
  /** `api.<base domain>`: the platform host. Org hosts are `<org>.api.<base domain>`. */
  apiDomain: string;
  /** A Route 53 hosted zone id, when the base domain's zone cannot be found by name. */
  hostedZoneId?: string;
  auth: { issuer: string; audience: string; jwksUri: string };
  /** The console's sign-in at the identity provider (authorization code + PKCE; packages/console/src/settings.ts). */
  console: { clientId: string; authorizationEndpoint: string; tokenEndpoint: string; scope: string };
  throttle: { rateLimit: number; burstLimit: number };
  /** The source upload form's size cap, in bytes (SOURCE_UPLOAD_DEFAULTS.maxBytes unless set). */
  sourceMaxBytes: number;
};

/**
 * Every `sst.Secret` the stage links, with what its readers require of the value. The contract
 * test checks this list against the secrets sst.config.ts links, and the README against it.
 */
export const STAGE_SECRETS = [
  { name: "CursorKey", minLength: 32, generate: `"$(openssl rand -base64 32)"`, purpose: "signs pagination cursors" },
  { name: "HostedTargetExternalId", minLength: 32, generate: `"$(openssl rand -hex 24)"`, purpose: "the hosted deploy target's ExternalId" },
] as const;

export type StageSecretName = (typeof STAGE_SECRETS)[number]["name"];

const DOMAIN = /^(?=.{4,200}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The stage's settings from its environment, with every problem found (each names its variable).
 * A setting with a problem is left empty, so a caller can still use the others.
 */
export function readStageSettings(env: Env): { settings: StageSettings; problems: string[] } {
  const problems: string[] = [];
  const value = (name: string) => env[name]?.trim() || undefined;
  const required = (name: string) => {
    const found = value(name);
    if (!found) problems.push(`${name} is not set (see infra/README.md)`);
    return found ?? "";
  };
  const httpsUrl = (name: string) => {
    const found = required(name);
    if (!found || URL.parse(found)?.protocol === "https:") return found;
    problems.push(`${name} must be an https URL, got "${found}"`);
    return "";
  };
  const noted = ({ number, problem }: Reading) => {
    if (problem) problems.push(problem);
    return number;
  };
  const positive = (name: string, fallback: number) => noted(positiveInteger(env, name, fallback));

  let baseDomain = required("BULKHEAD_BASE_DOMAIN").toLowerCase();
  if (baseDomain && !DOMAIN.test(baseDomain)) {
    problems.push(`BULKHEAD_BASE_DOMAIN is not a domain name: "${baseDomain}"`);
    baseDomain = "";
  }
  const settings: StageSettings = {
    baseDomain,
    apiDomain: baseDomain && `api.${baseDomain}`,
    hostedZoneId: value("BULKHEAD_HOSTED_ZONE_ID"),
    auth: {
      issuer: httpsUrl("BULKHEAD_AUTH_ISSUER"),
      audience: required("BULKHEAD_AUTH_AUDIENCE"),
      jwksUri: httpsUrl("BULKHEAD_AUTH_JWKS_URI"),
    },
    console: {
      clientId: required("BULKHEAD_CONSOLE_CLIENT_ID"),
      authorizationEndpoint: httpsUrl("BULKHEAD_AUTH_AUTHORIZATION_ENDPOINT"),
      tokenEndpoint: httpsUrl("BULKHEAD_AUTH_TOKEN_ENDPOINT"),
      scope: value("BULKHEAD_CONSOLE_SCOPE") ?? "openid",
    },
    throttle: {
      rateLimit: positive("BULKHEAD_THROTTLE_RATE", 200),
      burstLimit: positive("BULKHEAD_THROTTLE_BURST", 400),
    },
    sourceMaxBytes: noted(readSourceMaxBytes(env)),
  };
  return { settings, problems };
}

type Reading = { number: number; problem?: string };

/** A positive integer setting, `fallback` when unset. */
function positiveInteger(env: Env, name: string, fallback: number): Reading {
  const raw = env[name]?.trim() || undefined;
  const number = raw === undefined ? fallback : Number(raw);
  return Number.isInteger(number) && number > 0 ? { number } : { number, problem: `${name} must be a positive integer, got "${raw}"` };
}

/** The source upload cap: a stage's (above) and `npm start`'s, at most S3's own limit for one POST upload (5 GiB). */
export function readSourceMaxBytes(env: Env): Reading {
  const reading = positiveInteger(env, SOURCE_MAX_BYTES_VARIABLE, SOURCE_UPLOAD_DEFAULTS.maxBytes);
  if (reading.problem || reading.number <= 5 * 1024 ** 3) return reading;
  return { ...reading, problem: `${SOURCE_MAX_BYTES_VARIABLE} may be at most 5 GiB (S3's limit for a POST upload), got "${reading.number}"` };
}

/**
 * Why a stage name cannot be deployed, or undefined. The rule is platformNames' (every resource
 * name must fit); without `--stage`, `sst dev` names a personal stage after the user, which
 * often breaks it, so the answer says what to pass instead.
 */
export function stageNameProblem(stage: string, where: { account: string; region: string } = { account: "000000000000", region: "us-east-1" }): string | undefined {
  try {
    platformNames({ stage, ...where });
    return undefined;
  } catch (error) {
    return `${(error as Error).message}; pass a valid name with --stage (for example --stage ${suggestedStageName(stage)}), to sst dev too: without it SST names a personal stage after your user name`;
  }
}

/** A valid stage name close to `name`: lower case, other characters as `-`, a letter first. */
export function suggestedStageName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "").slice(0, 16).replace(/-+$/, "");
  return cleaned && isValidStage(cleaned) ? cleaned : `dev-${cleaned}`.replace(/-+$/, "");
}

function isValidStage(stage: string): boolean {
  try {
    platformNames({ stage, account: "000000000000", region: "us-east-1" });
    return true;
  } catch {
    return false;
  }
}
