import { parseArgs } from "node:util";
import { loadDevIssuer } from "../issuer.ts";

/** Prints one dev token signed by the same key `npm start` serves (same data dir). */
const { values } = parseArgs({
  options: {
    org: { type: "string" },
    sub: { type: "string", default: "dev-user" },
    role: { type: "string" },
    app: { type: "string" },
    ttl: { type: "string", default: "3600" },
    platform: { type: "boolean", default: false },
    runtime: { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(2);
}

const claims: Record<string, unknown> = { sub: values.sub };
if (values.platform) {
  claims.platform = true;
  claims.role = values.role ?? "platform-admin";
} else if (values.runtime) {
  if (!values.org || !values.app) fail("--runtime needs --org and --app");
  Object.assign(claims, { org: values.org, app: values.app, role: "runtime" });
} else {
  if (!values.org) fail("--org is required (or --platform)");
  Object.assign(claims, { org: values.org, role: values.role ?? "viewer" });
}
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) fail("--ttl must be a positive number of seconds");

const issuer = loadDevIssuer(process.env.BULKHEAD_DATA_DIR ?? ".bulkhead");
console.log(issuer.mint(claims, { ttlSeconds }));
