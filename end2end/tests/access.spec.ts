import { test, expect, signIn, goto, apiAs, expectAccessible, ALEX, CASEY } from "./support";

test.describe("Refusals say which rule refuses and who can change it", () => {
  test("without the setting, or without the permission, Customers shows why instead of a search", async ({ page, request }) => {
    const alex = await apiAs(request, ALEX);
    await alex.setAccountSetting(false);
    await signIn(page, ALEX);
    await goto(page, "/customers");
    const refusal = page.getByRole("status").filter({ hasText: "Manage Customer Data" });
    await expect(refusal).toContainText("Manage Customer Data is turned off for your account.");
    await expect(refusal).toContainText("Alex Admin and Blair Admin");
    await expect(page.getByRole("searchbox")).toHaveCount(0);
    await expectAccessible(page);
    await refusal.getByRole("link", { name: "Open the Admin Console" }).click();
    await expect(page).toHaveURL(/\/admin$/);

    await alex.setAccountSetting(true);
    await alex.setPermission(await alex.userId(ALEX), false);
    await goto(page, "/customers");
    await expect(refusal).toContainText("You do not have the Manage Customer Data permission.");
    await expect(refusal).toContainText("Alex Admin and Blair Admin");
    await expect(page.getByRole("searchbox")).toHaveCount(0);
    await refusal.getByRole("link", { name: "Open Users > Manage" }).click();
    await expect(page).toHaveURL(/\/users$/);
    await expect(page.getByRole("searchbox")).toBeVisible();
  });

  test("an agent is told that Users and Customers are for Admins, and who they are", async ({ page }) => {
    await signIn(page, CASEY);
    await goto(page, "/users");
    await expect(page.getByRole("status")).toContainText("Only Admins can use the Admin Console.");
    await expect(page.getByRole("status")).toContainText("Alex Admin and Blair Admin");
    await expect(page.getByRole("searchbox")).toHaveCount(0);
    await expectAccessible(page);
    await goto(page, "/customers");
    await expect(page.getByRole("status")).toContainText("Customer Data is for Admins.");
    await expect(page.getByRole("searchbox")).toHaveCount(0);
  });
});
