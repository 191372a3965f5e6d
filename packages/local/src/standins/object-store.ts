import { createHash, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, renameSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import busboy from "busboy";
import { checkPostContent, checkPostForm, errorXml, type AcceptedForm, type S3Refusal } from "./post-policy.ts";

/**
 * Stand-in for the S3 bucket holding sources and artifacts: `<root>/<bucket>/<key>` on disk.
 * Keys are checked segment by segment, so no key can name a path outside its bucket.
 */
export type LocalObjectStore = {
  root: string;
  /** The file or folder for `bucket/key` (a key ending in `/` is a folder). */
  path: (bucket: string, key: string) => string;
};

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class BadObjectKey extends Error {
  override readonly name = "BadObjectKey";
}

export function localObjectStore(root: string): LocalObjectStore {
  const base = resolve(root);
  return {
    root: base,
    path(bucket, key) {
      const segments = key.replace(/\/$/, "").split("/");
      if (!SEGMENT.test(bucket) || segments.some((s) => !SEGMENT.test(s) || s === "..")) throw new BadObjectKey(`not a valid object key: ${bucket}/${key}`);
      const path = join(base, bucket, ...segments);
      if (!path.startsWith(`${base}${sep}`)) throw new BadObjectKey(`not a valid object key: ${bucket}/${key}`);
      return path;
    },
  };
}

/** What S3 would send an event notification about: an object the POST form created. */
export type ObjectCreated = { bucket: string; key: string; size: number; eTag: string; sha256: string; requestId: string };

export type ObjectStoreServerOptions = {
  store: LocalObjectStore;
  /** The buckets this stand-in has; any other answers NoSuchBucket. */
  buckets: readonly string[];
  region: string;
  /** Access key id → secret key: the identities whose signatures it accepts. */
  credentials: Readonly<Record<string, string>>;
  /** Called once an object is stored, like an S3 event notification (its failure does not fail the upload). */
  onObjectCreated?: (event: ObjectCreated) => Promise<void> | void;
  port?: number;
};

export type ObjectStoreServer = { url: string; close: () => Promise<void> };

/**
 * The object store's HTTP face, offline: S3's browser-based upload (POST Object) at
 * `<url>/<bucket>`, path-style, as the presigned forms of the API name it. It checks what S3
 * checks (post-policy.ts) and answers S3's XML errors; the file is streamed to a temporary
 * file beside the store and moved under its key only once every check passed.
 */
export async function serveObjectStore(options: ObjectStoreServerOptions): Promise<ObjectStoreServer> {
  const incoming = join(options.store.root, ".incoming");
  mkdirSync(incoming, { recursive: true });
  const server = createServer((req, res) => {
    const requestId = randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
    const answer = (refusal: S3Refusal) => {
      res.writeHead(refusal.status, { "content-type": "application/xml", "x-amz-request-id": requestId });
      res.end(errorXml(refusal, requestId));
    };
    const bucket = decodeURIComponent(new URL(req.url ?? "/", "http://store.invalid").pathname.slice(1));
    if (req.method !== "POST") {
      req.resume();
      return answer({ status: 405, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource." });
    }
    if (!options.buckets.includes(bucket)) {
      req.resume();
      return answer({ status: 404, code: "NoSuchBucket", message: "The specified bucket does not exist", details: { BucketName: bucket } });
    }
    if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) {
      req.resume();
      return answer({ status: 412, code: "PreconditionFailed", message: "Bucket POST must be of the enclosure-type multipart/form-data" });
    }
    receiveUpload(req, { ...options, bucket, incoming, requestId }).then(
      async (outcome) => {
        if ("refusal" in outcome) return answer(outcome.refusal);
        const { created } = outcome;
        // S3 notifies asynchronously; the stand-in notifies before it answers, so offline runs
        // (tests, the bench's command counts) never see the notification's writes land later.
        try {
          await options.onObjectCreated?.(created);
        } catch (error) {
          console.error("object store stand-in: the object-created notification failed", error);
        }
        res.writeHead(204, {
          etag: created.eTag,
          location: `http://${req.headers.host}/${bucket}/${encodeURI(created.key)}`,
          "x-amz-checksum-sha256": created.sha256,
          "x-amz-request-id": requestId,
        });
        res.end();
      },
      (error: unknown) => {
        console.error("object store stand-in: upload failed", error);
        answer({ status: 500, code: "InternalError", message: "We encountered an internal error. Please try again." });
      },
    );
  });
  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, "127.0.0.1", ready);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise((done) => server.close(done));
      server.closeAllConnections();
    },
  };
}

type Outcome = { created: ObjectCreated } | { refusal: S3Refusal };

/** Reads the form: fields first, then the one file; fields after the file are ignored, as by S3. */
function receiveUpload(
  req: IncomingMessage,
  options: ObjectStoreServerOptions & { bucket: string; incoming: string; requestId: string },
): Promise<Outcome> {
  return new Promise((settle, fail) => {
    const fields = new Map<string, string>();
    let outcome: Promise<Outcome> | undefined;
    let parser: ReturnType<typeof busboy>;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 100, fieldSize: 20_000 } });
    } catch {
      req.resume();
      settle({ refusal: { status: 400, code: "MalformedPOSTRequest", message: "The body of your POST request is not well-formed multipart/form-data." } });
      return;
    }
    parser.on("field", (name, value) => {
      if (!outcome) fields.set(name.toLowerCase(), value);
    });
    parser.on("file", (name, file) => {
      if (outcome || name.toLowerCase() !== "file") {
        file.resume();
        return;
      }
      const form = checkPostForm({ bucket: options.bucket, fields, credentials: options.credentials, region: options.region });
      if ("refusal" in form) {
        file.resume();
        outcome = Promise.resolve(form);
        return;
      }
      outcome = storeFile(file, form, options);
    });
    parser.on("error", () => settle({ refusal: { status: 400, code: "MalformedPOSTRequest", message: "The body of your POST request is not well-formed multipart/form-data." } }));
    parser.on("close", () => {
      settle(outcome ?? { refusal: { status: 400, code: "InvalidArgument", message: "POST requires exactly one file upload per request." } });
    });
    req.on("error", fail);
    req.pipe(parser);
  });
}

/**
 * Streams the file to a temporary file while hashing and counting it; past the policy's size cap
 * it stops writing and only drains the rest, so the client still gets S3's answer.
 */
async function storeFile(
  file: Readable,
  form: AcceptedForm,
  options: ObjectStoreServerOptions & { bucket: string; incoming: string; requestId: string },
): Promise<Outcome> {
  let target: string;
  try {
    target = options.store.path(options.bucket, form.key);
  } catch {
    file.resume();
    return { refusal: { status: 400, code: "KeyTooLongError", message: "Your key is not one this object store can hold." } };
  }
  const temporary = join(options.incoming, randomUUID());
  const sha256 = createHash("sha256");
  const md5 = createHash("md5");
  const cap = form.sizeRange?.max ?? Infinity;
  let size = 0;
  const out = createWriteStream(temporary, { mode: 0o600 });
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > cap) continue;
      sha256.update(chunk);
      md5.update(chunk);
      if (!out.write(chunk)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
    const digest = sha256.digest("base64");
    const refusal = checkPostContent(form, size, digest);
    if (refusal) return { refusal };
    mkdirSync(dirname(target), { recursive: true });
    renameSync(temporary, target);
    return { created: { bucket: options.bucket, key: form.key, size, eTag: `"${md5.digest("hex")}"`, sha256: digest, requestId: options.requestId } };
  } finally {
    out.destroy();
    rmSync(temporary, { force: true });
  }
}
