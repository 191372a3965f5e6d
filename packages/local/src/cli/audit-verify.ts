import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { checkpointSignatureValid, treeHeadProblem, type Checkpoint, type SignedTreeHead } from "@bulkhead/core/audit/tree-heads";
import { checkConsistencyProof, checkInclusionProof, LogVerifier } from "@bulkhead/core/audit/verify";

/**
 * The offline verifier. It needs no AWS, no table and no network: only what the API handed out
 * and the public key, which a customer should pin out of band.
 *   <export.jsonl> [--heads <file>] [--checkpoints <file>] --public-key <pem>
 *       rebuilds the tree from an export and checks it against every signed head given (and the
 *       legacy chain against its checkpoints)
 *   --inclusion <proof.json> --head <file> --public-key <pem>
 *       checks one entry's inclusion proof against a signed head
 *   --consistency <proof.json> --from <file> --to <file> --public-key <pem>
 *       checks that the log only grew between two pinned heads
 * Exit 0: it holds. Exit 1: `FAILED at <where>: <why>`. Exit 2: usage.
 */
const USAGE = `usage: npm run audit:verify -- <export.jsonl> [--heads <heads.json>] [--checkpoints <checkpoints.json>] [--public-key <key.pem>]
       npm run audit:verify -- --inclusion <proof.json> --head <head.json> --public-key <key.pem>
       npm run audit:verify -- --consistency <proof.json> --from <head.json> --to <head.json> --public-key <key.pem>`;

function usage(message: string): never {
  console.error(`audit:verify: ${message}\n${USAGE}`);
  process.exit(2);
}

function fail(at: string, reason: string): never {
  console.log(`FAILED at ${at}: ${reason}`);
  process.exit(1);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: Object.fromEntries(["heads", "head", "checkpoints", "public-key", "inclusion", "consistency", "from", "to"].map((name) => [name, { type: "string" as const }])),
  });
} catch (error) {
  usage((error as Error).message);
}
const { positionals, values } = parsed;
const readJson = (file: string): any => JSON.parse(readFileSync(file, "utf8"));
/** A file of one statement, an array of them, or a list answer of the API (`items`). */
const readList = <T>(file: string): T[] => {
  const content = readJson(file);
  return Array.isArray(content) ? content : Array.isArray(content?.items) ? content.items : [content];
};
const publicKey = () => (values["public-key"] ? readFileSync(values["public-key"], "utf8") : usage("--public-key is required: an unsigned anchor proves nothing"));

if (values.inclusion) {
  if (!values.head) usage("--inclusion needs --head");
  const failure = checkInclusionProof(readJson(values.inclusion), readJson(values.head), publicKey());
  if (failure) fail(failure.at, failure.reason);
  const proof = readJson(values.inclusion);
  console.log(`OK: entry ${proof.entry.seq} is in the signed tree of ${proof.treeSize} entries`);
  process.exit(0);
}

if (values.consistency) {
  if (!values.from || !values.to) usage("--consistency needs --from and --to");
  const [from, to] = [readJson(values.from), readJson(values.to)];
  const failure = checkConsistencyProof(readJson(values.consistency), from, to, publicKey());
  if (failure) fail(failure.at, failure.reason);
  console.log(`OK: the signed tree of ${to.treeSize} entries extends the signed tree of ${from.treeSize}`);
  process.exit(0);
}

if (positionals.length !== 1) usage("give exactly one export file");
const anchored = values.heads || values.checkpoints;
const key = anchored ? publicKey() : undefined;
const heads = values.heads ? readList<SignedTreeHead>(values.heads) : [];
for (const head of heads) {
  const problem = treeHeadProblem(head, key!);
  if (problem) fail(`tree size ${head?.treeSize}`, problem);
}
const checkpoints = values.checkpoints ? readList<Checkpoint>(values.checkpoints) : [];
for (const checkpoint of checkpoints) {
  if (!checkpointSignatureValid(checkpoint, key!)) fail(`seq ${checkpoint.seq}`, `the checkpoint at seq ${checkpoint.seq} is not signed by this public key`);
}

const verifier = new LogVerifier(undefined, { heads: heads.map((head) => ({ head })), checkpoints });
const lines = createInterface({ input: createReadStream(positionals[0]!), crlfDelay: Infinity });
for await (const line of lines) {
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
if (!result.ok) fail(`seq ${result.seq}`, result.reason);
const anchors = result.headsChecked || result.checkpointsChecked
  ? `; matches ${result.headsChecked} signed tree head(s) and ${result.checkpointsChecked} legacy checkpoint(s)` : "";
console.log(`OK: ${result.entries} entries, tree root ${result.rootHash}${anchors}`);
