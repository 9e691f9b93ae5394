// Drives headless Chromium (cdp.js) to check, in a real browser, what an
// edit does to the pages open in `tebiki serve`:
//   node browser_search.js CHROMIUM URL_OTHER URL_EDITED SOURCE WORD [SECONDS]
// Opens URL_OTHER and URL_EDITED, appends a paragraph with WORD to SOURCE
// (the source of URL_EDITED), then checks that URL_EDITED reloads with
// WORD (the preview), and that URL_OTHER does not reload but its search
// finds WORD in URL_EDITED once the build has made the new index.
// SECONDS (default 30) bounds the wait for the build.  Prints "ok - ..." /
// "FAIL - ..." lines; exit status 1 on a failure.
"use strict";
const fs = require("fs");
const path = require("path");
const cdp = require("./cdp.js");

const [chromium, urlOther, urlEdited, source, word, secs] = process.argv.slice(2);
const buildWait = (Number(secs) || 30) * 1000;

cdp.run(chromium, async (b) => {
	const other = await b.open(urlOther), edited = await b.open(urlEdited);
	const hasHB = "typeof HB === 'object' && typeof HB.search === 'function'";
	await b.until(other, hasHB, (x) => x === true, 15000);
	await b.until(edited, "document.readyState", (x) => x === "complete", 15000);
	const q = JSON.stringify(word);
	const find = "HB.search(" + q + ").then(function (r) { return HB.results(r, 0, 5); })" +
		".then(function (rs) { return rs.map(function (x) { return x.url; }).join(' '); })" +
		".catch(function (e) { return 'error: ' + e; })";
	const before = await b.evaluate(other, find);
	b.check("the word is not in the index yet", before === "", "found: " + before);
	await b.evaluate(other, "window.__tebikiMarker = 1");
	await b.evaluate(edited, "window.__tebikiMarker = 1");
	fs.appendFileSync(source, "\n\n" + word + "を含む段落。\n");
	const body = "typeof window.__tebikiMarker + ':' + (document.body.textContent.indexOf(" + q + ") >= 0)";
	let v = await b.until(edited, body, (x) => x === "undefined:true", 15000);
	b.check("the edited page reloads with the edit", v === "undefined:true", "state: " + v);
	const page = path.basename(new URL(urlEdited).pathname);
	v = await b.until(other, find, (x) => typeof x === "string" && x.indexOf(page) >= 0, buildWait);
	b.check("another open page's search finds the edit after the build", typeof v === "string" &&
		v.indexOf(page) >= 0, "results: " + JSON.stringify(v));
	v = await b.evaluate(other, "typeof window.__tebikiMarker");
	b.check("... without reloading that page", v === "number", "marker: " + v);
}, buildWait + 45000);
