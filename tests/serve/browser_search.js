// Drives headless Chromium over the DevTools pipe to check, in a real
// browser, what an edit does to the pages open in `tebiki serve`:
//   node browser_search.js CHROMIUM URL_OTHER URL_EDITED SOURCE WORD [SECONDS]
// Opens URL_OTHER and URL_EDITED, appends a paragraph with WORD to SOURCE
// (the source of URL_EDITED), then checks that URL_EDITED reloads with
// WORD (the preview), and that URL_OTHER does not reload but its search
// finds WORD in URL_EDITED once the build has made the new index.
// SECONDS (default 30) bounds the wait for the build.  Prints "ok - ..." /
// "FAIL - ..." lines; exit status 1 on a failure.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [chromium, urlOther, urlEdited, source, word, secs] = process.argv.slice(2);
const buildWait = (Number(secs) || 30) * 1000;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tebiki-chromium-"));
const browser = spawn(chromium, ["--headless", "--no-sandbox", "--disable-gpu",
	"--no-first-run", "--remote-debugging-pipe", "--user-data-dir=" + profile,
	"about:blank"], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });
const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1, pending = new Map(), inbuf = "", failed = 0;

fromBrowser.on("data", (chunk) => {
	inbuf += chunk.toString("utf8");
	let i;
	while ((i = inbuf.indexOf("\0")) >= 0) {
		const msg = JSON.parse(inbuf.slice(0, i));
		inbuf = inbuf.slice(i + 1);
		if (msg.id && pending.has(msg.id)) {
			pending.get(msg.id)(msg);
			pending.delete(msg.id);
		}
	}
});
function send(method, params, sessionId) {
	const id = nextId++;
	const msg = { id, method, params: params || {} };
	if (sessionId) msg.sessionId = sessionId;
	return new Promise((resolve) => {
		pending.set(id, resolve);
		toBrowser.write(JSON.stringify(msg) + "\0");
	});
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function check(name, cond, detail) {
	console.log((cond ? "ok - " : "FAIL - ") + name + (cond || !detail ? "" : "\n    " + detail));
	if (!cond) failed++;
}
async function evaluate(session, expr) {
	const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true,
		awaitPromise: true }, session);
	return r.result && r.result.result ? r.result.result.value : undefined;
}
async function until(session, expr, ok, ms) {
	let v;
	for (let t = 0; t < ms; t += 200) {
		v = await evaluate(session, expr).catch(() => undefined);
		if (ok(v)) return v;
		await sleep(200);
	}
	return v;
}
async function open(url) {
	const t = await send("Target.createTarget", { url });
	const a = await send("Target.attachToTarget", { targetId: t.result.targetId, flatten: true });
	return a.result.sessionId;
}

async function main() {
	const other = await open(urlOther), edited = await open(urlEdited);
	const hasHB = "typeof HB === 'object' && typeof HB.search === 'function'";
	await until(other, hasHB, (x) => x === true, 15000);
	await until(edited, "document.readyState", (x) => x === "complete", 15000);
	const q = JSON.stringify(word);
	const find = "HB.search(" + q + ").then(function (r) { return HB.results(r, 0, 5); })" +
		".then(function (rs) { return rs.map(function (x) { return x.url; }).join(' '); })" +
		".catch(function (e) { return 'error: ' + e; })";
	const before = await evaluate(other, find);
	check("the word is not in the index yet", before === "", "found: " + before);
	await evaluate(other, "window.__tebikiMarker = 1");
	await evaluate(edited, "window.__tebikiMarker = 1");
	fs.appendFileSync(source, "\n\n" + word + "を含む段落。\n");
	const body = "typeof window.__tebikiMarker + ':' + (document.body.textContent.indexOf(" + q + ") >= 0)";
	let v = await until(edited, body, (x) => x === "undefined:true", 15000);
	check("the edited page reloads with the edit", v === "undefined:true", "state: " + v);
	const page = path.basename(new URL(urlEdited).pathname);
	v = await until(other, find, (x) => typeof x === "string" && x.indexOf(page) >= 0, buildWait);
	check("another open page's search finds the edit after the build", typeof v === "string" &&
		v.indexOf(page) >= 0, "results: " + JSON.stringify(v));
	v = await evaluate(other, "typeof window.__tebikiMarker");
	check("... without reloading that page", v === "number", "marker: " + v);
}

const guard = setTimeout(() => { check("browser check finished in time", false); finish(); },
	buildWait + 45000);
let exited = false;
browser.on("exit", () => { exited = true; });
async function finish() {
	clearTimeout(guard);
	if (!exited) toBrowser.write(JSON.stringify({ id: nextId++, method: "Browser.close" }) + "\0");
	for (let i = 0; i < 30 && !exited; i++) await sleep(100);
	if (!exited) browser.kill("SIGKILL");
	try {
		fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
	} catch (e) { /* a helper still writing: left in the test's TMPDIR */ }
	process.exit(failed ? 1 : 0);
}
main().then(finish, (e) => { check("browser check ran", false, String(e)); finish(); });
