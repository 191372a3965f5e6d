import { request } from "node:http";
import type { MemberRole, PlatformRole } from "@bulkhead/core/auth/principal";
import { BASE_DOMAIN } from "./runtime.ts";
import type { DevIssuer } from "./issuer.ts";

export type Reply = { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any };

export type CallOptions = {
  token?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
};

/**
 * A client for the offline gateway that addresses orgs by hostname (as API Gateway's custom
 * domain would), plus dev tokens for every kind of principal. Used by tests and the bench.
 */
export function gatewayClient(port: number, issuer: DevIssuer) {
  const call = (host: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { host: `${host}:${port}`, ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Buffer | undefined = options.rawBody;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    return new Promise((resolve, reject) => {
      // A connection per call: Node's global agent keeps sockets alive, and one the gateway closed
      // while the caller's event loop was busy (a test spawning a CLI synchronously) would answer
      // the next request with ECONNRESET.
      const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
  };

  const mint = issuer.mint;
  const tokens = {
    member: (org: string, role: MemberRole = "owner", sub = `${role}-of-${org}`) => mint({ sub, org, role }),
    platform: (role: PlatformRole = "platform-admin", sub = "ops") => mint({ sub, platform: true, role }),
    runtime: (org: string, app: string, sub = `runtime-${app}`) => mint({ sub, org, app, role: "runtime" }),
  };

  return {
    call,
    tokens,
    orgHost: (org: string) => `${org}.${BASE_DOMAIN}`,
    platformHost: BASE_DOMAIN,
  };
}

export type GatewayClient = ReturnType<typeof gatewayClient>;
