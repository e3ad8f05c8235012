import { test, expect, signIn, goto, search, apiAs, expectAccessible, ALEX, BLAIR } from "./support";

test.describe("Admin Console: the account setting and the per-user permission", () => {
  test.use({ expectedHttpErrors: [403] });

  test.beforeEach(async ({ request }) => {
    const alex = await apiAs(request, ALEX);
    await alex.setAccountSetting(false);
  });

  test("an admin enables the setting, grants Blair, and turning it off closes Customer Data", async ({ page, browser }) => {
    await signIn(page, ALEX);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
    await expect(page.getByRole("heading", { name: "General Settings" })).toBeVisible();
    const setting = page.getByRole("switch", { name: "Manage Customer Data" });
    await expect(setting).not.toBeChecked();
    await expectAccessible(page);
    await setting.check();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByRole("status")).toContainText("Manage Customer Data is now on");
    await page.reload();
    await expect(page.getByRole("switch", { name: "Manage Customer Data" })).toBeChecked();

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Manage" }).click();
    await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
    const findBlair = async (text: string) => {
      await page.getByLabel("Search users").fill(text);
      await page.getByRole("button", { name: "Search" }).click();
      await expect(page.getByRole("row")).toHaveCount(2);
      await expect(page.getByRole("link", { name: "Blair Admin" })).toBeVisible();
    };
    await findBlair("blair");
    await findBlair(BLAIR);
    const salesforceId = (await page.getByRole("row").nth(1).getByRole("cell").nth(3).innerText()).trim();
    expect(salesforceId).toMatch(/^005[0-9A-Za-z]{15}$/);
    await findBlair(salesforceId);
    await findBlair(salesforceId.slice(0, 15));
    await expectAccessible(page);

    await page.getByRole("link", { name: "Blair Admin" }).click();
    await expect(page.getByRole("heading", { name: "Blair Admin" })).toBeVisible();
    await hydratedProfile(page);
    await page.getByRole("switch", { name: "Manage Customer Data" }).check();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByRole("status")).toContainText("Blair Admin can now manage customer data");
    await expectAccessible(page);

    const blairContext = await browser.newContext();
    const blair = await blairContext.newPage();
    await signIn(blair, BLAIR);
    await expect(blair.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Customers" })).toBeVisible();

    await goto(page, "/admin");
    await page.getByRole("switch", { name: "Manage Customer Data" }).uncheck();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByRole("status")).toContainText("Manage Customer Data is now off");

    await goto(blair, "/");
    await expect(blair.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Customers" })).toHaveCount(0);
    await goto(blair, "/customers");
    await expect(blair.getByRole("status")).toContainText("Manage Customer Data is turned off for your account.");
    await expect(blair.getByRole("searchbox")).toHaveCount(0);
    await expect(blair.getByRole("table")).toHaveCount(0);
    await blairContext.close();

    await search(page, "/users", "blair");
    await page.getByRole("link", { name: "Blair Admin" }).click();
    await expect(page.getByText("Manage Customer Data is turned off for this account.")).toBeVisible();
    await expect(page.getByRole("switch")).toHaveCount(0);
  });

  test("an agent's profile shows no toggle", async ({ page, request }) => {
    const alex = await apiAs(request, ALEX);
    await alex.setAccountSetting(true);
    await signIn(page, ALEX);
    await search(page, "/users", "casey");
    await page.getByRole("link", { name: "Casey Agent" }).click();
    await expect(page.getByRole("heading", { name: "Casey Agent" })).toBeVisible();
    await expect(page.getByText("Manage Customer Data is only for Admins.")).toBeVisible();
    await expect(page.getByRole("switch")).toHaveCount(0);
  });

  test("a search that matches nobody says so", async ({ page }) => {
    await signIn(page, ALEX);
    await search(page, "/users", "%_nobody\\'");
    await expect(page.getByText("No users match")).toBeVisible();
  });
});

async function hydratedProfile(page: import("@playwright/test").Page) {
  await expect(page.getByRole("button", { name: "Save", exact: true })).toBeEnabled();
}
