// Each person's journey through the pages, checked as a person sees them: what the page says,
// that axe-core finds no serious or critical accessibility violation, and a screenshot of
// every page, on a phone and on a desktop.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

const artifacts = process.env.ZHIYUAN_ARTIFACTS;
const volunteerPassword = process.env.ZHIYUAN_VOLUNTEER_PASSWORD;

/** Screenshot of the page as it is, and its accessibility checked. */
async function look(page, testInfo, name) {
  await page.screenshot({
    path: `${artifacts}/screenshots/${testInfo.project.name}-${name}.png`,
    fullPage: true,
  });
  const { violations } = await new AxeBuilder({ page }).analyze();
  const grave = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(grave.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`)).toEqual([]);
}

/** A resident identity number of 曾都区 born on `born` (YYYYMMDD), its check character by GB 11643. */
function residentId(born, sequence) {
  const first17 = `421303${born}${sequence}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((total, digit, at) => total + Number(digit) * weights[at], 0);
  return first17 + "10X98765432"[sum % 11];
}

async function signIn(page, username, password) {
  await page.goto("/signin");
  await page.getByLabel("城市").selectOption("421300");
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
}

test("a visitor sees the cities in Chinese and switches to English and back", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveTitle(/志愿服务信息系统/);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("listitem").filter({ hasText: "随州市" })).toBeVisible();
  await look(page, testInfo, "home");

  await page.getByRole("link", { name: "English" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Volunteer Service");
  await look(page, testInfo, "home-en");
  await page.getByRole("link", { name: "中文" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
});

test("a visitor lists a city's projects, then the nearest first from where they are", async ({ page, context }, testInfo) => {
  await page.goto("/");
  await page.getByRole("link", { name: "随州市", exact: true }).click();
  await expect(page).toHaveURL(/\/t\/421300\/projects$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("随州市");
  await expect(page.getByText("按开始时间排列")).toBeVisible();
  await expect(page.getByRole("heading", { name: "西城敬老院陪伴" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "白云湖环保行" })).toBeVisible();
  await look(page, testInfo, "projects");

  // Standing by the lake: the lake's project comes first, with its distance.
  await context.grantPermissions(["geolocation"]);
  await context.setGeolocation({ latitude: 31.7250, longitude: 113.3950 });
  await page.getByRole("button", { name: "查找我附近的项目" }).click();
  await expect(page).toHaveURL(/latitude=31\.72/);
  await expect(page.getByText("按距离排列")).toBeVisible();
  const titles = await page.locator(".projects h2").allInnerTexts();
  expect(titles[0]).toBe("白云湖环保行");
  await expect(page.locator(".projects li").first().locator(".distance")).toContainText("公里");
  await look(page, testInfo, "projects-nearest");
});

test("a volunteer signs in, reads their record and shows their card, online and offline", async ({ page, context }, testInfo) => {
  await page.goto("/signin");
  await look(page, testInfo, "signin");
  await signIn(page, "volunteer", volunteerPassword);

  await expect(page).toHaveURL(/\/me$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("我的志愿服务");
  await expect(page.getByText("张三")).toBeVisible();
  await expect(page.getByText("已注册")).toBeVisible();
  // The identity number is masked: its middle never reaches the page.
  const id = await page.locator("dt:has-text('证件号码') + dd").innerText();
  expect(id).toMatch(/^\S{3,6}\*+\S{2,4}$/);
  await expect(page.getByRole("heading", { name: "我的服务时长" })).toBeVisible();
  await expect(page.locator(".hours")).toContainText("小时");
  await look(page, testInfo, "me");

  await page.getByRole("link", { name: "我的志愿者证" }).click();
  await expect(page).toHaveURL(/\/me\/card$/);
  const qr = page.getByRole("img", { name: "志愿者证二维码" });
  await expect(qr).toBeVisible();
  expect((await qr.boundingBox()).width).toBeGreaterThan(150);
  await look(page, testInfo, "card");

  // Offline, the card opens from what the site's worker kept of it.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole("img", { name: "志愿者证二维码" })).toBeVisible();
  await expect(page.getByText("张三")).toBeVisible();
  await look(page, testInfo, "card-offline");
  await context.setOffline(false);

  await page.getByRole("button", { name: "退出登录" }).click();
  // Signed out, the phone keeps nobody's card (the stylesheet and scripts it may keep again).
  await expect
    .poll(() => page.evaluate(async () => (await caches.match("/me/card")) === undefined), { timeout: 30_000 })
    .toBe(true);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/me");
  await expect(page).toHaveURL(/\/signin$/);
});

test("a visitor registers by real name: a wrong document number is refused by field and rule, then they register and are signed in", async ({ page }, testInfo) => {
  const phone = testInfo.project.name === "phone";
  const username = `web.${testInfo.project.name}`;
  const id = residentId(phone ? "19950312" : "19970823", "123");
  const wrongCheck = id.slice(0, 17) + (id[17] === "1" ? "2" : "1");

  await page.goto("/");
  await page.getByRole("link", { name: "随州市 志愿者实名注册" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("志愿者实名注册");
  await look(page, testInfo, "register");
  const fill = async (number) => {
    await page.getByLabel("姓名").fill("李四");
    await page.getByLabel("证件类型").selectOption("resident_id_card");
    await page.getByLabel("证件号码").fill(number);
    await page.getByLabel("手机号码").fill("13972211234");
    await page.getByLabel("所在县市区").selectOption("421303");
    await page.getByLabel("用户名").fill(username);
    await page.getByLabel("密码").fill("a long enough password");
    await page.getByRole("button", { name: "志愿者实名注册" }).click();
  };
  await fill(wrongCheck);
  await expect(page.getByRole("alert")).toContainText("校验");
  await expect(page.getByLabel("证件号码")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("证件号码")).toHaveValue("");
  await expect(page.getByLabel("姓名")).toHaveValue("李四");
  await look(page, testInfo, "register-refused");

  // Nothing was written: the same username registers now.
  await fill(id);
  await expect(page).toHaveURL(/\/me$/);
  await expect(page.getByText("李四")).toBeVisible();
  await expect(page.getByText("待审核")).toBeVisible();
  const shown = await page.locator("dt:has-text('证件号码') + dd").innerText();
  expect(shown).not.toContain(id.slice(6, 14));
  await look(page, testInfo, "registered");
});

test("a wrong password is refused on the form, which keeps what was typed", async ({ page }, testInfo) => {
  await signIn(page, "volunteer", "not-the-password");
  await expect(page.getByRole("alert")).toHaveText("用户名或密码不正确。");
  await expect(page.getByLabel("用户名")).toHaveValue("volunteer");
  await expect(page.getByLabel("密码")).toHaveValue("");
  await look(page, testInfo, "signin-refused");
});

test("a form posted from elsewhere, without the page's token, is refused", async ({ request }) => {
  const answer = await request.post("/signin", {
    form: { csrf: "x".repeat(43), tenant: "421300", username: "volunteer", password: volunteerPassword },
    maxRedirects: 0,
  });
  expect(answer.status()).toBe(403);
  expect(answer.headers()["set-cookie"] ?? "").not.toContain("zhiyuan_session=");
});
