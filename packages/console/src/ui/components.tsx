import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { signal, useSignal } from "@preact/signals";
import { ApiProblem } from "./api.ts";

/** A problem as the API said it (title and detail), or any other failure's message. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const title = error instanceof ApiProblem ? error.title : "Something went wrong";
  const detail = error instanceof ApiProblem ? error.detail : error instanceof Error ? error.message : String(error);
  return (
    <div class="problem" role="alert">
      <strong class="problem-title">{title}</strong>
      {detail && <span class="problem-detail">{detail}</span>}
    </div>
  );
}

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;

/** Loads on mount and whenever `deps` change; `reload` reads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => live && setState({ data, loading: false }), (error) => live && setState({ error, loading: false }));
    return () => void (live = false);
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Runs an action, keeps its error for display, and reports success to `then`. */
export function useAction() {
  const error = useSignal<unknown>(undefined);
  const busy = useSignal(false);
  const run = async (action: () => Promise<unknown>, then?: () => void) => {
    busy.value = true;
    error.value = undefined;
    try {
      await action();
      then?.();
    } catch (caught) {
      error.value = caught;
    } finally {
      busy.value = false;
    }
  };
  return { error, busy, run };
}

/** The clock, once a second, for countdowns. */
export const now = signal(Date.now());
setInterval(() => (now.value = Date.now()), 1000);

export function timeLeft(until: string | undefined): string {
  if (!until) return "—";
  const seconds = Math.max(0, Math.round((Date.parse(until) - now.value) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

export const duration = (seconds: number | undefined) =>
  seconds === undefined ? "—" : seconds >= 3600 ? `${+(seconds / 3600).toFixed(1)} h` : `${Math.round(seconds / 60)} min`;

export const When = ({ at }: { at?: string }) => (at ? <time dateTime={at} title={at}>{new Date(at).toLocaleString()}</time> : <>—</>);

/** Copies text with the Clipboard API; says whether it worked (the text stays on screen to select either way). */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const result = useSignal<"Copied" | "Copy failed: select the text" | undefined>(undefined);
  const copy = () => navigator.clipboard.writeText(text).then(() => (result.value = "Copied"), () => (result.value = "Copy failed: select the text"));
  return <button type="button" class="secondary" onClick={copy}>{result.value ?? label}</button>;
}

/** A destructive action asks once more, inline (no window.confirm). */
export function ConfirmButton(props: { label: string; question: string; confirm: string; onConfirm: () => void; disabled?: boolean }) {
  const asking = useSignal(false);
  if (!asking.value) return <button type="button" class="danger" disabled={props.disabled} onClick={() => (asking.value = true)}>{props.label}</button>;
  return (
    <span class="confirm" role="group">
      <span>{props.question}</span>
      <button type="button" class="danger" onClick={() => { asking.value = false; props.onConfirm(); }}>{props.confirm}</button>
      <button type="button" class="secondary" onClick={() => (asking.value = false)}>Cancel</button>
    </span>
  );
}

/** Any JSON-like value as a definition list: strings and numbers as text, the rest as JSON. */
export function Fields({ value }: { value: Record<string, unknown> }) {
  return (
    <dl class="fields">
      {Object.entries(value).map(([name, field]) => (
        <>
          <dt>{name}</dt>
          <dd>{typeof field === "object" && field !== null ? <pre>{JSON.stringify(field, null, 2)}</pre> : String(field)}</dd>
        </>
      ))}
    </dl>
  );
}
