import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { problemResponse } from "@bulkhead/core/http/problem-response";
import { problems } from "@bulkhead/core/http/problems";
import { handlerFile, routes } from "@bulkhead/core/routes";
import type { RouteDef } from "@bulkhead/core/routes/types";
import { CONSOLE_HANDLER_FILE, CONSOLE_PATH, CONSOLE_ROUTES } from "@bulkhead/console/settings";
import { DEV_ISSUER_PATH_PREFIX, type DevSignIn } from "./dev-sign-in.ts";
import { lambdaContext } from "./lambda-context.ts";
import { matchPath } from "./match-path.ts";

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export type GatewayOptions = {
  /** Repository root, where `functions/` lives. */
  root: string;
  baseDomain: string;
  /** The dev issuer's JWKS, served on the platform host only. */
  jwks: object;
  /** The dev issuer's sign-in endpoints (authorize, token), on the platform host only. */
  signIn?: DevSignIn;
};

/** What a request invokes: a route of the table, or the console's function. */
type Target = { id: string; file: string; method: string; routeKey: string; params: Record<string, string> };

/**
 * The offline stand-in for API Gateway (HTTP API, payload 2.0): it turns each HTTP request into
 * the event API Gateway would send, with the request's Host (port dropped) as the custom domain
 * it matched, and invokes the same handler module the route's Lambda runs.
 */
export function createGateway(options: GatewayOptions): Server {
  const handlers = new Map<string, Promise<Handler>>();
  const load = (target: Target) => {
    let handler = handlers.get(target.id);
    if (!handler) {
      handler = import(pathToFileURL(join(options.root, target.file)).href).then((m) => m.handler as Handler);
      handlers.set(target.id, handler);
    }
    return handler;
  };

  return createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const url = new URL(req.url ?? "/", "http://gateway.invalid");
      const domainName = (req.headers.host ?? "").replace(/:\d+$/, "");
      if (req.method === "GET" && url.pathname === "/.well-known/jwks.json" && domainName === options.baseDomain) {
        return send(res, { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(options.jwks) });
      }
      let reading: Promise<Buffer | undefined> | undefined;
      const readOnce = () => (reading ??= readBody(req));
      if (domainName === options.baseDomain && options.signIn && url.pathname.startsWith(DEV_ISSUER_PATH_PREFIX)) {
        const body = await readOnce();
        if (body === undefined) return send(res, problemResponse(problems.tooLarge(MAX_REQUEST_BYTES), requestId));
        if (await options.signIn(req, res, url, body)) return;
      }
      const match = matchConsole(req.method ?? "", url.pathname) ?? matchRoute(req.method ?? "", url.pathname);
      if (!match) return send(res, problemResponse(problems.routeNotFound(), requestId));
      const body = await readOnce();
      if (body === undefined) return send(res, problemResponse(problems.tooLarge(MAX_REQUEST_BYTES), requestId));
      const event = toEvent(req, url, domainName, match, body, requestId);
      const handler = await load(match);
      send(res, await handler(event, lambdaContext(`bulkhead-offline-${match.id.replace(".", "-")}`, requestId)));
    } catch (error) {
      console.error("gateway: handler failed outside its error middleware", error);
      send(res, problemResponse(problems.internal(), requestId));
    }
  });
}

function matchRoute(method: string, path: string): Target | undefined {
  for (const route of routes as readonly RouteDef[]) {
    if (route.method !== method) continue;
    const params = matchPath(route.path, path);
    if (params) return { id: route.id, file: handlerFile(route), method, routeKey: `${route.method} ${route.path}`, params };
  }
  return undefined;
}

/** The console's two API routes (`GET /console`, `GET /console/{proxy+}`), as API Gateway matches them. */
function matchConsole(method: string, path: string): Target | undefined {
  if (method !== "GET" && method !== "HEAD") return undefined;
  const route = CONSOLE_ROUTES.find((r) => (r.path === CONSOLE_PATH ? path === CONSOLE_PATH : path.startsWith(`${CONSOLE_PATH}/`)));
  if (!route) return undefined;
  const params: Record<string, string> = route.path === CONSOLE_PATH ? {} : { proxy: path.slice(CONSOLE_PATH.length + 1) };
  return { id: "console.assets", file: CONSOLE_HANDLER_FILE, method, routeKey: `GET ${route.path}`, params };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  domainName: string,
  match: Target,
  body: Buffer,
  requestId: string,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const text = body.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(body);
  const routeKey = match.routeKey;
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(match.params).length ? match.params : undefined,
    body: body.length ? (isText ? text : body.toString("base64")) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
    requestContext: {
      accountId: "offline",
      apiId: "offline",
      domainName,
      domainPrefix: domainName.split(".")[0] ?? "",
      http: {
        method: match.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  const body = result.body ?? "";
  res.end(result.isBase64Encoded ? Buffer.from(body, "base64") : body);
}
