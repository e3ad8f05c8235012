import { test, expect, goto, search, signIn, apiAs, ALEX, BLAIR, BROWSER_HEADERS, giveAlexCustomerDataAccess, expectAccessible } from "./support";
import type { APIRequestContext, Page } from "@playwright/test";

const HARPER = "harper.hold@example.com";
const AVERY = "avery.approval@example.com";

/** Saves Acme's erasure policy through its endpoint, as Alex. */
async function setPolicy(request: APIRequestContext, policy: Record<string, string>) {
  await apiAs(request, ALEX);
  const saved = await request.post("/api/settings/erasure-policy", {
    form: { hold_hours: "0", deadline_days: "30", approval_min_records: "", approval_min_items: "", ...policy },
    headers: BROWSER_HEADERS,
  });
  expect(saved.status()).toBe(200);
}

/** Opens the record named `name` found by `email` and confirms Delete in its dialog, which says `held`. */
async function deleteRecord(page: Page, email: string, name: string, held: string) {
  await search(page, "/customers", email);
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(name);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Delete all call and message data?" });
  await expect(dialog).toContainText(held);
  await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
  await dialog.getByRole("button", { name: /^Delete/ }).click();
}

test.describe("Customer Data: held requests", () => {
  test.afterEach(async ({ request }) => {
    await setPolicy(request, {});
  });

  test("with a 24-hour hold a Delete is scheduled, not done, and can be cancelled", async ({ page, request }) => {
    await giveAlexCustomerDataAccess(request);
    await signIn(page, ALEX);
    await goto(page, "/admin");
    await page.getByLabel("Hold before deleting (hours)").fill("24");
    await page.getByRole("button", { name: "Save policy" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Saved. Requests are held 24 hours" })).toBeVisible();
    await expectAccessible(page);

    await deleteRecord(page, HARPER, "Harper Hold", "unless cancelled");
    const held = page.getByRole("status").filter({ hasText: "Request received: nothing is deleted yet." });
    await expect(held).toContainText("unless cancelled");
    await page.reload();
    await expect(page.getByRole("status").filter({ hasText: "will be deleted on" })).toContainText("unless the request is cancelled");
    await expect(page.getByRole("button", { name: "Delete", exact: true })).toHaveCount(0);
    await page.getByRole("link", { name: "Open the request" }).click();
    await expect(page).toHaveURL(/\/requests\/[0-9a-f-]{36}$/);
    await expect(page.getByText("Scheduled", { exact: true })).toBeVisible();
    await expect(page.getByRole("status").filter({ hasText: "Will be deleted on" })).toContainText("unless cancelled");
    const records = page.getByRole("table", { name: "Records of this request" });
    await expect(records.getByRole("row").filter({ hasText: "Harper Hold" })).toContainText("No");
    await expectAccessible(page);

    await page.getByRole("button", { name: "Cancel request" }).click();
    await expect(page.getByText("Cancelled", { exact: true }).first()).toBeVisible();
    await expect(page.getByRole("list").filter({ hasText: "Received" })).toContainText("Cancelled by Alex Admin");
    await expect(page.getByRole("button", { name: "Cancel request" })).toHaveCount(0);

    await page.getByRole("table", { name: "Records of this request" }).getByRole("link", { name: "Harper Hold" }).click();
    await expect(page.getByRole("button", { name: "Delete", exact: true })).toBeVisible();
    await expect(page.getByText("Hello from Harper Hold")).toBeVisible();
  });

  test("with approval on, Alex requests in one browser and Blair approves in another", async ({ page, request, browser }) => {
    await giveAlexCustomerDataAccess(request);
    const alexApi = await apiAs(request, ALEX);
    await alexApi.setPermission(await alexApi.userId(BLAIR), true);
    await setPolicy(request, { approval_min_items: "1" });

    await signIn(page, ALEX);
    await deleteRecord(page, AVERY, "Avery Approval", "Needs another Admin's approval before anything is deleted.");
    const held = page.getByRole("status").filter({ hasText: "needs another Admin's approval" });
    await held.getByRole("link", { name: "Open the request" }).click();
    await expect(page.getByText("Awaiting approval", { exact: true })).toBeVisible();
    await expect(page.getByRole("button", { name: "Approve" })).toHaveCount(0);
    const requestUrl = page.url();

    const blairContext = await browser.newContext();
    const blair = await blairContext.newPage();
    await signIn(blair, BLAIR);
    const open = blair.getByRole("region", { name: "Open erasure requests" });
    await expect(open).toContainText("Awaiting approval");
    await blair.goto(requestUrl);
    await expect(blair.getByRole("button", { name: "Approve" })).toBeVisible();
    await expectAccessible(blair);
    await blair.locator("body[data-hydrated]").waitFor({ state: "attached" });
    await blair.getByRole("button", { name: "Approve" }).click();
    await expect(blair.getByText("Completed", { exact: true })).toBeVisible();
    await expect(blair.getByRole("list").filter({ hasText: "Received" })).toContainText("Approved by Blair Admin");
    await expect(blair.getByRole("list").filter({ hasText: "Received" })).toContainText("Data deleted");
    await blairContext.close();

    await page.reload();
    await expect(page.getByText("Completed", { exact: true })).toBeVisible();
    await expect(page.getByRole("table", { name: "Records of this request" }).getByRole("row").filter({ hasText: "Avery Approval" })).toContainText("Yes");
  });
});
