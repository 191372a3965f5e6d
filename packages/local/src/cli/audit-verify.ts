import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { checkpointSignatureValid, ChainVerifier, type Checkpoint } from "@bulkhead/core/audit/verify";

/**
 * The offline verifier: `npm run audit:verify -- <export.jsonl> [--checkpoint <file> --public-key <pem>]`.
 * It needs the export and nothing else (no AWS, no table, no network); a checkpoint and the
 * public key that signed it additionally prove the export was not truncated or rewritten
 * before the checkpoint's seq. Exit 0: intact. Exit 1: the first bad seq and why. Exit 2: usage.
 */
const USAGE = "usage: npm run audit:verify -- <export.jsonl> [--checkpoint <checkpoint.json> --public-key <key.pem>]";

function usage(message: string): never {
  console.error(`audit:verify: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { checkpoint: { type: "string" }, "public-key": { type: "string" } } });
} catch (error) {
  usage((error as Error).message);
}
const { positionals, values } = parsed;
if (positionals.length !== 1) usage("give exactly one export file");
if (values.checkpoint && !values["public-key"]) usage("--checkpoint needs --public-key: an unsigned checkpoint proves nothing");

/** A checkpoint file holds one checkpoint, an array of them, or a `GET /v1/audit/checkpoints` answer. */
function readCheckpoints(file: string): Checkpoint[] {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as Checkpoint | Checkpoint[] | { items: Checkpoint[] };
  const list = Array.isArray(parsed) ? parsed : "items" in parsed ? parsed.items : [parsed];
  return [...list].sort((a, b) => a.seq - b.seq);
}

function fail(seq: number, reason: string): never {
  console.log(`FAILED at seq ${seq}: ${reason}`);
  process.exit(1);
}

let checkpoints: Checkpoint[] = [];
if (values.checkpoint) {
  const publicKey = readFileSync(values["public-key"]!, "utf8");
  checkpoints = readCheckpoints(values.checkpoint);
  for (const checkpoint of checkpoints) {
    if (!checkpointSignatureValid(checkpoint, publicKey)) fail(checkpoint.seq, `the checkpoint at seq ${checkpoint.seq} is not signed by this public key`);
  }
}

const verifier = new ChainVerifier(undefined, checkpoints);
const lines = createInterface({ input: createReadStream(positionals[0]!), crlfDelay: Infinity });
let lineNumber = 0;
for await (const line of lines) {
  lineNumber++;
  if (!line.trim()) continue;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    entry = undefined;
  }
  if (!verifier.push(entry)) break;
}
const result = verifier.finish();
if (!result.ok) fail(result.seq, result.reason);
const head = result.head ? `head seq ${result.head.seq} hash ${result.head.hash}` : "empty chain";
const anchored = checkpoints.length ? `; consistent with ${checkpoints.length} signed checkpoint(s) up to seq ${checkpoints.at(-1)!.seq}` : "";
console.log(`OK: ${result.entries} entries, ${head}${anchored}`);
