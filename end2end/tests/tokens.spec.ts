import { test, expect, signIn, hydrated, expectAccessible, giveAlexCustomerDataAccess, ALEX } from "./support";

test.describe("Admin Console: API tokens", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("an admin makes a token, sees its secret once, and revokes it", async ({ page, playwright }) => {
    await signIn(page, ALEX);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API tokens" }).click();
    await expect(page).toHaveURL(/\/admin\/tokens$/);
    await hydrated(page);
    await expect(page.getByRole("heading", { level: 1, name: "API tokens" })).toBeVisible();

    const name = `Privacy platform ${Date.now()}`;
    await page.getByLabel("Name").fill(name);
    await page.getByRole("checkbox", { name: /audit:read/ }).check();
    await page.getByRole("checkbox", { name: /requests:read/ }).check();
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = page.getByLabel("The new token's secret");
    await expect(secret).toHaveText(/^cdc_[0-9a-f]{64}$/);
    const token = (await secret.innerText()).trim();
    await expectAccessible(page);

    const api = await playwright.request.newContext({ baseURL: page.url(), extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
    expect((await api.get("/api/v1/audit-events?limit=1")).status()).toBe(200);

    await page.getByRole("link", { name: "Show it in the list" }).click();
    await hydrated(page);
    await expect(page.getByText(token)).toHaveCount(0);
    const row = page.getByRole("table", { name: "API tokens, newest first" }).getByRole("row").filter({ hasText: name });
    await expect(row).toContainText("audit:read, requests:read");
    await expect(row).toContainText("Alex Admin");
    await row.getByRole("button", { name: `Revoke ${name}` }).click();
    await expect(page.getByRole("table", { name: "API tokens, newest first" }).getByRole("row").filter({ hasText: name })).toContainText("Revoked");
    expect((await api.get("/api/v1/audit-events?limit=1")).status()).toBe(401);
    await api.dispose();
    await expectAccessible(page);
  });
});
