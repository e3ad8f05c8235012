import { test, expect, signIn, search, hydrated, recordUrls, expectNoneHolds, ALEX, BLAIR, giveAlexCustomerDataAccess, JORDAN } from "./support";

test.describe("searches keep the searched email out of every URL", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("a customer's and a user's email are found, reloaded and gone back to, never in a URL", async ({ page }) => {
    const urls = recordUrls(page);
    await signIn(page, ALEX);

    await expect(page.getByText("JavaScript is off.")).toBeHidden();
    await search(page, "/customers", JORDAN);
    await expect(page.getByText("2 records match")).toBeVisible();
    await expect(page.getByRole("row").filter({ hasText: "Lead" })).toContainText("Jordan Rivera");
    await expect(page.getByRole("searchbox")).toHaveValue(JORDAN);
    const customersPage = page.url();
    expect(customersPage).toMatch(/\/customers\?search=[0-9a-f-]{36}$/);
    await page.reload();
    await hydrated(page);
    expect(page.url()).toBe(customersPage);
    await expect(page.getByText("2 records match")).toBeVisible();
    await expect(page.getByRole("searchbox")).toHaveValue(JORDAN);

    await search(page, "/users", BLAIR);
    await expect(page.getByRole("row")).toHaveCount(2);
    await expect(page.getByRole("link", { name: "Blair Admin" })).toBeVisible();
    const usersPage = page.url();
    expect(usersPage).toMatch(/\/users\?search=[0-9a-f-]{36}$/);
    await page.reload();
    await hydrated(page);
    await expect(page.getByRole("link", { name: "Blair Admin" })).toBeVisible();
    await expect(page.getByRole("searchbox")).toHaveValue(BLAIR);

    // Every entry of the tab's history, walked back to the start.
    const history = [page.url()];
    for (let step = 0; step < 20; step++) {
      const response = await page.goBack();
      if (!response) break;
      history.push(page.url());
    }
    expect(history).toContain(customersPage);
    expect(history).toContain(usersPage);
    await page.goto(customersPage);
    await expect(page.getByText("2 records match")).toBeVisible();
    const resources = await page.evaluate(() => performance.getEntries().map((entry) => entry.name));

    expectNoneHolds([...urls, ...history, ...resources, page.url()], [JORDAN, BLAIR, "jordan.rivera", "blair.admin"]);
  });
});
