/*
 * search_fixture: writes a small static site for the search tests.
 *
 *   search_fixture [-n N] [-j search.js] [-s SPLIT] [-H HEAD] OUTDIR
 *   (-s: srch_set_split, -H: srch_set_head; 0 for HEAD: no term is split)
 *
 * Indexes a handful of hand-written Japanese handbook documents plus N
 * (default 40) deterministic synthetic ones, writes OUTDIR/search/ with
 * srch_write(), minimal HTML pages using the theme's search markup
 * (index.html with the header box, search.html with the search page, one
 * page per document), copies search.js to OUTDIR/assets/, and writes
 * OUTDIR/corpus.json (the full source text, the truth for query tests).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "search.h"
#include "util.h"
#include "value.h"

struct fdoc {
	const char *url, *title, *type, *label, *date;
	const char *controls[3];
	const char *tags[3];
	struct srch_section sec[4];
};

static const struct fdoc fixed[] = {
	{ "policies/security-policy.html", "情報セキュリティ基本方針", "policy",
	  "規程", "2024-04-01", { "5.1" }, { "方針" }, {
	  { "", "", "当社は情報資産を守るため、この基本方針を定める。" },
	  { "scope", "適用範囲", "全従業員と委託先に適用する。" },
	  { "roles", "責任", "情報セキュリティ責任者は年に一度方針を見直す。" } } },
	{ "procedures/backup.html", "バックアップ手順", "procedure", "手順書",
	  "2024-05-10", { "8.13" }, { "バックアップ", "復旧" }, {
	  { "", "", "業務データを失わないための手順を定める。" },
	  { "steps", "手順", "毎日の終業時に共有フォルダのバックアップを外付けディスクへ取得する。" },
	  { "restore", "復旧の確認", "月に一度、バックアップから復元できることを確認する。" } } },
	{ "procedures/mfa.html", "多要素認証の設定", "procedure", "手順書",
	  "2024-05-20", { "8.5", "5.17" }, { "認証" }, {
	  { "", "", "クラウドサービスには多要素認証を必ず設定する。" },
	  { "setup", "設定方法", "認証アプリを端末に入れ、管理者が有効化を確認する。" } } },
	{ "policies/clear-desk.html", "クリアデスク・クリアスクリーン方針",
	  "policy", "規程", "2023-11-01", { "7.7" }, { "物理" }, {
	  { "", "", "離席時は画面をロックし、書類は鍵付きキャビネットに保管する。" },
	  { "end-of-day", "終業時", "机の上に機密書類を残さない。" } } },
	{ "seminars/phishing.html", "標的型メール訓練", "seminar", "セミナー",
	  "2024-02-15", { "6.3" }, { "教育", "メール" }, {
	  { "", "", "不審な添付ファイルを開かないための訓練を行った。" },
	  { "results", "結果", "標的型メールの開封率は前回より下がった。" } } },
	{ "incidents/2024-ransomware.html", "ランサムウェア感染インシデント報告",
	  "incident", "インシデント報告", "2024-06-01", { "8.7", "5.24" },
	  { "EDR", "マルウェア" }, {
	  { "", "", "営業部の端末がランサムウェアに感染した。" },
	  { "cause", "原因", "ＥＤＲ製品の更新が止まっていた。" },
	  { "response", "対応", "端末をネットワークから切り離し、バックアップから復旧した。" } } },
	{ "lessons/edr.html", "EDR導入の教訓", "lesson", "教訓", "2024-07-01",
	  { "8.7" }, { "EDR" }, {
	  { "", "", "EDR (Endpoint Detection and Response) を全端末に導入した。" },
	  { "tips", "運用のこつ", "アラートは毎朝確認する。iso-27001 の要求事項にも対応する。" } } },
	{ "incidents/usb.html", "USBメモリ紛失 </script><script>alert(1)</script>",
	  "incident", "インシデント報告", "2023-09-09", { "7.10" }, { "紛失" }, {
	  { "", "", "ＵＳＢメモリを電車内で紛失した。\xe2\x80\xa8暗号化されていたため被害はなかった。" } } },
};

static const char *const words[] = {
	"情報", "セキュリティ", "方針", "管理", "手順", "従業員", "パスワード",
	"暗号化", "ウイルス", "対策", "訓練", "教育", "記録", "確認", "責任者",
	"定期的", "機密", "漏えい", "事故", "報告", "端末", "持ち出し",
	"クラウド", "サービス", "委託先", "契約", "監査", "点検", "更新",
	"ソフトウェア", "脆弱性", "パッチ", "適用", "不審", "添付ファイル",
	"開封", "禁止", "許可", "申請", "承認", "廃棄", "書類", "施錠",
	"入退室", "来訪者", "被害", "復旧", "計画", "連絡", "体制", "ログ",
	"監視", "取引先", "個人情報", "持込み", "無線LAN", "VPN", "OS",
};
static const char *const particles[] = { "は", "を", "に", "が", "の", "で", "と" };
static const char *const verbs[] = {
	"する。", "します。", "しなければならない。", "を行う。", "を確認する。",
	"を記録する。", "に報告する。"
};

static unsigned
rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/* Random Japanese prose of about `sentences` sentences. */
static char *
prose(unsigned *seed, int sentences)
{
	struct buf b = BUF_INIT;
	int i, k, n;

	for (i = 0; i < sentences; i++) {
		n = 2 + (int)(rnd(seed) % 3);
		for (k = 0; k < n; k++) {
			buf_puts(&b, words[rnd(seed) % (sizeof(words) / sizeof(*words))]);
			if (k + 1 < n)
				buf_puts(&b, particles[rnd(seed) %
				    (sizeof(particles) / sizeof(*particles))]);
		}
		buf_puts(&b, verbs[rnd(seed) % (sizeof(verbs) / sizeof(*verbs))]);
	}
	return buf_detach(&b);
}

static void
html_head(struct buf *b, const char *root, const char *title)
{
	buf_puts(b, "<!doctype html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>");
	buf_put_html(b, title, strlen(title));
	buf_printf(b, "</title>\n<script src=\"%ssearch/manifest.js\" defer></script>\n"
	    "<script src=\"%sassets/search.js\" data-root=\"%s\" defer></script>\n"
	    "<style>mark{background:#ff0}.search-option[aria-selected=true]{outline:2px solid blue}</style>\n"
	    "</head><body><header><form class=\"search-box\" role=\"search\" action=\"%ssearch.html\">"
	    "<input type=\"search\" name=\"q\" data-search-input aria-label=\"検索\">"
	    "<div class=\"search-dropdown\" data-search-dropdown hidden></div></form></header>\n<main>\n",
	    root, root, root, root);
}

static int
write_page(const char *out, const char *rel, struct buf *b)
{
	char *path = util_path_join(out, rel);
	int rc = util_write_file(path, b->ptr, b->len);

	if (rc == -1)
		fprintf(stderr, "search_fixture: cannot write '%s'\n", path);
	free(path);
	return rc;
}

static void
json_kv(struct buf *b, const char *k, const char *v, int comma)
{
	if (comma)
		buf_putc(b, ',');
	val_json_string(b, k, strlen(k));
	buf_putc(b, ':');
	if (v)
		val_json_string(b, v, strlen(v));
	else
		buf_puts(b, "null");
}

int
main(int argc, char **argv)
{
	const char *js = "themes/default/assets/search.js", *out;
	int nsyn = 40, c, k, rc = 1;
	size_t nfixed = sizeof(fixed) / sizeof(*fixed), ndocs, j;
	struct fdoc *docs;
	char **owned = NULL;
	size_t nowned = 0;
	unsigned seed = 20240601;
	struct srch *s = srch_new();
	struct diag d;
	struct buf b = BUF_INIT, corpus = BUF_INIT;
	char *path;

	while ((c = getopt(argc, argv, "n:j:s:H:")) != -1) {
		if (c == 'n')
			nsyn = atoi(optarg);
		else if (c == 's')	/* positions apart from this size on */
			srch_set_split(s, (size_t)atol(optarg));
		else if (c == 'H')
			srch_set_head(s, atol(optarg) > 0 ?
			    (size_t)atol(optarg) : SIZE_MAX);
		else if (c == 'j')
			js = optarg;
		else
			return 2;
	}
	if (optind + 1 != argc) {
		fputs("usage: search_fixture [-n N] [-j search.js] [-s SPLIT] OUTDIR\n", stderr);
		return 2;
	}
	out = argv[optind];
	diag_init(&d);
	ndocs = nfixed + (size_t)nsyn;
	docs = xcalloc(ndocs, sizeof(*docs));
	owned = xcalloc(ndocs * 12 + 1, sizeof(char *));
	memcpy(docs, fixed, sizeof(fixed));
	for (j = nfixed; j < ndocs; j++) {
		struct fdoc *f = &docs[j];
		static const char *const types[][2] = {
			{ "policy", "規程" }, { "procedure", "手順書" },
			{ "seminar", "セミナー" }, { "incident", "インシデント報告" } };
		static const char *const ctl[] = { "5.15", "8.1", "8.13", "A.5.1", "6.3" };
		int t = (int)(rnd(&seed) % 4);

		f->url = owned[nowned++] = xasprintf("docs/doc-%03zu.html", j);
		f->title = owned[nowned++] = prose(&seed, 1);
		f->type = types[t][0];
		f->label = types[t][1];
		f->date = owned[nowned++] = xasprintf("20%02u-%02u-01",
		    20 + rnd(&seed) % 5, 1 + rnd(&seed) % 12);
		f->controls[0] = ctl[rnd(&seed) % 5];
		f->tags[0] = words[rnd(&seed) % (sizeof(words) / sizeof(*words))];
		for (k = 0; k < 3; k++) {
			f->sec[k].anchor = owned[nowned++] = k ? xasprintf("s%d", k) : xstrdup("");
			f->sec[k].heading = owned[nowned++] = k ? prose(&seed, 1) : xstrdup("");
			f->sec[k].text = owned[nowned++] = prose(&seed, 3 + (int)(rnd(&seed) % 6));
		}
	}
	buf_puts(&corpus, "[");
	for (j = 0; j < ndocs; j++) {
		struct fdoc *f = &docs[j];
		struct srch_doc sd;
		size_t nc = 0, nt = 0, ns = 0;
		char *root;

		while (nc < 3 && f->controls[nc])
			nc++;
		while (nt < 3 && f->tags[nt])
			nt++;
		while (ns < 4 && f->sec[ns].text)
			ns++;
		memset(&sd, 0, sizeof(sd));
		sd.url = f->url;
		sd.title = f->title;
		sd.type = f->type;
		sd.type_label = f->label;
		sd.lang = "ja";
		sd.date = f->date;
		sd.controls = f->controls;
		sd.ncontrols = nc;
		sd.tags = f->tags;
		sd.ntags = nt;
		sd.sections = f->sec;
		sd.nsections = ns;
		srch_add(s, &sd);

		buf_puts(&corpus, j ? ",\n{" : "\n{");
		json_kv(&corpus, "url", f->url, 0);
		json_kv(&corpus, "title", f->title, 1);
		json_kv(&corpus, "type", f->type, 1);
		buf_puts(&corpus, ",\"controls\":[");
		for (k = 0; k < (int)nc; k++) {
			buf_puts(&corpus, k ? "," : "");
			val_json_string(&corpus, f->controls[k], strlen(f->controls[k]));
		}
		buf_puts(&corpus, "],\"tags\":[");
		for (k = 0; k < (int)nt; k++) {
			buf_puts(&corpus, k ? "," : "");
			val_json_string(&corpus, f->tags[k], strlen(f->tags[k]));
		}
		buf_puts(&corpus, "],\"sections\":[");
		for (k = 0; k < (int)ns; k++) {
			buf_puts(&corpus, k ? ",{" : "{");
			json_kv(&corpus, "anchor", f->sec[k].anchor, 0);
			json_kv(&corpus, "heading", f->sec[k].heading, 1);
			json_kv(&corpus, "text", f->sec[k].text, 1);
			buf_putc(&corpus, '}');
		}
		buf_puts(&corpus, "]}");

		root = util_root_prefix(f->url);
		buf_reset(&b);
		html_head(&b, root, f->title);
		buf_puts(&b, "<h1>");
		buf_put_html(&b, f->title, strlen(f->title));
		buf_puts(&b, "</h1>\n");
		for (k = 0; k < (int)ns; k++) {
			if (f->sec[k].anchor[0]) {
				buf_printf(&b, "<h2 id=\"%s\">", f->sec[k].anchor);
				buf_put_html(&b, f->sec[k].heading,
				    strlen(f->sec[k].heading));
				buf_puts(&b, "</h2>\n");
			}
			buf_puts(&b, "<p>");
			buf_put_html(&b, f->sec[k].text, strlen(f->sec[k].text));
			buf_puts(&b, "</p>\n");
		}
		buf_puts(&b, "</main></body></html>\n");
		free(root);
		if (write_page(out, f->url, &b) == -1)
			goto out;
	}
	buf_puts(&corpus, "\n]\n");
	if (write_page(out, "corpus.json", &corpus) == -1)
		goto out;
	buf_reset(&b);
	html_head(&b, "", "テスト手引き");
	buf_puts(&b, "<h1>テスト手引き</h1><ul>\n");
	for (j = 0; j < nfixed; j++) {
		buf_printf(&b, "<li><a href=\"%s\">", docs[j].url);
		buf_put_html(&b, docs[j].title, strlen(docs[j].title));
		buf_puts(&b, "</a></li>\n");
	}
	buf_puts(&b, "</ul></main></body></html>\n");
	if (write_page(out, "index.html", &b) == -1)
		goto out;
	buf_reset(&b);
	html_head(&b, "", "検索");
	buf_puts(&b, "<h1>検索</h1><form role=\"search\" action=\"search.html\">"
	    "<input type=\"search\" name=\"q\" data-search-input data-search-page aria-label=\"検索語\"></form>\n"
	    "<div data-search-facets></div>\n<p data-search-status aria-live=\"polite\"></p>\n"
	    "<ol data-search-results class=\"search-results\"></ol>\n</main></body></html>\n");
	if (write_page(out, "search.html", &b) == -1)
		goto out;
	path = util_path_join(out, "assets/search.js");
	if (util_copy_file(js, path) == -1) {
		fprintf(stderr, "search_fixture: cannot copy '%s' to '%s'\n", js, path);
		free(path);
		goto out;
	}
	free(path);
	if (srch_write(s, out, &d) == -1)
		goto out;
	rc = 0;
out:
	if (d.n)	/* diag_flush sorts with qsort, which wants a non-NULL array */
		diag_flush(&d, stderr, DIAG_TEXT);
	diag_release(&d);
	srch_free(s);
	for (j = 0; j < nowned; j++)
		free(owned[j]);
	free(owned);
	free(docs);
	buf_release(&b);
	buf_release(&corpus);
	return rc;
}
