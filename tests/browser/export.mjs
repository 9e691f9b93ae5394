// Browser checks of `tebiki export --single-file` and of the print page.
//
//   node export.mjs EXPORT_HTML [PRINT_HTML]
//
// Opens EXPORT_HTML over file:// in headless Chromium (CHROMIUM, default
// /usr/bin/chromium) with every request intercepted, and checks:
//   - no request other than the file itself and data: URIs
//   - the inlined stylesheet is applied (font stack, accent colour)
//   - no Content-Security-Policy violation, no <script> element
//   - links lead nowhere but in-page anchors and absolute URLs
// With PRINT_HTML (print.html of a build): the Japanese text is drawn in
// Noto Sans CJK JP (the platform font Chromium embeds in its PDFs).
// Ends with "N passed, N failed"; exit status 1 on any failure.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

let passed = 0, failed = 0;
function check(ok, what, detail) {
	if (ok) {
		passed++;
		console.log(`ok   ${what}`);
	} else {
		failed++;
		console.log(`FAIL ${what}${detail ? "\n     " + String(detail).split("\n").join("\n     ") : ""}`);
	}
}
function finish() {
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

const [exportArg, printArg] = process.argv.slice(2);
if (!exportArg) {
	console.error("usage: node export.mjs EXPORT_HTML [PRINT_HTML]");
	process.exit(2);
}
const exe = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(exe)) {
	check(false, `chromium at ${exe}`, "chromium is missing: install the chromium package or set CHROMIUM");
	finish();
}
const { chromium } = await import("playwright-core");
const browser = await chromium.launch({
	executablePath: exe,
	headless: true,
	args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run"],
});

try {
	const url = pathToFileURL(resolve(exportArg)).href;
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP" });
	const other = [], csp = [];
	await context.route("**/*", route => {
		const u = route.request().url();
		if (u === url || u.startsWith("data:"))
			return route.continue();
		other.push(u);
		return route.abort();
	});
	const page = await context.newPage();
	page.on("request", r => {
		const u = r.url();
		if (u !== url && !u.startsWith("data:") && !other.includes(u))
			other.push(u);
	});
	page.on("console", m => {
		if (/Content Security Policy|Refused to/i.test(m.text()))
			csp.push(m.text());
	});
	await page.goto(url, { waitUntil: "load" });
	check(other.length === 0, "export: no request but the file itself and data: URIs", other.join("\n"));
	const st = await page.evaluate(() => {
		const dc = document.querySelector(".doccontrol");
		return {
			font: getComputedStyle(document.body).fontFamily,
			accent: dc ? getComputedStyle(dc).borderTopColor : null,
			scripts: document.querySelectorAll("script").length,
			styles: document.querySelectorAll("style").length,
			sheets: document.styleSheets.length,
			links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href"))
				.filter(h => !/^(#|https?:|mailto:)/.test(h)),
			imgs: [...document.images].map(i => i.src).filter(s => !s.startsWith("data:")),
			title: document.querySelector("h1") ? document.querySelector("h1").textContent : "",
		};
	});
	check(/Noto Sans CJK JP/.test(st.font), "export: stylesheet applied (font stack)", `font-family: ${st.font}`);
	check(st.accent === "rgb(31, 95, 139)", "export: stylesheet applied (accent colour of the document control)", `border-top-color: ${st.accent}`);
	check(st.styles === 1 && st.sheets === 1, "export: one inline stylesheet", `style elements ${st.styles}, sheets ${st.sheets}`);
	check(st.scripts === 0, "export: no <script>", `${st.scripts} script elements`);
	check(csp.length === 0, "export: no CSP violation", csp.join("\n"));
	check(st.links.length === 0, "export: no relative links left", st.links.join("\n"));
	check(st.imgs.length === 0, "export: images are data: URIs", st.imgs.join("\n"));
	check(st.title.length > 0, "export: the document title is there");
	await context.close();

	if (printArg) {
		const ctx = await browser.newContext({ locale: "ja-JP" });
		const p = await ctx.newPage();
		await p.goto(pathToFileURL(resolve(printArg)).href, { waitUntil: "load" });
		await p.emulateMedia({ media: "print" });
		const cdp = await ctx.newCDPSession(p);
		await cdp.send("DOM.enable");
		await cdp.send("CSS.enable");
		const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
		const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: ".print-doc .doc-body p" });
		const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
		const names = fonts.map(f => `${f.familyName} (${f.glyphCount})`).join(", ");
		check(fonts.some(f => /Noto Sans CJK JP|IPAexGothic/.test(f.familyName) && f.glyphCount > 0),
			"print: Japanese text drawn in a Japanese font (IPAexGothic or Noto Sans CJK JP)", names);
		const pr = await p.evaluate(() => {
			const vis = s => { const e = document.querySelector(s); return e ? getComputedStyle(e).display !== "none" : null; };
			const doc = document.querySelectorAll(".print-doc")[1];
			return {
				breakDoc: doc ? getComputedStyle(doc).breakBefore : null,
				breakToc: vis(".print-toc") ? getComputedStyle(document.querySelector(".print-toc")).breakAfter : null,
				scripts: document.querySelectorAll("script").length,
			};
		});
		check(pr.breakDoc === "page", "print: each document starts on a new page", `break-before: ${pr.breakDoc}`);
		check(pr.breakToc === "page", "print: contents end with a page break", `break-after: ${pr.breakToc}`);
		check(pr.scripts === 0, "print: no scripts");
		await ctx.close();
	}
} catch (e) {
	check(false, "browser run", e.stack || String(e));
} finally {
	await browser.close();
}
finish();
