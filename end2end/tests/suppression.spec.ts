import { test, expect, signIn, search, hydrated, expectAccessible, giveAlexCustomerDataAccess, ALEX } from "./support";

// The people of end2end/fixtures.sql for this spec, each a Lead and a Contact sharing an email and a phone number.
const SLOANE = "sloane.suppressed@example.com";
const URSULA = "ursula.unlisted@example.com";

test.describe("Customer Data: suppression list", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("an erased person goes on the list unless the box is cleared, and an admin lifts an entry with a reason", async ({ page }) => {
    await signIn(page, ALEX);

    // Sloane: the box is ticked by default.
    const requestOf = async (person: string, keepSuppressed: boolean) => {
      await search(page, "/customers", person);
      await page.getByRole("button", { name: "Delete all 2 records" }).click();
      const dialog = page.getByRole("dialog");
      const box = dialog.getByRole("checkbox", { name: /Keep this person on the suppression list/ });
      await expect(box).toBeChecked();
      if (!keepSuppressed) await box.uncheck();
      await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
      await dialog.getByRole("button", { name: /^Delete/ }).click();
      await expect(page).toHaveURL(/&request=[0-9a-f-]{36}$/);
      await hydrated(page);
      return new URL(page.url()).searchParams.get("request")!.slice(0, 8);
    };
    const sloane = await requestOf(SLOANE, true);
    const ursula = await requestOf(URSULA, false);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Suppression list" }).click();
    await expect(page).toHaveURL(/\/suppressions$/);
    await hydrated(page);
    await expect(page.getByRole("heading", { level: 1, name: "Suppression list" })).toBeVisible();
    const table = page.getByRole("table", { name: "Suppressed identifiers, newest first" });
    const rowsOf = (request: string) => table.getByRole("row").filter({ has: page.getByRole("link", { name: request }) });
    // One email and one phone number for both records, and each record's Salesforce ID.
    await expect(rowsOf(sloane)).toHaveCount(4);
    await expect(rowsOf(sloane).filter({ hasText: "Email" })).toHaveCount(1);
    await expect(rowsOf(sloane).filter({ hasText: "Phone number" })).toHaveCount(1);
    await expect(rowsOf(sloane).filter({ hasText: "Salesforce ID" })).toHaveCount(2);
    await expect(rowsOf(ursula)).toHaveCount(0);
    await expect(table).not.toContainText(SLOANE);
    await expect(table).not.toContainText("4155550931");
    await expectAccessible(page);

    const email = rowsOf(sloane).filter({ hasText: "Email" });
    await email.getByRole("button", { name: "Lift" }).click();
    await email.getByLabel(/^Why lift Email/).fill("Sloane asked to hear from us again");
    await email.getByRole("button", { name: "Lift entry" }).click();
    await expect(rowsOf(sloane).filter({ hasText: "Email" })).toContainText("Lifted");
    await expect(rowsOf(sloane).filter({ hasText: "Email" })).toContainText("by Alex Admin");
    await expect(rowsOf(sloane).filter({ hasText: "Phone number" }).getByRole("button", { name: "Lift" })).toBeEnabled();
    await expectAccessible(page);
  });
});
