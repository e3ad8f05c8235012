// Benchmark helper: sizes of the release wasm and JS (raw, gzip, brotli) and, in Chromium, the time from
// navigation to <body data-hydrated> and the longest main-thread task on a customer page; for reference, the
// same time on a static page whose one inline module script sets data-hydrated (what this browser needs for
// any page, before any wasm), and on the customer page's own HTML, rendered by the console for that request,
// with that script in place of the wasm loader (what it needs for this page's content). All three are served
// by the console's server with its headers, so each load is a navigation within the console's origin.
// With a cold cache too: each sample in a browser started on a new, empty profile (no HTTP cache, no compiled
// wasm), signed in, loading the customer page and, apart, the page without its wasm.
// Usage: node bench/hydration.cjs <base-url> <pkg-dir> <customer-path> <email> <password> <repetitions> <static-url>
//        <customer-page-without-wasm-url> <cold-repetitions>
// Prints one JSON object.
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const { chromium } = require("@playwright/test");

function sizes(file) {
  const raw = fs.readFileSync(file);
  return {
    raw: raw.length,
    gzip: zlib.gzipSync(raw, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function prepare(context, base, email, password) {
  const login = await context.request.post(`${base}/api/auth/login`, {
    form: { email, password },
    headers: { origin: base, "sec-fetch-site": "same-origin" },
  });
  if (login.status() !== 200) throw new Error(`sign-in failed: ${login.status()}`);
  await context.addInitScript(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longest = Math.max(window.__longest, entry.duration);
    }).observe({ type: "longtask", buffered: true });
    new MutationObserver((_, observer) => {
      if (document.body && document.body.hasAttribute("data-hydrated")) {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  });
}

// Loads `url` in a browser started on a new, empty profile and answers when data-hydrated was set.
async function coldLoad(launchOptions, base, email, password, url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-cold-"));
  const context = await chromium.launchPersistentContext(profile, launchOptions);
  try {
    await prepare(context, base, email, password);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector("body[data-hydrated]", { state: "attached", timeout: 30000 });
    return await page.evaluate(() => window.__hydratedAt);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

(async () => {
  const [base, pkgDir, customerPath, email, password, reps, staticUrl, withoutWasmUrl, coldReps] = process.argv.slice(2);
  const files = fs.readdirSync(pkgDir);
  const wasm = files.find((f) => f.endsWith(".wasm"));
  const js = files.find((f) => f.endsWith(".js"));
  const launchOptions = {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  };
  const browser = await chromium.launch(launchOptions);
  const context = await browser.newContext();
  await prepare(context, base, email, password);
  const page = await context.newPage();
  // The three pages take turns, so that whatever else the machine does meanwhile weighs on each alike.
  const urls = { customer: `${base}${customerPath}`, floor: staticUrl, contentOnly: withoutWasmUrl };
  const runs = Object.fromEntries(Object.keys(urls).map((name) => [name, { hydration: [], longest: [] }]));
  for (let i = 0; i < Number(reps) + 1; i++) {
    for (const [name, url] of Object.entries(urls)) {
      await page.goto(url);
      await page.waitForSelector("body[data-hydrated]", { state: "attached", timeout: 30000 });
      await page.waitForTimeout(100);
      const m = await page.evaluate(() => ({ at: window.__hydratedAt, longest: window.__longest }));
      if (i === 0) continue; // the first round warms the HTTP cache and the wasm compile cache
      runs[name].hydration.push(m.at);
      runs[name].longest.push(m.longest);
    }
  }
  const { customer: { hydration, longest }, floor, contentOnly } = runs;
  await browser.close();
  const cold = { customer: [], contentOnly: [] };
  for (let i = 0; i < Number(coldReps); i++) {
    cold.customer.push(await coldLoad(launchOptions, base, email, password, urls.customer));
    cold.contentOnly.push(await coldLoad(launchOptions, base, email, password, urls.contentOnly));
  }
  console.log(
    JSON.stringify({
      wasm: sizes(path.join(pkgDir, wasm)),
      js: sizes(path.join(pkgDir, js)),
      hydration_ms: { p50: percentile(hydration, 50), p99: percentile(hydration, 99) },
      longest_task_ms: { p50: percentile(longest, 50), p99: percentile(longest, 99) },
      static_page_ms: { p50: percentile(floor.hydration, 50), p99: percentile(floor.hydration, 99) },
      without_wasm_ms: { p50: percentile(contentOnly.hydration, 50), p99: percentile(contentOnly.hydration, 99) },
      cold_hydration_ms: { p50: percentile(cold.customer, 50), p99: percentile(cold.customer, 99) },
      cold_without_wasm_ms: { p50: percentile(cold.contentOnly, 50), p99: percentile(cold.contentOnly, 99) },
    }),
  );
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
