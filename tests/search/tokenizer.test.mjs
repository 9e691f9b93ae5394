// The shared tokenizer vectors (tests/search/vectors.txt) against the JS
// tokenizer in themes/default/assets/search.js.  node tokenizer.test.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const HB = createRequire(import.meta.url)(join(root, 'themes/default/assets/search.js'));

function unescape(s) {
	const bytes = [];
	for (let i = 0; i < s.length;) {
		if (s.startsWith('\\\\', i)) { bytes.push(92); i += 2; }
		else if (s.startsWith('\\x', i)) { bytes.push(parseInt(s.slice(i + 2, i + 4), 16)); i += 4; }
		else if (s.startsWith('\\u{', i)) {
			const end = s.indexOf('}', i);
			bytes.push(...Buffer.from(String.fromCodePoint(parseInt(s.slice(i + 3, end), 16))));
			i = end + 1;
		} else {
			const c = s.codePointAt(i);
			bytes.push(...Buffer.from(String.fromCodePoint(c)));
			i += c > 0xffff ? 2 : 1;
		}
	}
	return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

let passed = 0, failed = 0, input = null;
for (const line of readFileSync(join(here, 'vectors.txt'), 'utf8').split('\n')) {
	if (line.startsWith('< ')) { input = line.slice(2); continue; }
	if (!line.startsWith('>') || input === null) continue;
	const want = line.slice(2);
	const got = HB.tokenize(unescape(input)).map(([t, p]) => `${t}@${p}`).join(' ');
	if (got === want) passed++;
	else { failed++; console.log(`FAIL ${input}\n  got  ${got}\n  want ${want}`); }
	input = null;
}
// properties: normalization parity table, lone surrogates never throw
const props = [
	[HB.normalize('İ'), 'i'],
	[HB.normalize('ΣΑΣ'), 'σασ'],
	[HB.tokenize('\ud800abc').map(x => x[0]).join(' '), 'abc'],
	[HB.units('8.13の対策 ＥＤＲ').map(u => u.s).join('|'), '8.13|の対策|edr'],
];
for (const [got, want] of props) {
	if (got === want) passed++; else { failed++; console.log(`FAIL property: got ${got} want ${want}`); }
}
if (passed < 20) { failed++; console.log('FAIL too few vectors'); }
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
