import { execFileSync } from "node:child_process";
import { test, expect, goto, hydrated, signIn, apiAs, giveAlexCustomerDataAccess, expectAccessible, ALEX, BLAIR, BROWSER_HEADERS } from "./support";
import type { APIRequestContext, Download, Page } from "@playwright/test";

// The people of end2end/fixtures.sql for this spec.
const BEA = "bea.bulk@example.com";
const BO = "bo.bulk@example.com";
const LOU = "lou.live@example.com";

/** Saves Acme's erasure policy through its endpoint, as Alex. */
async function setPolicy(request: APIRequestContext, policy: Record<string, string>) {
  await apiAs(request, ALEX);
  const saved = await request.post("/api/settings/erasure-policy", {
    form: { hold_hours: "0", deadline_days: "30", approval_min_records: "", approval_min_items: "", ...policy },
    headers: BROWSER_HEADERS,
  });
  expect(saved.status()).toBe(200);
}

/** Uploads a CSV of `text` on /requests/bulk and waits for the job's page. */
async function check(page: Page, text: string) {
  await goto(page, "/requests/bulk");
  await page.getByLabel("CSV file").setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(text) });
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page).toHaveURL(/\/requests\/bulk\/[0-9a-f-]{36}$/);
  await hydrated(page);
}

/** Confirms the job on the page for `persons` persons. */
async function confirmJob(page: Page, persons: string) {
  const confirm = page.getByRole("region", { name: "Confirm the erasure" });
  await confirm.getByLabel("Type the number of persons to erase").fill(persons);
  await confirm.getByLabel("Type DELETE to confirm").fill("DELETE");
  await confirm.getByRole("button", { name: "Delete" }).click();
}

/** A downloaded CSV's rows as Python's csv module reads them, each a dictionary by column name. */
async function csvRows(download: Download): Promise<Record<string, string>[]> {
  const path = await download.path();
  const script = "import csv, json, sys\nprint(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8')))))";
  return JSON.parse(execFileSync("python3", ["-c", script, path], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }));
}

test.describe("Customer Data: bulk erasure from a CSV", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));
  test.afterEach(async ({ request }) => setPolicy(request, {}));

  test("a 10,000-row file is checked, downloaded, confirmed, followed to the end and its results downloaded", async ({ page }) => {
    await signIn(page, ALEX);
    await goto(page, "/requests");
    await page.getByRole("link", { name: "Bulk erasure from a CSV" }).click();
    await expect(page).toHaveURL(/\/requests\/bulk$/);
    await expect(page.getByRole("heading", { level: 1, name: "Bulk erasure from a CSV" })).toBeVisible();
    await expectAccessible(page);

    const rows = ["name,email", `"Bulk, Bea",${BEA}`, `"Bulk, Bo",${BO}`, "Formula,=1+1"];
    for (let n = 0; rows.length < 10_001; n += 1) rows.push(`Nobody,nobody${n}@example.org`);
    await page.getByLabel("CSV file").setInputFiles({
      name: "people.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(rows.join("\r\n") + "\r\n"),
    });
    await page.getByRole("button", { name: "Check file" }).click();
    await expect(page).toHaveURL(/\/requests\/bulk\/[0-9a-f-]{36}$/);
    await hydrated(page);
    await expect(page.getByText("2 persons to erase")).toBeVisible();
    await expect(page.getByText(": 3 records, 2 calls and 1 message.")).toBeVisible();
    const table = page.getByRole("table", { name: "Rows of the file" });
    await expect(table.getByRole("row").filter({ hasText: "Malformed: The cell starts like a spreadsheet formula." })).toHaveCount(1);
    await expectAccessible(page);

    const [dryRun] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download the dry run (CSV)" }).click(),
    ]);
    const verdicts = await csvRows(dryRun);
    expect(verdicts).toHaveLength(10_000);
    expect(verdicts[0]).toMatchObject({ line: "2", identifier_kind: "email", verdict: "erase", messages: "1" });
    expect(verdicts[1]).toMatchObject({ line: "3", verdict: "erase", calls: "2" });
    expect(verdicts[1].records).toContain("; ");
    expect(verdicts[2]).toMatchObject({ line: "4", verdict: "malformed" });
    expect(verdicts.filter((row) => row.verdict === "not_found")).toHaveLength(9_997);
    expect(JSON.stringify(verdicts)).not.toContain(BEA);

    const confirm = page.getByRole("region", { name: "Confirm the erasure" });
    const remove = confirm.getByRole("button", { name: "Delete" });
    await confirm.getByLabel("Type the number of persons to erase").fill("3");
    await confirm.getByLabel("Type DELETE to confirm").fill("DELETE");
    await expect(remove).toBeDisabled();
    await confirm.getByLabel("Type the number of persons to erase").fill("2");
    await expect(remove).toBeEnabled();
    await remove.click();

    const progress = page.getByRole("region", { name: "Progress" });
    await expect(progress).toBeVisible();
    await expect(progress.getByText("Finished.")).toBeVisible({ timeout: 30_000 });
    await expect(progress.getByTestId("bulk-done")).toHaveText("2");
    await expect(progress.getByTestId("bulk-remaining")).toHaveText("0");
    await page.reload();
    await hydrated(page);
    await expect(table.getByRole("link", { name: "Completed" })).toHaveCount(2);
    await expectAccessible(page);

    const [results] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download the results (CSV)" }).click(),
    ]);
    const outcomes = await csvRows(results);
    expect(outcomes).toHaveLength(10_000);
    expect(outcomes.filter((row) => row.state === "completed").map((row) => row.line)).toEqual(["2", "3"]);
    expect(outcomes[0]).toMatchObject({ verdict: "erase", messages_erased: "1", calls_erased: "0" });
    expect(outcomes[1]).toMatchObject({ verdict: "erase", calls_erased: "2" });
    expect(outcomes[2]).toMatchObject({ verdict: "malformed", request_id: "" });

    await goto(page, "/requests/bulk");
    await expect(page.getByRole("table", { name: "Recent bulk jobs" }).getByRole("row")).not.toHaveCount(1);
  });

  test("a batch over the approval threshold waits, and its progress follows another Admin's approval in place", async ({ page, request }) => {
    const alex = await apiAs(request, ALEX);
    await alex.setPermission(await alex.userId(BLAIR), true);
    await setPolicy(request, { approval_min_records: "1" });
    await signIn(page, ALEX);
    await check(page, `email\n${LOU}\n`);
    await expect(page.getByText("another Admin with Manage Customer Data must approve it")).toBeVisible();
    await confirmJob(page, "1");
    const progress = page.getByRole("region", { name: "Progress" });
    await expect(progress.getByTestId("bulk-remaining")).toHaveText("1");
    await expect(progress).toContainText("Awaiting approval");
    await expect(page.getByRole("region", { name: "Approve the batch" })).toHaveCount(0);
    await hydrated(page);
    await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));

    const job = new URL(page.url()).pathname.split("/").pop()!;
    await apiAs(request, BLAIR);
    const approved = await request.post("/api/bulk/decide", { form: { job_id: job, approve: "true" }, headers: BROWSER_HEADERS });
    expect(approved.status()).toBe(200);

    await expect(progress.getByTestId("bulk-done")).toHaveText("1", { timeout: 15_000 });
    await expect(progress.getByTestId("bulk-remaining")).toHaveText("0");
    await expect(progress.getByText("Finished.")).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
    await progress.getByRole("link", { name: "Show each row's outcome" }).click();
    await expect(page.getByRole("table", { name: "Rows of the file" }).getByRole("link", { name: "Completed" })).toHaveCount(1);
  });

  test("a file without an identifier column is refused with the reason, and nothing is checked", async ({ page }) => {
    await signIn(page, ALEX);
    await goto(page, "/requests/bulk");
    await page.getByLabel("CSV file").setInputFiles({
      name: "people.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("name,company\nBea,Acme\n"),
    });
    await page.getByRole("button", { name: "Check file" }).click();
    await expect(page).toHaveURL(/\/requests\/bulk\?refused=no_identifier_column$/);
    await expect(page.getByRole("alert")).toContainText("No column is named email, phone or salesforce_id");
    await expectAccessible(page);
  });
});
