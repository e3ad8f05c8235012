import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { execFileSync } from "node:child_process";

export const PASSWORD = "demo-password";
export const ALEX = "alex.admin@acme.example";
export const BLAIR = "blair.admin@acme.example";
export const CASEY = "casey.agent@acme.example";

/** Every test fails on a console error, an uncaught page error or a JavaScript dialog (alert from injected script). */
/** A test that provokes refusals on purpose lists their statuses in `expectedHttpErrors`; the browser logs them. */
export const test = base.extend<{ expectedHttpErrors: number[]; failOnPageProblems: void }>({
  expectedHttpErrors: [[], { option: true }],
  failOnPageProblems: [
    async ({ page, expectedHttpErrors }, use) => {
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        const expected = expectedHttpErrors.some((status) =>
          message.text().includes(`the server responded with a status of ${status}`),
        );
        if (!expected) problems.push(`console error: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("dialog", async (dialog) => {
        problems.push(`unexpected dialog: ${dialog.message()}`);
        await dialog.dismiss();
      });
      await use();
      expect(problems, "the page logged problems").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the wasm has hydrated the page (`<body data-hydrated>`). */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 20_000 });
}

export async function goto(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

/**
 * Searches with the page's search box, a form that posts the text, and waits for the page of the saved search
 * (`?search=<id>`) that the answer sends the browser to.
 */
export async function search(page: Page, path: "/customers" | "/users", text: string) {
  await goto(page, path);
  await page.getByRole("searchbox").fill(text);
  await Promise.all([page.waitForURL(/\?search=/), page.getByRole("button", { name: "Search" }).click()]);
  await hydrated(page);
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await goto(page, "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);
}

/**
 * The headers a browser sends with a request made by one of the console's pages. The console refuses a
 * state-changing request that carries the session cookie without them, so direct calls send them too.
 */
export const BROWSER_HEADERS = {
  Origin: new URL(process.env.E2E_BASE_URL ?? "http://127.0.0.1:3100").origin,
  "Sec-Fetch-Site": "same-origin",
};

/** Calls the console's endpoints directly, signed in as `email`, to set up a test's starting state. */
export async function apiAs(request: APIRequestContext, email: string) {
  const post = (path: string, form: Record<string, string>) =>
    request.post(path, { form, headers: BROWSER_HEADERS });
  const login = await post("/api/auth/login", { email, password: PASSWORD });
  expect(login.status()).toBe(200);
  return {
    async setAccountSetting(enabled: boolean) {
      const r = await post("/api/settings/customer-data", { enabled: String(enabled) });
      expect(r.status()).toBe(200);
    },
    async userId(query: string): Promise<string> {
      const r = await post("/api/users/search", { query });
      expect(r.status()).toBe(200);
      const body = await r.json();
      return body.users[0].id;
    },
    async setPermission(userId: string, enabled: boolean) {
      const r = await post("/api/users/customer-data-permission", {
        user_id: userId,
        enabled: String(enabled),
      });
      expect(r.status()).toBe(200);
    },
  };
}

/** Turns Manage Customer Data on for Acme and grants it to Alex, through the endpoints. */
export async function giveAlexCustomerDataAccess(request: APIRequestContext) {
  const alex = await apiAs(request, ALEX);
  await alex.setAccountSetting(true);
  await alex.setPermission(await alex.userId(ALEX), true);
}

/** The demo person who is both a Lead and a Contact in Acme. */
export const JORDAN = "jordan.rivera@example.com";

/** No serious or critical accessibility violations on what the page shows now. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(serious).toEqual([]);
}

/** Every URL the page requests or shows from now on: its requests and each URL its frames navigate to. */
export function recordUrls(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  page.on("framenavigated", (frame) => urls.push(frame.url()));
  return urls;
}

/** Asserts that no URL holds any of `secrets`, as typed, lower-cased or percent-encoded. */
export function expectNoneHolds(urls: string[], secrets: string[]) {
  const forms = secrets.flatMap((secret) => [secret, encodeURIComponent(secret)].map((form) => form.toLowerCase()));
  const leaks = urls.filter((url) => forms.some((form) => url.toLowerCase().includes(form)));
  expect(leaks, "URLs holding what was typed").toEqual([]);
  expect(urls.length).toBeGreaterThan(0);
}


/**
 * Makes the last sign-in of every session of `email` `minutes` old, in the end-to-end database the console
 * serves (`E2E_DATABASE_URL`, which scripts/test sets), as if the user had signed in that long ago.
 */
export function ageSignIns(email: string, minutes: number) {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL is not set: scripts/test sets it to the console's end-to-end database");
  execFileSync("psql", [url, "-q", "-v", "ON_ERROR_STOP=1", "-v", `email=${email}`, "-v", `minutes=${minutes}`], {
    input:
      "update sessions set authenticated_at = now() - make_interval(mins => :minutes) " +
      "where user_id = (select id from users where lower(email) = lower(:'email'));",
  });
}
