import { send, type HttpReply } from "./http.ts";

/** A Bulkhead API on one org's host: `http://acme.localhost:4000` offline, `https://acme.api.<domain>` in the cloud. */
export type Api = { baseUrl: string; token: string };

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(readonly status: number, readonly problem: { title?: string; detail?: string; errors?: { path: string; message: string }[] } | undefined, text: string) {
    const errors = problem?.errors?.map((e) => `${e.path}: ${e.message}`).join("; ");
    super(`${status} ${problem?.title ?? ""}: ${problem?.detail ?? text}${errors ? ` (${errors})` : ""}`.replace(" : ", ": "));
  }
}

/** S3 refused the upload: its error code and message, from its XML answer. */
export class UploadRefused extends Error {
  override readonly name = "UploadRefused";
  constructor(readonly status: number, readonly code: string, readonly s3Message: string, readonly details: Record<string, string>) {
    const extra = Object.entries(details).map(([name, value]) => `${name} ${value}`).join(", ");
    super(`the object store refused the upload (${status} ${code}): ${s3Message}${extra ? ` [${extra}]` : ""}`);
  }
}

const parseJson = (reply: HttpReply): any => {
  try {
    return reply.text ? JSON.parse(reply.text) : undefined;
  } catch {
    return undefined;
  }
};

async function call(api: Api, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<any> {
  const reply = await send(`${api.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${api.token}`,
      accept: "application/json",
      ...(options.body !== undefined && { "content-type": "application/json" }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)),
  });
  const json = parseJson(reply);
  if (reply.status >= 400) throw new ApiError(reply.status, json, reply.text);
  return json;
}

export type UploadForm = { url: string; fields: Record<string, string>; fileField: string; maxBytes: number; expiresAt: string };
export type SourceUpload = { source: { ref: string; sha256: string; status: string }; upload: UploadForm };

export const createSource = (api: Api, appId: string, body: { ref: string; sha256: string; size?: number }): Promise<SourceUpload> =>
  call(api, "POST", `/v1/apps/${appId}/sources`, { body });

export const listSources = (api: Api, appId: string): Promise<{ items: unknown[]; cursor?: string }> =>
  call(api, "GET", `/v1/apps/${appId}/sources`);

export const startDeployment = (api: Api, appId: string, body: { source: { ref: string }; target?: string }, idempotencyKey: string) =>
  call(api, "POST", `/v1/apps/${appId}/deployments`, { body, headers: { "idempotency-key": idempotencyKey } });

export const getDeployment = (api: Api, appId: string, id: string) => call(api, "GET", `/v1/apps/${appId}/deployments/${id}`);

const xmlField = (xml: string, name: string): string | undefined =>
  new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]?.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

/**
 * POSTs the form (its fields, then the file, as S3 requires) as multipart/form-data; the encoding
 * is the platform's own (FormData through a Response), sent with a Content-Length so progress
 * can be told as it goes.
 */
export async function postUploadForm(upload: UploadForm, file: Uint8Array, onProgress?: (sent: number, total: number) => void): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append(upload.fileField, new Blob([file as Uint8Array<ArrayBuffer>], { type: "application/zip" }), "source.zip");
  const encoded = new Response(form);
  const body = new Uint8Array(await encoded.arrayBuffer());
  const reply = await send(upload.url, { method: "POST", headers: { "content-type": encoded.headers.get("content-type")! }, body, onProgress });
  if (reply.status >= 200 && reply.status < 300) return;
  const details: Record<string, string> = {};
  for (const name of ["ProposedSize", "MaxSizeAllowed", "MinSizeAllowed"]) {
    const value = xmlField(reply.text, name);
    if (value) details[name] = value;
  }
  throw new UploadRefused(reply.status, xmlField(reply.text, "Code") ?? "Unknown", xmlField(reply.text, "Message") ?? reply.text.slice(0, 200), details);
}
