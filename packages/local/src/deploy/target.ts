import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Api } from "./api.ts";

/** The options every API client CLI shares: which org's API, which app, whose token. */
export const API_OPTIONS = {
  org: { type: "string" },
  app: { type: "string" },
  token: { type: "string" },
  url: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Parses the arguments; the API is `--url` or BULKHEAD_URL, else the offline gateway on PORT
 * (default 4000) at the org's own host, `http://<org>.localhost:<port>`. The token is `--token`
 * or BULKHEAD_TOKEN; the org and app may also come from BULKHEAD_ORG and BULKHEAD_APP.
 */
export function parseApiArgs<const O extends ParseArgsConfig["options"]>(args: string[], extra: O, env: NodeJS.ProcessEnv = process.env) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: { ...API_OPTIONS, ...extra }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const org = (values.org as string | undefined) ?? env.BULKHEAD_ORG;
  const appId = (values.app as string | undefined) ?? env.BULKHEAD_APP;
  const token = (values.token as string | undefined) ?? env.BULKHEAD_TOKEN;
  if (values.help) return { help: true as const, values };
  if (!org || !/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/.test(org)) throw new UsageError("--org <org slug> is required (or BULKHEAD_ORG)");
  if (!appId || !/^[a-z2-7]{26}$/.test(appId)) throw new UsageError("--app <app id> is required (or BULKHEAD_APP)");
  if (!token) throw new UsageError("a token is required: --token or BULKHEAD_TOKEN (npm run -s token -- --org <org> --sub <you> --role developer)");
  const baseUrl = ((values.url as string | undefined) ?? env.BULKHEAD_URL ?? `http://${org}.localhost:${env.PORT ?? 4000}`).replace(/\/$/, "");
  const api: Api = { baseUrl, token };
  return { help: false as const, values, org, appId, api };
}
