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
const rows = [], gzs = [];
for (const q of queries) {
	const { HB, stats } = loadSite(site, js);
	await HB.search('');		// manifest only
	const before = stats.loaded.length;
	const res = await HB.search(q);
	const shards = stats.loaded.slice(before);
	const t0 = performance.now();
	for (let i = 0; i < 5; i++) await HB.search(q);
	const ms = (performance.now() - t0) / 5;
	const top = await HB.results(res, 0, 10, 120);
	const docFiles = stats.loaded.slice(before + shards.length);
	const g = shards.reduce((a, f) => a + gz(f), 0);
	gzs.push(g);
	const np = shards.filter(f => f.startsWith('search/p/')).length;
	rows.push(`${q.padEnd(14)} ${String(res.hits.length).padStart(6)} hits  ${shards.length} files (${np} p/) ` +
		`${shards.reduce((a, f) => a + readFileSync(join(site, f)).length, 0)} B, ${g} B gz; ` +
		`eval ${ms.toFixed(1)} ms; top-10 docs ${docFiles.length} files ` +
		`${docFiles.reduce((a, f) => a + gz(f), 0)} B gz (${top.length} shown)`);
}
console.log(rows.join('\n'));
gzs.sort((a, b) => a - b);
console.log(`median term bytes per query ${gzs[gzs.length >> 1]} B gz, max ${gzs[gzs.length - 1]} B gz`);
