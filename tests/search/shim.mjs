// A tiny <script>-tag shim: runs search.js and the index files of a built
// site inside a node:vm context, the way a browser's classic scripts would.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

export function loadSite(site, searchJs) {
	const stats = { files: 0, bytes: 0, loaded: [] };
	const ctx = {
		console, setTimeout, clearTimeout, Promise, Map, Set, TextDecoder,
		document: {
			createElement: () => ({}),
			head: {
				appendChild(el) {
					setImmediate(() => {
						const path = join(site, el.src);
						if (!existsSync(path)) { el.onerror && el.onerror(); return; }
						const code = readFileSync(path);
						stats.files++;
						stats.bytes += code.length;
						stats.loaded.push(el.src);
						vm.runInContext(code.toString('utf8'), ctx, { filename: path });
						el.onload && el.onload();
					});
				},
			},
		},
	};
	ctx.window = ctx;
	vm.createContext(ctx);
	vm.runInContext(readFileSync(searchJs, 'utf8'), ctx, { filename: searchJs });
	return { HB: ctx.HB, stats };
}
