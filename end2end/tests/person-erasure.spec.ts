import { execFileSync } from "node:child_process";
import type { APIRequestContext } from "@playwright/test";
import {
  test,
  expect,
  signIn,
  search,
  hydrated,
  expectAccessible,
  ALEX,
  PASSWORD,
  BROWSER_HEADERS,
  giveAlexCustomerDataAccess,
} from "./support";

// The people of end2end/fixtures.sql: each a Lead and a Contact sharing an email and a phone number. (Jordan of
// the demo data is not used: customer-data.spec.ts erases Jordan's Lead earlier in this shared database.)
const MORGAN = "morgan.person@example.com";
const MORGAN_PHONE = "+1 415 555 0921";
const QUINN = "quinn.conflict@example.com";
const HOLLIS = "hollis.hold@example.com";

/** Runs `sql` in the end-to-end database the console serves (`E2E_DATABASE_URL`, which scripts/test sets). */
function sql(statement: string) {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL is not set: scripts/test sets it to the console's end-to-end database");
  execFileSync("psql", [url, "-q", "-v", "ON_ERROR_STOP=1", "-c", statement]);
}

test.describe("Customer Data: a person's erasure", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("an admin deletes all of a person's records in one request, from the search that lists them", async ({ page, request }) => {
    // Morgan's Account is deleted on its own first, as the help article's record-by-record flow does.
    const post = (path: string, form: Record<string, string>) => request.post(path, { form, headers: BROWSER_HEADERS });
    expect((await post("/api/auth/login", { email: ALEX, password: PASSWORD })).status()).toBe(200);
    const found = await (await post("/api/customers/search", { query: MORGAN })).json();
    const account = found.records.find((r: { object_type: string }) => r.object_type === "Account");
    const erased = await post("/api/customers/erase", { customer_id: account.id, confirmation: "DELETE" });
    expect(erased.status()).toBe(200);

    await signIn(page, ALEX);
    await search(page, "/customers", MORGAN_PHONE);
    await expect(page.getByText("3 records match, 1 of 3 deleted.")).toBeVisible();
    const records = page.getByRole("table", { name: "Matching records" });
    await expect(records.getByRole("row")).toHaveCount(4);
    const deleteAll = page.getByRole("button", { name: "Delete all 2 records" });
    await expect(deleteAll).toBeEnabled();

    await deleteAll.click();
    const dialog = page.getByRole("dialog", { name: "Delete all call and message data of 2 records?" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Type DELETE to confirm")).toBeFocused();
    const counts = dialog.getByRole("table", { name: "What will be deleted, by record" });
    // Calls, recordings, voicemails, transcripts, messages, media files.
    const cells = (name: string) => counts.getByRole("row").filter({ hasText: name }).getByRole("cell");
    await expect(cells("Lead Morgan Person")).toHaveText(["2", "1", "1", "1", "1", "1"]);
    await expect(cells("Contact Morgan Person")).toHaveText(["1", "0", "0", "0", "2", "0"]);
    await expect(cells("Total")).toHaveText(["3", "1", "1", "1", "3", "1"]);
    await expect(counts.getByRole("row")).toHaveCount(4);
    await expect(dialog).toContainText(/Activity from \d{4}-\d\d-\d\d \d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d UTC\./);
    await expect(dialog.getByRole("listitem")).toHaveText([/^Account Morgan Person, data deleted \d{4}-/]);
    await expect(dialog).toContainText("This cannot be undone.");
    await expect(dialog).toContainText("Salesforce records are not affected");
    const confirm = dialog.getByRole("button", { name: /^Delete/ });
    await expect(confirm).toBeDisabled();
    await expectAccessible(page);

    // The suppression checkbox comes before the confirmation field; Tab wraps around both ends.
    const keepSuppressed = dialog.getByRole("checkbox", { name: /Keep this person on the suppression list/ });
    await expect(keepSuppressed).toBeChecked();
    await page.keyboard.press("Shift+Tab");
    await expect(keepSuppressed).toBeFocused();
    await page.keyboard.press("Shift+Tab");
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(keepSuppressed).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(dialog.getByLabel("Type DELETE to confirm")).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(deleteAll).toBeFocused();

    await deleteAll.click();
    await dialog.getByLabel("Type DELETE to confirm").fill("delete");
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
    await expect(confirm).toBeEnabled();
    await expectAccessible(page);
    await confirm.click();

    await expect(page).toHaveURL(/\/customers\?search=[0-9a-f-]{36}&request=[0-9a-f-]{36}$/);
    await hydrated(page);
    const outcome = page.getByRole("status").filter({ hasText: "Call and message data of 2 records deleted" });
    await expect(outcome).toContainText("by Alex Admin");
    await expect(page.getByText("3 records match, 3 of 3 deleted.")).toBeVisible();
    for (const type of ["Lead", "Contact", "Account"]) {
      await expect(records.getByRole("row").filter({ hasText: type })).toContainText("Data deleted");
    }
    await expect(page.getByRole("button", { name: /^Delete all/ })).toHaveCount(0);
    await expectAccessible(page);

    await outcome.getByRole("link", { name: "Open the erasure request" }).click();
    await expect(page).toHaveURL(/\/requests\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Erasure request");
    const requestRecords = page.getByRole("table", { name: "Records of this request" });
    await expect(requestRecords.getByRole("row").filter({ hasText: "Morgan Person" })).toHaveCount(2);
    await expect(requestRecords.getByRole("row").filter({ hasText: "Lead" })).toContainText("Yes");
    await expect(requestRecords.getByRole("row").filter({ hasText: "Contact" })).toContainText("Yes");
  });
});

test.describe("Customer Data: a person's erasure that the records outran", () => {
  test.use({ expectedHttpErrors: [409] });
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("a new duplicate found after the dialog opened: nothing is erased, and the page shows it", async ({ page }) => {
    await signIn(page, ALEX);
    await search(page, "/customers", QUINN);
    await expect(page.getByText("2 records match.")).toBeVisible();
    await page.getByRole("button", { name: "Delete all 2 records" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete all call and message data of 2 records?" });
    await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");

    sql(
      "insert into customers (account_id, salesforce_id, object_type, name, email, phone, phone_e164) " +
        "select id, '0015e00QuinnCoAAAA', 'Account', 'Quinn Conflict', 'quinn.conflict@example.com', " +
        "'+14155550922', '+14155550922' from accounts where name = 'Acme Corp'",
    );
    await dialog.getByRole("button", { name: /^Delete/ }).click();

    const outcome = page.getByRole("dialog", { name: "Nothing was erased" });
    await expect(outcome.getByRole("alert")).toContainText("nothing was erased");
    await expect(outcome.getByRole("button", { name: /^Delete/ })).toHaveCount(0);
    await expect(outcome.getByRole("button", { name: "Close" })).toBeFocused();
    await outcome.getByRole("button", { name: "Close" }).click();

    await hydrated(page);
    await expect(page.getByText("3 records match.")).toBeVisible();
    const records = page.getByRole("table", { name: "Matching records" });
    await expect(records.getByRole("row").filter({ hasText: "Has data" })).toHaveCount(3);
    await expect(page.getByRole("button", { name: "Delete all 3 records" })).toBeEnabled();
  });
});

test.describe("Customer Data: a person's erasure under a hold", () => {
  const setHold = async (request: APIRequestContext, hours: number) => {
    const post = (path: string, form: Record<string, string>) => request.post(path, { form, headers: BROWSER_HEADERS });
    expect((await post("/api/auth/login", { email: ALEX, password: PASSWORD })).status()).toBe(200);
    const saved = await post("/api/settings/erasure-policy", {
      hold_hours: String(hours),
      deadline_days: "30",
      approval_min_records: "",
      approval_min_items: "",
    });
    expect(saved.status()).toBe(200);
  };
  test.beforeEach(async ({ request }) => {
    await giveAlexCustomerDataAccess(request);
    await setHold(request, 24);
  });
  test.afterEach(async ({ request }) => setHold(request, 0));

  test("the dialog says when the records will be deleted; the request is scheduled, then cancelled", async ({ page }) => {
    await signIn(page, ALEX);
    await search(page, "/customers", HOLLIS);
    await page.getByRole("button", { name: "Delete all 2 records" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete all call and message data of 2 records?" });
    await expect(dialog).toContainText(/Will be deleted on \d{4}-\d\d-\d\d \d\d:\d\d UTC unless cancelled\./);
    await expectAccessible(page);
    await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
    await dialog.getByRole("button", { name: /^Delete/ }).click();

    await expect(page).toHaveURL(/&request=[0-9a-f-]{36}$/);
    const outcome = page.getByRole("status").filter({ hasText: "Request received for 2 records: nothing is deleted yet." });
    await expect(outcome).toContainText(/Will be deleted on \d{4}-\d\d-\d\d \d\d:\d\d UTC unless cancelled\./);
    const records = page.getByRole("table", { name: "Matching records" });
    await expect(records.getByRole("row").filter({ hasText: "Has data" })).toHaveCount(2);

    await outcome.getByRole("link", { name: "Open the erasure request" }).click();
    await hydrated(page);
    await expect(page.getByText("Scheduled").first()).toBeVisible();
    await page.getByRole("button", { name: "Cancel request" }).click();
    await expect(page.getByText("Cancelled").first()).toBeVisible();
    await expect(page.getByRole("button", { name: "Cancel request" })).toHaveCount(0);
  });
});
