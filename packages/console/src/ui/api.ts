import { session, signOut } from "./auth.ts";

/** An API refusal, as the problem+json said it: the page shows its title and detail. */
export class ApiProblem extends Error {
  constructor(readonly title: string, readonly detail: string | undefined, readonly status: number) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

type Options = { body?: unknown; headers?: Record<string, string> };

/** Every call is an ordinary API request on this origin, with the signed-in member's token. */
export async function call(method: string, path: string, options: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const token = session.value?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const reply = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  if (reply.ok) return reply;
  const problem = (reply.headers.get("content-type") ?? "").includes("json") ? await reply.json().catch(() => undefined) : undefined;
  if (reply.status === 401) signOut();
  throw new ApiProblem(problem?.title ?? "Request failed", problem?.detail ?? `The API answered ${reply.status}.`, reply.status);
}

export async function api<T = any>(method: string, path: string, options: Options = {}): Promise<T> {
  const reply = await call(method, path, options);
  return (reply.status === 204 ? undefined : await reply.json()) as T;
}

export const get = <T = any>(path: string) => api<T>("GET", path);
export const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
};
