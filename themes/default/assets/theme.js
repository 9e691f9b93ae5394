/*
 * tebiki default theme: small progressive enhancements (no inline code;
 * the page works without this file).
 *  - On narrow screens the navigation drawer starts closed.
 *  - The navigation link to the current page gets aria-current="page".
 */
(function () {
	"use strict";
	var drawer = document.querySelector("[data-nav-drawer]");
	if (!drawer)
		return;
	var narrow = window.matchMedia("(max-width: 56rem)");
	function sync() {
		if (narrow.matches)
			drawer.removeAttribute("open");
		else
			drawer.setAttribute("open", "");
	}
	sync();
	if (narrow.addEventListener)
		narrow.addEventListener("change", sync);
	var here = location.href.replace(/[?#].*$/, "");
	var links = drawer.querySelectorAll("a[href]");
	for (var i = 0; i < links.length; i++) {
		if (links[i].href.replace(/[?#].*$/, "") === here) {
			links[i].setAttribute("aria-current", "page");
			break;
		}
	}
})();
