import {
  test,
  expect,
  signIn,
  search,
  hydrated,
  ageSignIns,
  expectAccessible,
  ALEX,
  PASSWORD,
  giveAlexCustomerDataAccess,
} from "./support";

test.describe("Customer Data flows", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("a record erased in another tab turns the dialog into the outcome, not an error", async ({ page, context }) => {
    await signIn(page, ALEX);
    await search(page, "/customers", "taylor.twotabs@example.com");
    await page.getByRole("link", { name: "Taylor Twotabs" }).click();
    await hydrated(page);
    const recordUrl = page.url();

    const other = await context.newPage();
    const otherProblems: string[] = [];
    other.on("console", (m) => {
      if (m.type() === "error" && !m.text().includes("the server responded with a status of 409")) {
        otherProblems.push(m.text());
      }
    });
    other.on("pageerror", (e) => otherProblems.push(e.message));
    await other.goto(recordUrl);
    await hydrated(other);
    await other.getByRole("button", { name: "Delete", exact: true }).click();
    const otherDialog = other.getByRole("dialog", { name: "Delete all call and message data?" });
    await otherDialog.getByLabel("Type DELETE to confirm").fill("DELETE");

    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Delete all call and message data?" });
    await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
    await dialog.getByRole("button", { name: /^Delete/ }).click();
    await expect(page.getByRole("status").filter({ hasText: "by Alex Admin" })).toBeVisible();

    await otherDialog.getByRole("button", { name: /^Delete/ }).click();
    const outcome = other.getByRole("dialog", { name: "Already erased" });
    await expect(outcome).toContainText(/Already erased on \d{4}-\d\d-\d\d \d\d:\d\d UTC by Alex Admin\./);
    await expect(outcome).toContainText("Receipt");
    await expect(outcome).toContainText("1 messages");
    await expect(outcome.getByRole("alert")).toHaveCount(0);
    await expect(outcome.getByRole("button", { name: /^Delete/ })).toHaveCount(0);
    await expect(outcome.getByRole("button", { name: "Close" })).toBeFocused();

    await outcome.getByRole("button", { name: "Close" }).click();
    await expect(other.getByRole("status").filter({ hasText: "by Alex Admin" })).toBeVisible();
    await expect(other.getByRole("button", { name: "Delete", exact: true })).toHaveCount(0);
    expect(otherProblems).toEqual([]);
  });

  test("one person's records are tied together: placed, linked, offered next and counted", async ({ page }) => {
    const SAM = "sam.pair@example.com";
    await signIn(page, ALEX);
    await search(page, "/customers", SAM);
    await expect(page.getByText("2 records match.")).toBeVisible();
    await page.getByRole("row").filter({ hasText: "Lead" }).getByRole("link", { name: "Sam Pair" }).click();
    await hydrated(page);
    await expect(page.getByText(`2 of 2 records for ${SAM}`)).toBeVisible();
    await expect(page.getByRole("link", { name: "Contact Sam Pair" })).toBeVisible();

    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Delete all call and message data?" });
    await expect(dialog).toContainText(`2 of 2 records for ${SAM}`);
    await expect(dialog.getByRole("link", { name: "Contact Sam Pair" })).toBeVisible();
    await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
    await dialog.getByRole("button", { name: /^Delete/ }).click();

    const notice = page.getByRole("status").filter({ hasText: "by Alex Admin" });
    await expect(notice).toContainText("The same person's Contact Sam Pair still has call and message data");
    await notice.getByRole("link", { name: "Open the Contact" }).click();
    await expect(page.getByText(`1 of 2 records for ${SAM}`)).toBeVisible();
    await expect(page.getByText("Lead Sam Pair (erased)")).toBeVisible();

    await search(page, "/customers", SAM);
    await expect(page.getByText("2 records match, 1 of 2 deleted.")).toBeVisible();
  });
});

test.describe("Re-authentication for the erasure", () => {
  test.use({ expectedHttpErrors: [403, 422] });
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("an old sign-in is asked for the password, refused a wrong one, and erases with the right one", async ({ page }) => {
    await signIn(page, ALEX);
    await search(page, "/customers", "riley.recheck@example.com");
    await page.getByRole("link", { name: "Riley Recheck" }).click();
    await hydrated(page);
    ageSignIns(ALEX, 16);

    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Delete all call and message data?" });
    await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
    const confirm = dialog.getByRole("button", { name: /^Delete/ });
    await confirm.click();

    const password = dialog.getByLabel("Your password");
    await expect(password).toBeVisible();
    await expect(password).toBeFocused();
    await expect(dialog).toContainText("Your last sign-in was more than 15 minutes ago.");
    await expect(dialog.getByRole("alert")).toHaveCount(0);
    await expect(confirm).toBeDisabled();
    await expectAccessible(page);

    await password.fill("not-the-password");
    await confirm.click();
    await expect(dialog.getByRole("alert")).toContainText("That password is wrong, so nothing was erased.");

    await password.fill(PASSWORD);
    await confirm.click();
    await expect(page.getByRole("status").filter({ hasText: "by Alex Admin" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Delete", exact: true })).toHaveCount(0);
  });
});
