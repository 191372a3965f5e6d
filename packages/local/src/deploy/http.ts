import { lookup as dnsLookup, type LookupAddress, type LookupOneOptions } from "node:dns";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export type HttpReply = { status: number; headers: IncomingHttpHeaders; text: string };

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `localhost` and every name under it are loopback (RFC 6761), as curl and browsers treat them;
 * the system resolver often does not know `acme.localhost`, so such names are answered here.
 */
function lookup(hostname: string, options: LookupOneOptions, callback: LookupCallback): void {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    if ((options as { all?: boolean }).all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
    return;
  }
  dnsLookup(hostname, options, callback as never);
}

/**
 * One HTTP(S) request with the whole body known up front (S3's POST needs a Content-Length).
 * `onProgress` is told the bytes sent so far, chunk by chunk, as the socket takes them.
 */
export function send(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: Uint8Array; onProgress?: (sent: number, total: number) => void },
): Promise<HttpReply> {
  const target = new URL(url);
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  const body = options.body ?? new Uint8Array();
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: options.method,
      headers: { ...options.headers, ...(options.body && { "content-length": String(body.length) }) },
      lookup: lookup as never,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    const CHUNK = 64 * 1024;
    let offset = 0;
    const pump = () => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + CHUNK);
        offset += chunk.length;
        const sent = offset;
        const more = req.write(chunk, () => options.onProgress?.(sent, body.length));
        if (!more) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}
