import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { test, expect, signIn, search, expectAccessible, ALEX, JORDAN, giveAlexCustomerDataAccess } from "./support";

test.describe("Customer Data: find, view and erase", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("an admin exports a person's records and one record as ZIPs that Python's zipfile opens", async ({ page }) => {
    await signIn(page, ALEX);
    await search(page, "/customers", JORDAN);
    const checkExport = async (path: string) =>
      JSON.parse(execFileSync("python3", [resolve(__dirname, "../../tests/python/check_export.py"), path], { encoding: "utf8" }));

    // Both of Jordan's records in one archive, from the search results.
    const [both] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export all 2 (ZIP)" }).click()]);
    expect(both.suggestedFilename()).toMatch(/^customer-data-2-records-\d{4}-\d{2}-\d{2}\.zip$/);
    // The demo gives Jordan's Lead 4 calls and 5 messages, the Contact 3 and 3.
    expect(await checkExport(await both.path())).toMatchObject({ records: 2, calls: 7, messages: 8, missing: 0 });

    await page.getByRole("row").filter({ hasText: "Lead" }).getByRole("link", { name: "Jordan Rivera" }).click();
    await expect(page.getByRole("heading", { name: "Jordan Rivera" })).toBeVisible();
    const exportLink = page.getByRole("link", { name: /^Export the data of Jordan Rivera \(Lead/ });
    await expect(exportLink).toHaveText("Export");
    await expectAccessible(page);

    const [download] = await Promise.all([page.waitForEvent("download"), exportLink.click()]);
    expect(download.suggestedFilename()).toMatch(/^customer-data-[0-9A-Za-z]{18}-\d{4}-\d{2}-\d{2}\.zip$/);
    const checked = await checkExport(await download.path());
    expect(checked).toMatchObject({ records: 1, calls: 4, messages: 5, missing: 0 });
    expect(checked.files).toBeGreaterThan(0);
  });

  test("an admin erases one of Jordan's two records behind the confirmation dialog", async ({ page }) => {
    await signIn(page, ALEX);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Customers" }).click();
    await expect(page.getByText("Search for a customer")).toBeVisible();
    await page.getByLabel("Search customers").fill("  Jordan.Rivera@Example.com ");
    await page.getByRole("button", { name: "Search" }).click();

    const rows = page.getByRole("row");
    await expect(rows).toHaveCount(3);
    await expect(page.getByText("2 records match")).toBeVisible();
    const leadRow = page.getByRole("row").filter({ hasText: "Lead" });
    const contactRow = page.getByRole("row").filter({ hasText: "Contact" });
    await expect(leadRow).toContainText("Jordan Rivera");
    await expect(contactRow).toContainText("Jordan Rivera");
    await expect(contactRow).toContainText("Has data");
    const contactCalls = await contactRow.getByRole("cell").nth(4).innerText();
    const contactMessages = await contactRow.getByRole("cell").nth(5).innerText();
    await expectAccessible(page);

    await leadRow.getByRole("link", { name: "Jordan Rivera" }).click();
    await expect(page.getByRole("heading", { name: "Jordan Rivera" })).toBeVisible();
    const calls = page.getByRole("table", { name: "Calls, newest first" });
    const messages = page.getByRole("table", { name: "Messages, newest first" });
    await expect(calls.getByRole("row")).toHaveCount(5);
    await expect(messages.getByRole("row")).toHaveCount(6);
    await expectAccessible(page);

    const deleteButton = page.getByRole("button", { name: "Delete", exact: true });
    await expect(deleteButton).toBeEnabled();
    await deleteButton.click();
    const dialog = page.getByRole("dialog", { name: "Delete all call and message data?" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole("row", { name: /Calls/ })).toContainText("4");
    await expect(dialog.getByRole("row", { name: /^Messages/ })).toContainText("5");
    await expect(dialog).toContainText("This cannot be undone.");
    await expect(dialog).toContainText("Salesforce records are not affected");
    const confirm = dialog.getByRole("button", { name: /^Delete/ });
    await expect(confirm).toBeDisabled();
    await expect(dialog.getByLabel("Type DELETE to confirm")).toBeFocused();
    await expectAccessible(page);

    await page.keyboard.press("Shift+Tab");
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(dialog.getByLabel("Type DELETE to confirm")).toBeFocused();

    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(deleteButton).toBeFocused();
    await expect(calls.getByRole("row")).toHaveCount(5);

    await deleteButton.click();
    await dialog.getByLabel("Type DELETE to confirm").fill("delete");
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
    await expect(confirm).toBeEnabled();
    await confirm.click();

    await expect(page.getByRole("status")).toContainText("Call and message data deleted");
    await expect(page.getByRole("status")).toContainText("by Alex Admin");
    await expect(page.getByText("No calls", { exact: true })).toBeVisible();
    await expect(page.getByText("No messages", { exact: true })).toBeVisible();
    await expect(page.getByRole("button", { name: "Delete", exact: true })).toHaveCount(0);

    await page.getByRole("link", { name: "Customers" }).first().click();
    await page.getByLabel("Search customers").fill("jordan.rivera@example.com");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page.getByRole("row").filter({ hasText: "Lead" })).toContainText("Data deleted");
    const contactAfter = page.getByRole("row").filter({ hasText: "Contact" });
    await expect(contactAfter).toContainText("Has data");
    await expect(contactAfter.getByRole("cell").nth(4)).toHaveText(contactCalls);
    await expect(contactAfter.getByRole("cell").nth(5)).toHaveText(contactMessages);
  });

  test("markup in customer data is shown as text", async ({ page }) => {
    await signIn(page, ALEX);
    await search(page, "/customers", "xss.probe@example.com");
    const link = page.getByRole("link", { name: /Robin/ });
    await expect(link).toHaveText("Robin <script>window.__xss = 1</script> Probe");
    await link.click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Robin <script>window.__xss = 1</script> Probe");
    await expect(page.getByText('<img src=x onerror="window.__xss = 2"> hello <b>bold</b>')).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await expect(page.locator("main img")).toHaveCount(0);
  });
});

test.describe("Customer Data refusals", () => {
  test.use({ expectedHttpErrors: [422] });

  test("a malformed Salesforce ID says what is wrong", async ({ page, request }) => {
    await giveAlexCustomerDataAccess(request);
    await signIn(page, ALEX);
    await search(page, "/customers", "00Q5e00XssProbeEE");
    await expect(page.getByRole("alert")).toContainText("15 or 18 characters");
  });
});
