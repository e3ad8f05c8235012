// Lighthouse (desktop preset) on three pages of the console that scripts/test serves: the sign-in page signed
// out, and, signed in as Alex (an Admin given Manage Customer Data, as the specs give it), the customer search
// for Jordan with its results and Jordan's Contact record. Each page is audited in its own headless Chromium
// (a new profile: nothing cached, no cookie but the session's). Prints the Performance, Accessibility and Best
// Practices scores of each page (with its Largest Contentful Paint and Total Blocking Time), writes each report
// as JSON under target/lighthouse/, and exits non-zero when a score is under its threshold (naming the audits
// that lost points) or a page could not be audited.
//
// Thresholds, from measurements on the 2-core machine at a load average of 8 to 12 (other builds): the three
// pages scored 100 for Accessibility and Best Practices in every run, so any lost point fails (the specs'
// axe-core check already allows no violation). Performance scored 99 to 100 (desktop preset: simulated
// throttling, which models the network and reads CPU time from the trace); it must stay at 80 or more, which
// a loaded machine keeps and a page that blocks its first paint on the wasm or a long task would not.
//
// Usage (from end2end/): E2E_BASE_URL=http://127.0.0.1:3100 node lighthouse.mjs
//   CHROMIUM_PATH  the browser (default /usr/bin/chromium)
//   LIGHTHOUSE_DIR where the reports go (default target/lighthouse in the repository)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const BASE = new URL(process.env.E2E_BASE_URL ?? "http://127.0.0.1:3100").origin;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const REPORTS =
  process.env.LIGHTHOUSE_DIR ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "target", "lighthouse");
const ALEX = "alex.admin@acme.example";
const PASSWORD = "demo-password";
const JORDAN = "jordan.rivera@example.com";

/** The categories audited, in the table's order, and the least score each must reach. */
const CATEGORIES = [
  { id: "performance", title: "Performance", least: 0.8 },
  { id: "accessibility", title: "Accessibility", least: 1 },
  { id: "best-practices", title: "Best Practices", least: 1 },
];

/**
 * How many times a page is audited when Lighthouse could not record its load: with Chromium 156, one audit
 * in 27 here ended in `NO_NAVSTART` ("Please run Lighthouse again"), a trace with no navigation in it.
 */
const ATTEMPTS = 3;

/** The same flags as the Playwright specs' Chromium: nothing fetched from the network but the console. */
const CHROMIUM_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Posts a form to the console as one of its pages does (same origin, as the cross-site guard asks) and
 * returns the answer, without following a redirect. Throws on a refusal.
 */
async function post(endpoint, form, cookie) {
  const response = await fetch(`${BASE}${endpoint}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: BASE,
      "sec-fetch-site": "same-origin",
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(form),
  });
  if (response.status >= 400) {
    throw new Error(`POST ${endpoint} answered ${response.status}: ${await response.text()}`);
  }
  return response;
}

/**
 * Signs Alex in, gives him Manage Customer Data, saves the search for Jordan and finds Jordan's Contact.
 * Returns the session's Cookie header and the paths of the search's page and of the record.
 */
async function signedInPages() {
  const login = await post("/api/auth/login", { email: ALEX, password: PASSWORD });
  const cookie = login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  await post("/api/settings/customer-data", { enabled: "true" }, cookie);
  const users = await (await post("/api/users/search", { query: ALEX }, cookie)).json();
  await post("/api/users/customer-data-permission", { user_id: users.users[0].id, enabled: "true" }, cookie);
  const saved = await post("/api/searches", { kind: "customers", query: JORDAN }, cookie);
  const results = saved.headers.get("location");
  const found = await (await post("/api/customers/search", { query: JORDAN }, cookie)).json();
  const contact = found.records.find((record) => record.object_type === "Contact");
  if (!results?.startsWith("/customers?search=") || !contact) {
    throw new Error(`the search for ${JORDAN} did not give its page (${results}) and Jordan's Contact`);
  }
  return { cookie, results, record: `/customers/${contact.id}` };
}

/** Audits `url` in a new headless Chromium, sending `cookie` with every request when given. */
async function audit(url, cookie) {
  const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: CHROMIUM_FLAGS });
  try {
    const result = await lighthouse(
      url,
      {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: CATEGORIES.map((category) => category.id),
        ...(cookie ? { extraHeaders: { Cookie: cookie } } : {}),
      },
      desktopConfig,
    );
    if (!result) throw new Error(`Lighthouse gave no result for ${url}`);
    return result;
  } finally {
    await chrome.kill();
  }
}

/** The audits of `category` that did not get full marks and count towards its score, as `id (score)`. */
function lostPoints(lhr, category) {
  return lhr.categories[category].auditRefs
    .filter((ref) => ref.weight > 0)
    .map((ref) => lhr.audits[ref.id])
    .filter((audit) => audit.score !== null && audit.score < 1)
    .map((audit) => `${audit.id} (${audit.score})`);
}

const { cookie, results, record } = await signedInPages();
const pages = [
  { name: "sign-in", path: "/login", cookie: null },
  { name: "customers", path: results, cookie },
  { name: "customer", path: record, cookie },
];
fs.mkdirSync(REPORTS, { recursive: true });
const rows = [];
const failures = [];
for (const page of pages) {
  const started = Date.now();
  let { lhr, report } = await audit(`${BASE}${page.path}`, page.cookie);
  for (let attempt = 2; lhr.runtimeError && attempt <= ATTEMPTS; attempt++) {
    console.log(`${page.name}: ${lhr.runtimeError.code}, auditing again (attempt ${attempt} of ${ATTEMPTS})`);
    ({ lhr, report } = await audit(`${BASE}${page.path}`, page.cookie));
  }
  const file = path.join(REPORTS, `${page.name}.json`);
  fs.writeFileSync(file, report);
  if (lhr.runtimeError) failures.push(`${page.name}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  if (new URL(lhr.finalDisplayedUrl).pathname !== new URL(`${BASE}${page.path}`).pathname) {
    failures.push(`${page.name}: ended on ${lhr.finalDisplayedUrl}, not ${page.path}`);
  }
  const row = { page: page.name };
  for (const category of CATEGORIES) {
    const score = lhr.categories[category.id].score;
    row[category.title] = score === null ? "-" : Math.round(score * 100);
    if (score === null || score < category.least) {
      failures.push(
        `${page.name}: ${category.title} ${score} is under ${category.least}; ` +
          `audits short of full marks: ${lostPoints(lhr, category.id).join(", ") || "none"}`,
      );
    }
  }
  row["LCP ms"] = Math.round(lhr.audits["largest-contentful-paint"].numericValue);
  row["TBT ms"] = Math.round(lhr.audits["total-blocking-time"].numericValue);
  row.seconds = ((Date.now() - started) / 1000).toFixed(1);
  rows.push(row);
  console.log(`${page.name} (${page.path.replace(/search=.*/, "search=…")}): report in ${path.relative(process.cwd(), file)}`);
}
console.table(rows);
if (failures.length > 0) {
  console.error(`Lighthouse:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
