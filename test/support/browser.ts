/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Functions passed to page.evaluate run in the browser, against DOM types.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Debian's chromium; puppeteer-core never downloads one. `.ci/run` installs it when missing. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const chromiumMissing = !existsSync(CHROMIUM);

/** Screenshots of every page, kept as CI artifacts (gitignored). */
export const SCREENSHOTS = join(import.meta.dirname, "../../test-artifacts/console");

/**
 * Headless chromium on a closed network: without these flags it waits on connections to Google
 * services (QUIC, component updates, sync). A fresh profile per run.
 */
export async function launchBrowser(): Promise<Browser & { cleanUp: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "bulkhead-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`,
    ],
  });
  return Object.assign(browser, {
    cleanUp: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
}

/** Page errors, CSP violations and console errors, collected so a test can assert there were none. */
export async function watch(page: Page) {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${(error as Error).message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      (window as any).__cspViolations = [...((window as any).__cspViolations ?? []), `${event.violatedDirective} ${event.blockedURI}`];
    });
  });
  return problems;
}

/** Through the console's sign-in: the dev issuer's form, as a person would fill it. */
export async function signIn(page: Page, consoleUrl: string, member: { org: string; sub: string; role: string }): Promise<void> {
  await page.goto(consoleUrl);
  await page.locator("button::-p-text(Sign in)").click();
  await page.waitForSelector("select[name=role]");
  await page.$eval("input[name=org]", (input, org) => ((input as HTMLInputElement).value = org), member.org);
  await page.$eval("input[name=sub]", (input, sub) => ((input as HTMLInputElement).value = sub), member.sub);
  await page.select("select[name=role]", member.role);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await page.waitForSelector("[data-testid=who]");
}

/** The text of every element matching `selector`. */
export const texts = (page: Page, selector: string) => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent ?? ""));
