// Each person's journey through the pages, checked as a person sees them: what the page says,
// that axe-core finds no serious or critical accessibility violation, and a screenshot of
// every page, on a phone and on a desktop.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { readFileSync, writeFileSync } from "node:fs";

const artifacts = process.env.ZHIYUAN_ARTIFACTS;
const volunteerPassword = process.env.ZHIYUAN_VOLUNTEER_PASSWORD;
const officePassword = process.env.ZHIYUAN_OFFICE_PASSWORD;
const operatorPassword = process.env.ZHIYUAN_OPERATOR_PASSWORD;

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

async function signIn(page, username, password, tenant = "421300") {
  await page.goto("/signin");
  await page.getByLabel("城市").selectOption(tenant);
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

test("the city office reviews the registration: a rejection without a reason is refused, then it approves", async ({ page }, testInfo) => {
  await signIn(page, "office", officePassword);
  // An account with no volunteer record lands on its work: the review queue.
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("待我审核");
  const application = page.getByRole("listitem").filter({ hasText: "李四" });
  await expect(application).toHaveCount(1);
  // The document number is masked for the reviewer too.
  await expect(application).not.toContainText(/\d{17}[\dX]/);
  await look(page, testInfo, "review");

  await application.getByRole("button", { name: "拒绝 · 李四" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByRole("listitem").filter({ hasText: "李四" })).toHaveCount(1);
  await look(page, testInfo, "review-refused");

  await page.getByRole("listitem").filter({ hasText: "李四" }).getByRole("button", { name: "通过 · 李四" }).click();
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.getByRole("listitem").filter({ hasText: "李四" })).toHaveCount(0);
});

test("the city office reads the registration report: areas and units against their targets, furthest behind first", async ({ page }, testInfo) => {
  await signIn(page, "office", officePassword);
  await page.getByRole("link", { name: "志愿者注册统计" }).click();
  await expect(page).toHaveURL(/\/report$/);
  await expect(page.getByRole("heading", { name: "各县市区" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "各单位" })).toBeVisible();
  const areas = page.locator("ol.report").first().locator("li");
  await expect(areas.filter({ hasText: "曾都区" })).toHaveCount(1);
  // Each line says in words where it stands, not by its bar's colour alone.
  const first = await areas.first().innerText();
  expect(first).toMatch(/还差 \d+|已达标/);
  expect(first).toMatch(/\d+ \/ \d+ = \d+\.\d{2}%/);
  await look(page, testInfo, "report");
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

/**
 * A `datetime-local` value `minutes` after `from` (a time in milliseconds), in Asia/Shanghai
 * (UTC+8, no summer time). A journey takes `from` once, so that the times it types keep their
 * distances whichever minute each is typed in.
 */
function shanghaiInput(from, minutes) {
  const at = new Date(from + minutes * 60_000 + 8 * 3600_000);
  return at.toISOString().slice(0, 16);
}

/**
 * The card's QR code as the camera would see it held up: the code drawn from the card's page
 * onto a white 640x480 frame, as a Y4M video of grey frames that Chromium's fake camera plays.
 */
async function cardVideo(page, path) {
  const grey = await page.evaluate(async () => {
    const image = document.querySelector("img.qr");
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = 640;
    canvas.height = 480;
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, 640, 480);
    context.imageSmoothingEnabled = false;
    context.drawImage(image, 160, 80, 320, 320);
    const rgba = context.getImageData(0, 0, 640, 480).data;
    let binary = "";
    for (let i = 0; i < rgba.length; i += 4) binary += String.fromCharCode(rgba[i]);
    return btoa(binary);
  });
  const luma = Buffer.from(grey, "base64");
  const chroma = Buffer.alloc(320 * 240, 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), luma, chroma, chroma]);
  const header = Buffer.from("YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n");
  writeFileSync(path, Buffer.concat([header, ...Array(10).fill(frame)]));
}

test("a team admin publishes a project, accepts a sign-up and scans the volunteer's card with the camera, offline too", async ({ page, playwright, baseURL }, testInfo) => {
  const phone = testInfo.project.name === "phone";
  // On the phone the shift is about to start, so the scan checks in; on the desktop it is
  // tomorrow, so the same kind of scan is refused with the rule's words.
  const starts = phone ? 10 : 24 * 60 + 10;
  const title = `社区义诊 ${testInfo.project.name}`;
  const now = Date.now();

  await signIn(page, "volunteer", volunteerPassword);
  await page.getByRole("link", { name: "我管理的队伍" }).click();
  await expect(page).toHaveURL(/\/teams$/);
  await look(page, testInfo, "teams");
  await page.getByRole("link", { name: "曾都区阳光志愿服务队" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("曾都区阳光志愿服务队");
  await expect(page.getByText("已通过")).toBeVisible();
  await look(page, testInfo, "team");

  await page.getByRole("link", { name: "发布新项目" }).click();
  await look(page, testInfo, "project-new");
  await page.getByLabel("项目名称").fill(title);
  await page.getByLabel("简介").fill("为社区老人量血压、测血糖。");
  await page.getByLabel("服务类别").selectOption("health");
  await page.getByLabel("服务地点").fill("随州市曾都区西城街道社区卫生服务中心");
  await page.getByLabel("纬度").fill("31.7170");
  await page.getByLabel("经度").fill("113.3730");
  await page.getByLabel("开始时间").fill(shanghaiInput(now, starts));
  await page.getByLabel("结束时间").fill(shanghaiInput(now, starts - 60));
  await page.getByLabel("报名确认").selectOption("by_team");
  await page.getByRole("button", { name: "保存草稿" }).click();
  // A shift that ends before it starts is refused on its field; nothing is saved.
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByLabel("结束时间")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("项目名称")).toHaveValue(title);
  await look(page, testInfo, "project-new-refused");
  await page.getByLabel("结束时间").fill(shanghaiInput(now, starts + 120));
  await page.getByRole("button", { name: "保存草稿" }).click();

  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
  await expect(page.getByText("草稿")).toBeVisible();
  await page.getByRole("button", { name: "发布" }).click();
  await expect(page.getByText("招募中")).toBeVisible();
  const manage = page.url();
  const projectPage = manage.replace(/\/manage$/, "");

  // The volunteer signs up on the project's page; the team accepts them.
  await page.goto(projectPage);
  await look(page, testInfo, "project");
  await page.getByRole("button", { name: /^报名/ }).click();
  await expect(page).toHaveURL(/\/me\/shifts$/);
  await expect(page.getByRole("listitem").filter({ hasText: title })).toContainText("待确认");
  await look(page, testInfo, "my-shifts");
  await page.goto(manage);
  await page.getByRole("button", { name: "同意 · 张三" }).click();
  await expect(page.getByRole("row", { name: /张三/ })).toContainText("已录用");
  await look(page, testInfo, "project-admin");

  // The volunteer's card as the scanner's camera will see it.
  await page.goto("/me/card");
  const video = `${artifacts}/card-${testInfo.project.name}.y4m`;
  await cardVideo(page, video);

  const browser = await playwright.chromium.launch({
    ...testInfo.project.use.launchOptions,
    args: [
      ...testInfo.project.use.launchOptions.args,
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    const { viewport, deviceScaleFactor, isMobile, hasTouch, userAgent } = testInfo.project.use;
    const scanning = await browser.newContext({
      baseURL, viewport, deviceScaleFactor, isMobile, hasTouch, userAgent,
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
      storageState: await page.context().storageState(),
    });
    await scanning.grantPermissions(["camera"]);
    const scanner = await scanning.newPage();
    await scanner.goto(manage);
    await scanner.getByRole("link", { name: "扫码签到" }).click();
    await expect(scanner.getByRole("heading", { level: 1 })).toHaveText("扫码签到");
    // Kept by the site's worker, the scanner opens without a network.
    await scanner.evaluate(() => navigator.serviceWorker.ready);
    await scanner.reload();
    await expect.poll(() => scanner.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await scanner.waitForLoadState("networkidle");

    const recent = scanner.locator("#recent li").first();
    if (phone) {
      await scanning.setOffline(true);
      await scanner.reload();
      await expect(scanner.getByText("离线：扫码结果保存在本机")).toBeVisible();
      await scanner.getByRole("button", { name: "打开摄像头" }).click();
      await expect(recent).toContainText("已保存，待上传", { timeout: 30_000 });
      await expect(scanner.locator("#waiting-count")).toHaveText("1");
      await look(scanner, testInfo, "scanner-offline");
      await scanning.setOffline(false);
      await expect(recent).toContainText("已签到: 张三", { timeout: 30_000 });
      await expect(scanner.locator("#waiting-count")).toHaveText("0");
    } else {
      await scanner.getByRole("button", { name: "打开摄像头" }).click();
      await expect(recent).toContainText("未通过", { timeout: 30_000 });
      await expect(recent).toContainText("签到时间");
    }
    await look(scanner, testInfo, "scanner");
    await scanning.close();
  } finally {
    await browser.close();
  }
});

test("the team enters a volunteer's service, the volunteer asks for a certificate, the city office issues it and anyone checks it", async ({ page }, testInfo) => {
  // A day of its own for each viewport's run, so that the two entries never overlap.
  const daysAgo = testInfo.project.name === "phone" ? 2 : 3;
  // Two hours in the morning of that day, whatever time the journey runs at.
  const day = shanghaiInput(Date.now(), -daysAgo * 24 * 60).slice(0, 10);
  const starts = `${day}T09:00`;
  const ends = `${day}T11:00`;

  await signIn(page, "volunteer", volunteerPassword);
  await page.getByRole("link", { name: "我管理的队伍" }).click();
  await page.getByRole("link", { name: "曾都区阳光志愿服务队" }).click();
  await page.getByLabel("志愿者", { exact: true }).selectOption({ label: "张三" });
  await page.getByLabel("开始时间").fill(starts);
  await page.getByLabel("结束时间").fill(ends);
  await page.getByLabel("服务内容").fill("社区义诊");
  // Without the reason, the entry is refused on its field and nothing is written.
  await page.getByRole("button", { name: "补录服务时长" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByLabel("补录原因")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("志愿者", { exact: true }).selectOption({ label: "张三" });
  await page.getByLabel("开始时间").fill(starts);
  await page.getByLabel("结束时间").fill(ends);
  await page.getByLabel("服务内容").fill("社区义诊");
  await page.getByLabel("补录原因").fill("扫码设备故障");
  await page.getByRole("button", { name: "补录服务时长" }).click();
  await expect(page.getByRole("row").filter({ hasText: day })).toContainText("120");
  await look(page, testInfo, "team-records");

  await page.goto("/me/certificates");
  await page.getByLabel("开始日期").fill(day);
  await page.getByLabel("结束日期").fill(day);
  await page.getByLabel("用途").fill("学校社会实践");
  await page.getByRole("button", { name: "申请志愿服务证明" }).click();
  const mine = page.getByRole("listitem").filter({ hasText: `${day} – ${day}` });
  await expect(mine).toContainText("待出具");
  await look(page, testInfo, "my-certificates");
  await page.getByRole("button", { name: "退出登录" }).click();

  await signIn(page, "office", officePassword);
  await page.getByRole("link", { name: "志愿服务证明" }).click();
  const asked = page.getByRole("listitem").filter({ hasText: `张三 · ${day}` });
  await asked.getByLabel("负责人").fill("王主任");
  await asked.getByLabel("经办人").fill("刘经办");
  await asked.getByLabel("联系电话").fill("0722-3201234");
  await look(page, testInfo, "certificates");
  await asked.getByRole("button", { name: /^出具证明/ }).click();
  await expect(page.getByRole("row").filter({ hasText: `${day} – ${day}` })).toContainText("已出具");
  await page.getByRole("button", { name: "退出登录" }).click();

  await signIn(page, "volunteer", volunteerPassword);
  await page.goto("/me/certificates");
  await expect(mine).toContainText("已出具");
  await expect(mine).toContainText("2.00 小时");
  const pdf = await page.request.get(await mine.getByRole("link", { name: /下载 PDF/ }).getAttribute("href"));
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()["content-type"]).toContain("application/pdf");
  await mine.getByRole("link", { name: "查验页面" }).click();
  await expect(page.getByText("本证明有效")).toBeVisible();
});

test("a volunteer downloads their signed records, and an auditor checks the file with the node; an altered record is refused", async ({ page }, testInfo) => {
  await signIn(page, "volunteer", volunteerPassword);
  await page.goto("/me/credentials");
  await expect(page.getByRole("cell", { name: "实名注册" })).toBeVisible();
  await look(page, testInfo, "credentials");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "下载凭证包（JSON）" }).click(),
  ]);
  const file = `${artifacts}/credentials-${testInfo.project.name}.json`;
  await download.saveAs(file);
  const bundle = JSON.parse(readFileSync(file, "utf8"));
  expect(bundle.items.length).toBeGreaterThan(0);

  await page.getByRole("button", { name: "退出登录" }).click();
  await page.goto("/");
  await page.getByRole("link", { name: "查验电子凭证" }).click();
  await page.getByLabel("凭证包文件").setInputFiles(file);
  await page.getByRole("button", { name: "查验", exact: true }).click();
  await expect(page.locator("#summary")).toHaveText(`通过: ${bundle.items.length} · 未通过: 0`);
  await expect(page.locator("#items li").first()).toContainText("已登记于日志");
  await look(page, testInfo, "audit");

  // The registration's name changed after it was signed: that record alone is refused.
  const altered = structuredClone(bundle);
  altered.items.find((item) => item.kind === "registration").credential.credentialSubject.name = "李四";
  const alteredFile = `${artifacts}/credentials-altered-${testInfo.project.name}.json`;
  writeFileSync(alteredFile, JSON.stringify(altered));
  await page.getByLabel("凭证包文件").setInputFiles(alteredFile);
  await page.getByRole("button", { name: "查验", exact: true }).click();
  await expect(page.locator("#summary")).toContainText("未通过: 1");
  await expect(page.locator("#items li.refused")).toHaveCount(1);
  await look(page, testInfo, "audit-refused");
});

test("the operator reads the node's logs and its outbox; a visitor reads the logs alone", async ({ page }, testInfo) => {
  await page.goto("/");
  await page.getByRole("link", { name: "本节点的透明日志" }).click();
  const suizhou = page.getByRole("row").filter({ hasText: "随州市" });
  await expect(suizhou).toHaveCount(1);
  expect(Number(await suizhou.getByRole("cell").nth(2).innerText())).toBeGreaterThan(0);
  await expect(page.getByRole("heading", { name: "待发送的跨地区消息" })).toHaveCount(0);
  await look(page, testInfo, "node-public");

  await signIn(page, "operator", operatorPassword, "");
  await expect(page).toHaveURL(/\/node$/);
  await expect(page.getByRole("heading", { name: "待发送的跨地区消息" })).toBeVisible();
  await look(page, testInfo, "node-operator");
});

test("a volunteer registered on the web moves to another city: without consent it is refused, with it the move completes", async ({ page }, testInfo) => {
  // The volunteer the registration journey made, whom the city office approved.
  await signIn(page, `web.${testInfo.project.name}`, "a long enough password");
  await page.getByRole("link", { name: "迁往其他城市" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("迁往其他城市");
  await page.getByLabel("迁往").selectOption({ label: "鄂州市" });
  await look(page, testInfo, "transfer");
  await page.getByRole("button", { name: "申请迁出" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByLabel("我已阅读并同意")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("迁往").selectOption({ label: "鄂州市" });
  await page.getByLabel("我已阅读并同意").check();
  await page.getByRole("button", { name: "申请迁出" }).click();
  const move = page.getByRole("listitem").filter({ hasText: "鄂州市" });
  await expect(move).toBeVisible();
  // The node's sender delivers the move to the other city in its next rounds.
  await expect(async () => {
    await page.reload();
    await expect(move).toContainText("已完成", { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await look(page, testInfo, "transfer-done");
});
