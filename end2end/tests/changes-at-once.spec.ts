import { test, expect, signIn, goto, search, apiAs, expectAccessible, ALEX } from "./support";

test.describe("Changes show at once", () => {
  test.beforeEach(async ({ request }) => {
    const alex = await apiAs(request, ALEX);
    await alex.setAccountSetting(true);
    await alex.setPermission(await alex.userId(ALEX), false);
    await alex.setAccountSetting(false);
  });

  test("home's checklist, the setting, the grant and the navigation follow each other without a reload", async ({ page }) => {
    await signIn(page, ALEX);
    const nav = page.getByRole("navigation", { name: "Main" });
    const checklist = page.getByRole("region", { name: "Set up Customer Data" });
    await expect(checklist.getByRole("listitem")).toHaveCount(3);
    await expect(checklist.getByRole("listitem").nth(0)).toContainText("To do:");
    await expect(checklist.getByRole("listitem").nth(1)).toContainText("To do:");
    await expectAccessible(page);

    await checklist.getByRole("link", { name: "Turn Manage Customer Data on for the account" }).click();
    await expect(page).toHaveURL(/\/admin$/);
    await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
    await page.getByRole("switch", { name: "Manage Customer Data" }).check();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const saved = page.getByRole("status").filter({ hasText: "Manage Customer Data is now on" });
    await expect(saved).toBeVisible();
    await expect(nav.getByRole("link", { name: "Customers" })).toHaveCount(0);
    await saved.getByRole("link", { name: "Give the permission under Users > Manage" }).click();

    await expect(page).toHaveURL(/\/users$/);
    await search(page, "/users", "alex");
    await page.getByRole("link", { name: "Alex Admin" }).click();
    await expect(page.getByRole("button", { name: "Save", exact: true })).toBeEnabled();
    const url = page.url();
    await page.getByRole("switch", { name: "Manage Customer Data" }).check();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const granted = page.getByRole("status").filter({ hasText: "Alex Admin can now manage customer data" });
    await expect(granted).toBeVisible();
    await expect(nav.getByRole("link", { name: "Customers" })).toBeVisible();
    expect(page.url()).toBe(url);
    await granted.getByRole("link", { name: "Open Customer Data" }).click();
    await expect(page.getByRole("searchbox")).toBeVisible();

    await goto(page, "/admin");
    await page.getByRole("switch", { name: "Manage Customer Data" }).uncheck();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByRole("status").filter({ hasText: "Manage Customer Data is now off" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Customers" })).toHaveCount(0);

    await search(page, "/users", "alex");
    await expect(page.getByRole("row").filter({ hasText: "Alex Admin" })).toContainText(
      "Yes (inactive: account setting off)",
    );
    await goto(page, "/");
    await expect(checklist.getByRole("listitem").nth(0)).toContainText("To do:");
    await expect(checklist.getByRole("listitem").nth(1)).toContainText("Done:");
  });
});
