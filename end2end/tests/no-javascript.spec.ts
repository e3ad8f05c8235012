import { test, expect, recordUrls, expectNoneHolds, ALEX, BLAIR, PASSWORD, giveAlexCustomerDataAccess, JORDAN } from "./support";

test.describe("pages with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("an admin signs in by the plain form and reads every page; what needs the wasm says so", async ({ page }) => {
    const urls = recordUrls(page);
    const needsScript = page.getByText("JavaScript is off.");

    await page.goto("/login");
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await page.getByLabel("Email").fill(ALEX);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/login\?refused=401$/);
    await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
    await page.getByLabel("Email").fill(ALEX);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);

    await expect(page.getByRole("heading", { name: "Welcome, Alex" })).toBeVisible();
    await expect(page.getByRole("banner")).toContainText("Alex Admin");
    await expect(needsScript).toBeVisible();
    await expect(page.getByRole("button", { name: "End other sessions" })).toBeDisabled();

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
    await expect(page.getByRole("heading", { name: "General Settings" })).toBeVisible();
    await expect(page.getByRole("switch", { name: "Manage Customer Data" })).toBeChecked();
    await expect(page.getByRole("switch", { name: "Manage Customer Data" })).toBeDisabled();
    await expect(page.getByRole("button", { name: "Save", exact: true })).toBeDisabled();
    await expect(needsScript).toBeVisible();

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Manage" }).click();
    await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
    await expect(page.getByRole("table", { name: "Users" }).getByRole("row")).not.toHaveCount(1);
    await page.getByRole("searchbox").fill(BLAIR);
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/\/users\?search=[0-9a-f-]{36}$/);
    await expect(page.getByRole("row")).toHaveCount(2);
    await expect(page.getByRole("searchbox")).toHaveValue(BLAIR);
    await page.getByRole("link", { name: "Blair Admin" }).click();
    await expect(page.getByRole("heading", { name: "Blair Admin" })).toBeVisible();
    await expect(page.getByText(BLAIR)).toBeVisible();
    await expect(page.getByRole("switch", { name: "Manage Customer Data" })).toBeDisabled();
    await expect(page.getByRole("button", { name: "End all sessions" })).toBeDisabled();
    await expect(needsScript).toBeVisible();

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Customers" }).click();
    await expect(page.getByRole("heading", { name: "Customers" })).toBeVisible();
    await expect(page.getByText("Search for a customer")).toBeVisible();
    await page.getByRole("searchbox").fill(JORDAN);
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/\/customers\?search=[0-9a-f-]{36}$/);
    await expect(page.getByText("2 records match")).toBeVisible();
    await expect(page.getByRole("table", { name: "Matching records" }).getByRole("row")).toHaveCount(3);
    // Deleting the person's records together needs the wasm, like a record's Delete (an earlier spec may have
    // erased the Lead: then one record is left).
    await expect(page.getByRole("button", { name: /^Delete (all 2 records|1 record)$/ })).toBeDisabled();
    await page.reload();
    await expect(page.getByText("2 records match")).toBeVisible();
    await expect(page.getByRole("searchbox")).toHaveValue(JORDAN);

    // The Contact: an earlier spec erases the Lead of this shared database. The demo gives it 3 calls, 3 messages.
    await page.getByRole("row").filter({ hasText: "Contact" }).getByRole("link", { name: "Jordan Rivera" }).click();
    await expect(page.getByRole("heading", { name: "Jordan Rivera", level: 1 })).toBeVisible();
    await expect(page.getByText(JORDAN, { exact: true })).toBeVisible();
    await expect(page.getByRole("table", { name: "Calls, newest first" }).getByRole("row")).toHaveCount(4);
    await expect(page.getByRole("table", { name: "Messages, newest first" }).getByRole("row")).toHaveCount(4);
    await expect(page.getByRole("button", { name: "Delete", exact: true })).toBeDisabled();
    await expect(needsScript).toBeVisible();

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/admin");
    await expect(page).toHaveURL(/\/login\?next=\/admin$/);

    expectNoneHolds(urls, [PASSWORD, "not-the-password", ALEX, BLAIR, JORDAN]);
  });
});
