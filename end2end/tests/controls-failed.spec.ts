import { test as base } from "@playwright/test";
import { test, expect, signIn, hydrated, ALEX } from "./support";

// The page's own scripts fail here on purpose (the wasm is blocked), so this spec does not use `test`, which
// fails on any console or page error.
base("when the wasm is blocked, a notice says the controls did not load and how to fix it", async ({ page }) => {
  await signIn(page, ALEX);
  await page.route(/\/pkg\/[^/]*\.wasm(\?.*)?$/, (route) => route.abort());
  await page.goto("/");
  const notice = page.getByRole("alert").filter({ hasText: "controls did not load" });
  await expect(notice).toBeVisible({ timeout: 10_000 });
  await expect(notice).toContainText("Reload the page");
  await expect(notice).toContainText("/pkg/");
  await expect(page.locator("body[data-hydrated]")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "End other sessions" })).toBeDisabled();
});

test("when the controls load, the notice stays hidden", async ({ page }) => {
  await signIn(page, ALEX);
  await page.goto("/");
  await hydrated(page);
  await page.waitForTimeout(5_500);
  await expect(page.getByText("controls did not load")).toBeHidden();
  await expect(page.getByRole("button", { name: "End other sessions" })).toBeEnabled();
});
