import { useSignal } from "@preact/signals";
import { call, get, query } from "../api.ts";
import { Empty, ErrorBox, Fields, useAction, useLoad, When } from "../components.tsx";

type Entry = {
  seq: number; time: string; action: string; requestId: string;
  actor: { kind: string; sub: string; role?: string };
  target: Record<string, string>;
  outcome: { result: string; status?: number; problem?: string };
  [field: string]: unknown;
};

/** datetime-local gives local wall time; the API wants an instant. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The audit trail: filters, each entry's details, the API's verification verdict, an export download. */
export function AuditPage() {
  const filters = useSignal({ from: "", to: "", actor: "", action: "" });
  const applied = useSignal(filters.value);
  const selected = useSignal<Entry | undefined>(undefined);
  const extra = useSignal<{ items: Entry[]; cursor?: string }>({ items: [] });
  const trail = useLoad(async () => {
    extra.value = { items: [] };
    const f = applied.value;
    return get<{ items: Entry[]; cursor?: string }>(`/v1/audit${query({ limit: 50, from: instant(f.from), to: instant(f.to), actor: f.actor, action: f.action })}`);
  }, [applied.value]);
  const verify = useLoad(() => get<Record<string, unknown> & { ok: boolean }>("/v1/audit/verify"));
  const more = useAction();
  const exporting = useAction();

  const items = [...(trail.data?.items ?? []), ...extra.value.items];
  const cursor = extra.value.cursor ?? trail.data?.cursor;
  const loadMore = () => more.run(async () => {
    const f = applied.value;
    const page = await get<{ items: Entry[]; cursor?: string }>(`/v1/audit${query({ limit: 50, cursor, from: instant(f.from), to: instant(f.to), actor: f.actor, action: f.action })}`);
    extra.value = { items: [...extra.value.items, ...page.items], cursor: page.cursor };
  });
  const download = () => exporting.run(async () => {
    const parts: string[] = [];
    for (let next: string | undefined = "/v1/audit/export"; next; ) {
      const reply = await call("GET", next);
      parts.push(await reply.text());
      next = /<([^>]+)>;\s*rel="next"/.exec(reply.headers.get("link") ?? "")?.[1];
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob(parts, { type: "application/x-ndjson" }));
    link.download = `audit-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.jsonl`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  });
  const field = (name: keyof typeof filters.value) => ({
    value: filters.value[name],
    onInput: (e: Event) => (filters.value = { ...filters.value, [name]: (e.target as HTMLInputElement).value }),
  });

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <div class="card" data-testid="verification">
        <h2>Verification</h2>
        <ErrorBox error={verify.error} />
        {verify.loading && <p>Verifying…</p>}
        {verify.data && (verify.data.ok
          ? <p class="verified">The audit log verifies.</p>
          : <div class="warning" role="alert"><strong>Audit verification failed.</strong> The log does not match what was recorded; treat it as tampered with until explained.</div>)}
        {verify.data && <Fields value={verify.data} />}
        <button type="button" class="secondary" onClick={verify.reload}>Verify again</button>
        <button type="button" class="secondary" disabled={exporting.busy.value} onClick={download}>Download export (JSONL)</button>
        <ErrorBox error={exporting.error.value} />
      </div>

      <form class="filters" onSubmit={(e) => { e.preventDefault(); selected.value = undefined; applied.value = { ...filters.value }; }}>
        <label>From <input type="datetime-local" name="from" {...field("from")} /></label>
        <label>To <input type="datetime-local" name="to" {...field("to")} /></label>
        <label>Actor <input name="actor" placeholder="sub" {...field("actor")} /></label>
        <label>Action <input name="action" placeholder="grants.approve" {...field("action")} /></label>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={trail.error} />
      {trail.data && !items.length && <Empty>No audit entries match.</Empty>}
      {!!items.length && (
        <table data-testid="audit-trail">
          <thead><tr><th>Seq</th><th>Time</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.seq} data-action={entry.action} class={selected.value?.seq === entry.seq ? "selected" : ""}
                onClick={() => (selected.value = entry)}>
                <td><button type="button" class="link" aria-label={`Details of entry ${entry.seq}`}>{entry.seq}</button></td>
                <td><When at={entry.time} /></td>
                <td>{entry.actor.kind}: {entry.actor.sub}{entry.actor.role ? ` (${entry.actor.role})` : ""}</td>
                <td>{entry.action}</td>
                <td>{Object.entries(entry.target).map(([k, v]) => `${k}=${v}`).join(" ")}</td>
                <td><span class={`outcome ${entry.outcome.result}`}>{entry.outcome.result}</span>{entry.outcome.status ? ` ${entry.outcome.status}` : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && <button type="button" class="secondary" disabled={more.busy.value} onClick={loadMore}>Load more</button>}
      <ErrorBox error={more.error.value} />
      {selected.value && (
        <div class="card" data-testid="audit-entry">
          <h2>Entry {selected.value.seq}</h2>
          <Fields value={selected.value} />
        </div>
      )}
    </section>
  );
}
