import { test, expect, goto, signIn, ALEX, PASSWORD, BROWSER_HEADERS, giveAlexCustomerDataAccess, expectAccessible } from "./support";

const SAM = "sam.request@example.com";

test.describe("Customer Data: requests", () => {
  test("a person's erasure is listed under Requests and its page shows records and timeline", async ({ page, request }) => {
    await giveAlexCustomerDataAccess(request);
    const post = (path: string, form: Record<string, string>) =>
      request.post(path, { form, headers: BROWSER_HEADERS });
    expect((await post("/api/auth/login", { email: ALEX, password: PASSWORD })).status()).toBe(200);
    const found = await (await post("/api/customers/search", { query: SAM })).json();
    const ids: string[] = found.records.filter((r: { erased_at: string | null }) => !r.erased_at).map((r: { id: string }) => r.id);
    expect(ids).toHaveLength(1);
    const created = await post("/api/requests/create", { customer_ids: ids.join(","), query: SAM, confirmation: "DELETE" });
    expect(created.status()).toBe(200);
    const { request_id: requestId } = await created.json();

    await signIn(page, ALEX);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Requests" }).click();
    await expect(page).toHaveURL(/\/requests$/);
    await expect(page.getByRole("heading", { level: 1, name: "Requests" })).toBeVisible();
    const row = page.getByRole("row").filter({ has: page.locator(`a[href="/requests/${requestId}"]`) });
    await expect(row).toContainText("Completed");
    await expectAccessible(page);

    await page.getByLabel("State").selectOption("scheduled");
    await page.getByRole("button", { name: "Show" }).click();
    await expect(page).toHaveURL(/state=scheduled/);
    await expect(page.getByText("No requests")).toBeVisible();

    await goto(page, "/requests?state=completed");
    await page.locator(`a[href="/requests/${requestId}"]`).click();
    await expect(page).toHaveURL(new RegExp(`/requests/${requestId}$`));
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Erasure request");
    await expect(page.getByText(requestId, { exact: true })).toBeVisible();
    const records = page.getByRole("table", { name: "Records of this request" });
    await expect(records.getByRole("row").filter({ hasText: "Sam Request" })).toContainText("Yes");
    await expect(page.getByRole("list").filter({ hasText: "Received" })).toContainText("Data deleted");
    await expectAccessible(page);
  });
});
