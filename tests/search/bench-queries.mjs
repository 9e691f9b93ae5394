// Per-query figures for an index (used by build/tools/search_bench):
//   node bench-queries.mjs SITE_DIR [query...]
// For each query, in a fresh runtime: files and bytes (raw, gzip) of the
// shards the query loads, result count, evaluation time with shards loaded.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadSite } from './shim.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const js = join(here, '..', '..', 'themes/default/assets/search.js');
const site = process.argv[2];
const queries = process.argv.length > 3 ? process.argv.slice(3) : [
	'バックアップ', '多要素認証', 'クリアデスク', '標的型メール', 'EDR', 'ランサムウェア',
	'8.13', '情報', '情', 'セキュリティ方針', 'backup restore', 'ＥＤＲ', 'ﾊﾞｯｸｱｯﾌﾟ', '確認する',
];
const gz = f => gzipSync(readFileSync(join(site, f))).length;
const rows = [], gzs = [], fulls = [];
const sum = (fs, f) => fs.reduce((a, x) => a + f(x), 0);
const raw = f => readFileSync(join(site, f)).length;
for (const q of queries) {
	const { HB, stats } = loadSite(site, js);
	await HB.search('');		// manifest only
	const before = stats.loaded.length;
	// what the search box and the first page of results load (top 20)
	const res = await HB.search(q, { top: 20 });
	const shards = stats.loaded.slice(before);
	const top = await HB.results(res, 0, 10, 120);
	const docFiles = stats.loaded.slice(before + shards.length);
	// the whole result set (counts and facets of the search page)
	const mark = stats.loaded.length;
	const all = await HB.search(q);
	const more = stats.loaded.slice(mark).filter(f => !f.startsWith('search/d/'));
	const t0 = performance.now();
	for (let i = 0; i < 5; i++) await HB.search(q);
	const ms = (performance.now() - t0) / 5;
	const same = res.hits.every((h, i) => all.hits[i] && all.hits[i].id === h.id && all.hits[i].score === h.score);
	if (!same) { console.error(`${q}: the top 20 differ from the whole search`); process.exitCode = 1; }
	const g = sum(shards, gz), gf = g + sum(more, gz);
	gzs.push(g);
	fulls.push(gf);
	const np = shards.filter(f => f.startsWith('search/p/')).length;
	const nr = shards.filter(f => f.startsWith('search/r/')).length;
	rows.push(`${q.padEnd(14)} ${String(all.hits.length).padStart(6)} hits  top-20: ${shards.length} files ` +
		`(${nr} r/, ${np} p/) ${sum(shards, raw)} B, ${g} B gz${res.more ? '' : ' (whole)'}; ` +
		`all: +${more.length} files, ${gf} B gz; eval ${ms.toFixed(1)} ms; top-10 docs ${docFiles.length} files ` +
		`${sum(docFiles, gz)} B gz (${top.length} shown)`);
}
console.log(rows.join('\n'));
gzs.sort((a, b) => a - b);
fulls.sort((a, b) => a - b);
console.log(`median term bytes per query ${gzs[gzs.length >> 1]} B gz, max ${gzs[gzs.length - 1]} B gz ` +
	`(first 20 results); whole result set: median ${fulls[fulls.length >> 1]} B gz, max ${fulls[fulls.length - 1]} B gz`);
