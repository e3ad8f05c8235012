import { readFileSync } from "node:fs";
import { test, expect, goto, signIn, ALEX, BROWSER_HEADERS, PASSWORD, giveAlexCustomerDataAccess, expectAccessible } from "./support";

const AVERY = "avery.audit@example.com";

/** The columns of the export, in order (`EXPORT_COLUMNS` in src/server/http/audit_export.rs). */
const EXPORT_COLUMNS = "seq,at,actor,action,action_label,target_user,customer_id,request_id,subject_hmac,details,row_hash";

test.describe("Customer Data: audit log", () => {
  test("an admin reads the chain's status and the chart's table, filters, pages and exports the events", async ({ page, request }) => {
    await giveAlexCustomerDataAccess(request);
    const post = (path: string, form: Record<string, string>) => request.post(path, { form, headers: BROWSER_HEADERS });
    expect((await post("/api/auth/login", { email: ALEX, password: PASSWORD })).status()).toBe(200);
    const found = await (await post("/api/customers/search", { query: AVERY })).json();
    const open: string[] = found.records.filter((r: { erased_at: string | null }) => !r.erased_at).map((r: { id: string }) => r.id);
    if (open.length > 0) {
      const created = await post("/api/requests/create", { customer_ids: open.join(","), query: AVERY, confirmation: "DELETE" });
      expect(created.status()).toBe(200);
    }
    // Enough searches of Alex's for a second page of them.
    for (let i = 0; i < 55; i++) {
      expect((await post("/api/customers/search", { query: AVERY })).status()).toBe(200);
    }

    await signIn(page, ALEX);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
    await expect(page).toHaveURL(/\/audit$/);
    await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
    await expect(page.getByRole("status").filter({ hasText: "Chain verified through #" })).toBeVisible();

    // The chart is an image named for what it shows, and its figures are a table too.
    await expect(page.getByRole("img", { name: "Records, calls and messages erased per day" })).toBeVisible();
    await page.getByText("The chart as a table").click();
    const today = new Date().toISOString().slice(0, 10);
    const chartTable = page.getByRole("table", { name: "Erased per day, days with erasures only" });
    const todayRow = chartTable.getByRole("row").filter({ hasText: today });
    await expect(todayRow).toHaveCount(1);
    const records = Number(await todayRow.getByRole("cell").nth(1).innerText());
    expect(records).toBeGreaterThanOrEqual(1);
    await expectAccessible(page);

    // One action: every row is that action.
    await page.getByLabel("Action").selectOption("request_created");
    await page.getByRole("button", { name: "Show" }).click();
    await expect(page).toHaveURL(/action=request_created/);
    const events = page.getByRole("table", { name: "Audit log events" });
    const eventRows = events.locator("tbody tr");
    await expect(eventRows.first()).toContainText("Requested an erasure");
    for (const text of await eventRows.allInnerTexts()) expect(text).toContain("Requested an erasure");

    // Alex's searches from today on: a full page, then the older ones on the next.
    await goto(page, "/audit");
    await page.getByLabel("Action").selectOption("customer_searched");
    await page.getByLabel("Who").selectOption({ label: `Alex Admin (${ALEX})` });
    await page.getByLabel("From").fill(today);
    await page.getByRole("button", { name: "Show" }).click();
    await expect(page).toHaveURL(/actor=user%3A/);
    await expect(eventRows).toHaveCount(50);
    const firstPage = (await eventRows.locator("td:first-child").allInnerTexts()).map(Number);
    for (const text of await eventRows.allInnerTexts()) {
      expect(text).toContain("Searched customers");
      expect(text).toContain("Alex Admin");
    }
    await page.getByRole("link", { name: "Older events" }).click();
    await expect(page).toHaveURL(/older=\d+/);
    await expect(page.getByRole("link", { name: "Newest events" })).toBeVisible();
    await expect(eventRows.nth(4)).toContainText("Searched customers");
    const secondPage = (await eventRows.locator("td:first-child").allInnerTexts()).map(Number);
    expect(secondPage.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...secondPage)).toBeLessThan(Math.min(...firstPage));
    await expect(page.getByRole("link", { name: "Newest events" })).toBeVisible();

    // The export holds every event the filter shows, not only the page.
    const exportsBefore = await page.request.post("/api/audit/list", { form: { action: "audit_log_exported" }, headers: BROWSER_HEADERS });
    expect(exportsBefore.status()).toBe(200);
    const newestExportBefore: number = (await exportsBefore.json()).events[0]?.seq ?? 0;
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-log-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync(await download.path(), "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(EXPORT_COLUMNS);
    const rows = lines.slice(1);
    expect(rows.length).toBeGreaterThanOrEqual(55);
    expect(rows.slice(0, 50).map((row) => Number(row.split(",")[0]))).toEqual(firstPage);
    for (const row of rows) expect(row.split(",")[3]).toBe("customer_searched");
    expect(rows.join("\n")).not.toContain(AVERY);

    // The export is an event of the log too: a new one heads the list.
    await goto(page, "/audit?action=audit_log_exported");
    await expect(eventRows.first()).toContainText("Exported the audit log");
    expect(Number(await eventRows.first().locator("td").first().innerText())).toBeGreaterThan(newestExportBefore);
    await expectAccessible(page);
  });
});
