// Drives headless Chromium (cdp.js) to check tebiki serve's overlay and
// reload in a real browser:
//   node browser_check.js CHROMIUM URL EXPECTED FIX_FROM FIX_TO
// Opens URL (served while the build is broken), waits for the error
// overlay to contain EXPECTED, copies FIX_FROM over FIX_TO (the fix) and
// waits for the page to reload without the overlay.  Prints "ok - ..." /
// "FAIL - ..." lines; exit status 1 on a failure.  Every wait is bounded.
"use strict";
const fs = require("fs");
const cdp = require("./cdp.js");

const [chromium, url, expected, fixFrom, fixTo] = process.argv.slice(2);

cdp.run(chromium, async (b) => {
	const overlay = "(function(){var e=document.getElementById('tebiki-error');" +
		"return e?e.textContent:'';})()";
	const s = await b.open(url);
	let v = await b.until(s, overlay, (x) => typeof x === "string" && x.includes(expected), 15000);
	b.check("browser shows the error overlay", typeof v === "string" && v.includes(expected), "overlay: " + JSON.stringify(v));
	const content = await b.evaluate(s, "document.body ? document.body.textContent : ''");
	b.check("last good page under the overlay", typeof content === "string" && content.length > 0);
	await b.evaluate(s, "window.__tebikiMarker = 1");
	fs.copyFileSync(fixFrom, fixTo);
	v = await b.until(s, "typeof window.__tebikiMarker + ':' + " + overlay,
		(x) => x === "undefined:", 15000);
	b.check("page reloads without the overlay after the fix", v === "undefined:", "state: " + JSON.stringify(v));
}, 45000);
