/*
 * gencorpus: a deterministic, seedable handbook corpus for benchmarks.
 *
 *   gencorpus N SEED DIR      writes DIR/site.yaml and DIR/content/...
 *
 * Pages of every type with front matter (ids, controls, owners, dates,
 * tags, revisions), Japanese and English prose, headings, lists, tables,
 * links by id and by path, control mentions; about 6 KB of Markdown each.
 * The same N and SEED always give the same bytes.  Also writes
 * DIR/hugo/ (the same pages for Hugo, with a minimal layout),
 * DIR/hugo-site/ (a Hugo site over DIR/hugo/content that makes what tebiki
 * makes of them and Hugo can: see hugo_site()) and DIR/bodies/ (the
 * Markdown bodies alone, for the cmark-gfm command).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const ja_nouns[] = {
	"情報資産", "アクセス権", "バックアップ", "ランサムウェア", "多要素認証",
	"パスワード", "端末", "サーバー", "ネットワーク", "ファイアウォール",
	"脆弱性", "パッチ", "入退室", "監視カメラ", "施錠", "クリアデスク",
	"クリアスクリーン", "標的型メール", "添付ファイル", "従業員", "委託先",
	"取引先", "個人情報", "設計図面", "見積書", "ログ", "暗号化", "鍵",
	"媒体", "USBメモリ", "ノートパソコン", "スマートフォン", "クラウド",
	"EDR", "CASB", "ゼロトラスト", "インシデント", "連絡網", "復元テスト",
	"内部監査", "是正処置", "教育", "訓練", "手順書", "規程", "管理策",
	"リスク", "脅威", "影響", "対策", "責任者", "担当者", "記録", "承認",
	"申請", "権限", "証跡", "保管庫", "電源", "空調", "災害", "停電",
};
static const char *const ja_verbs[] = {
	"を確認する", "を記録する", "を見直す", "を報告する", "を管理する",
	"を制限する", "を更新する", "を保管する", "を廃棄する", "を申請する",
	"を承認する", "を教育する", "を監視する", "を暗号化する", "を取得する",
	"を復元する", "を点検する", "を周知する", "を評価する", "を改善する",
};
static const char *const ja_links[] = {
	"について、", "の結果を受けて", "に加えて", "のために", "と合わせて",
	"を前提として", "の手順に従い、", "が不十分な場合は",
};
static const char *const en_words[] = {
	"backup", "restore", "access", "control", "policy", "procedure",
	"incident", "review", "audit", "staff", "training", "device", "server",
	"network", "patch", "vulnerability", "ransomware", "phishing", "log",
	"encryption", "key", "owner", "approval", "record", "risk", "threat",
	"measure", "office", "visitor", "badge", "cloud", "account", "password",
	"the", "a", "of", "to", "and", "is", "must", "every", "after", "before",
	"weekly", "monthly", "quarterly", "checked", "kept", "updated",
};
static const char *const owners[] = {
	"情報システム課", "総務部", "営業部", "製造部", "品質保証部", "経営企画室",
};
static const struct { const char *folder, *type, *prefix; } types[] = {
	{ "chapters", "chapter", "CH" }, { "policies", "policy", "POL" },
	{ "procedures", "procedure", "PROC" }, { "reports", "report", "REP" },
	{ "incidents", "incident", "INC" }, { "lessons", "lesson", "LL" },
	{ "pages", "page", "PAGE" },
};
#define NT (sizeof(types) / sizeof(types[0]))
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Type of page i: mostly procedures and policies. */
static size_t
type_of(size_t i)
{
	static const size_t mix[] = { 0, 1, 1, 2, 2, 2, 2, 3, 4, 5, 5, 6 };

	return mix[i % N(mix)];
}

static void
control_id(struct buf *b)
{
	static const int sizes[] = { 37, 8, 14, 34 };
	int g = (int)rnd(4);

	buf_printf(b, "%d.%d", g + 5, (int)rnd((uint32_t)sizes[g]) + 1);
}

static void
ja_sentence(struct buf *b)
{
	int k, n = 1 + (int)rnd(3);

	for (k = 0; k < n; k++) {
		buf_puts(b, ja_nouns[rnd(N(ja_nouns))]);
		if (k + 1 < n)
			buf_puts(b, ja_links[rnd(N(ja_links))]);
	}
	buf_puts(b, ja_verbs[rnd(N(ja_verbs))]);
	if (rnd(6) == 0) {
		buf_puts(b, "（管理策");
		control_id(b);
		buf_puts(b, "）");
	}
	buf_puts(b, "。");
}

static void
en_sentence(struct buf *b)
{
	int k, n = 6 + (int)rnd(10);

	for (k = 0; k < n; k++) {
		const char *w = en_words[rnd(N(en_words))];

		if (k == 0)
			buf_printf(b, "%c%s", w[0] - 32 * (w[0] >= 'a'), w + 1);
		else
			buf_printf(b, " %s", w);
	}
	buf_puts(b, ". ");
}

static char *
id_of(size_t i)
{
	return xasprintf("%s-%05zu", types[type_of(i)].prefix, i);
}

static char *
path_of(size_t i)
{
	return xasprintf("%s/p%05zu.md", types[type_of(i)].folder, i);
}

static void
front(struct buf *b, size_t i, size_t n, int hugo)
{
	size_t t = type_of(i), k;
	char *id = id_of(i);
	int y = 2021 + (int)rnd(4), m = 1 + (int)rnd(12), d = 1 + (int)rnd(28);

	buf_puts(b, "---\n");
	buf_printf(b, "id: %s\n", id);
	buf_printf(b, "title: \"%s%s %zu\"\n", ja_nouns[rnd(N(ja_nouns))],
	    t == 1 ? "方針" : t == 2 ? "手順" : "の記録", i);
	if (hugo) {
		buf_printf(b, "date: %04d-%02d-%02d\n", y, m, d);
	}
	buf_printf(b, "summary: \"");
	ja_sentence(b);
	buf_puts(b, "\"\n");
	if (t == 0)
		buf_printf(b, "chapter: %zu\n", 10 + i % 20);
	if (t == 1 || t == 2 || t == 0) {
		buf_printf(b, "owner: %s\nstatus: approved\nversion: \"1.%d\"\n",
		    owners[rnd(N(owners))], (int)rnd(9));
		buf_printf(b, "effective: %04d-%02d-%02d\nreviewed: "
		    "%04d-%02d-%02d\nreview_every: 12m\n", y, m, d, y, m, d);
		buf_puts(b, "revisions:\n");
		buf_printf(b, "  - {version: \"1.0\", date: %04d-%02d-%02d, "
		    "note: 初版}\n", y, m, d);
	}
	if (t == 2 && n > 12) {
		/* implements a policy */
		size_t p = (i / 12) * 12 + 1;

		if (p < n && type_of(p) == 1) {
			char *pid = id_of(p);

			buf_printf(b, "implements: [%s]\n", pid);
			free(pid);
		}
	}
	if (t >= 3 && t <= 5)
		buf_printf(b, "date: %04d-%02d-%02d\n", y, m, d);
	if (t == 5) {
		/* a lesson touches one control, most often one of a few */
		buf_puts(b, "affects: [\"");
		if (rnd(3) == 0)
			buf_puts(b, "8.13");
		else
			control_id(b);
		buf_puts(b, "\"]\n");
	}
	buf_puts(b, "controls: [");
	for (k = 0; k < 1 + rnd(3); k++) {
		if (k)
			buf_puts(b, ", ");
		buf_putc(b, '"');
		control_id(b);
		buf_putc(b, '"');
	}
	buf_puts(b, "]\n");
	buf_printf(b, "tags: [%s, %s]\n", ja_nouns[rnd(N(ja_nouns))],
	    en_words[rnd(20)]);
	buf_puts(b, "---\n");
	free(id);
}

static void
body(struct buf *b, size_t i, size_t n, int hugo)
{
	int s, k, r;
	size_t target;
	char *p;

	for (s = 0; s < 5; s++) {
		buf_printf(b, "\n## %s%s\n\n", ja_nouns[rnd(N(ja_nouns))],
		    s % 2 ? "の手順" : "の考え方");
		for (k = 0; k < 4; k++)
			ja_sentence(b);
		buf_puts(b, "\n\n");
		if (rnd(2)) {
			for (k = 0; k < 2; k++)
				en_sentence(b);
			buf_puts(b, "\n\n");
		}
		switch (s) {
		case 1:
			for (k = 0; k < 4; k++) {
				buf_printf(b, "%d. ", k + 1);
				ja_sentence(b);
				buf_putc(b, '\n');
			}
			break;
		case 2:
			buf_puts(b, "| 項目 | 担当 | 頻度 |\n|---|---|---|\n");
			for (k = 0; k < 4; k++)
				buf_printf(b, "| %s | %s | %s |\n",
				    ja_nouns[rnd(N(ja_nouns))],
				    owners[rnd(N(owners))],
				    rnd(2) ? "毎月" : "四半期");
			break;
		case 3:
			target = rnd((uint32_t)n);
			if (target == i)
				target = (i + 1) % n;
			if (hugo || target == i) {
				buf_puts(b, "関連文書を参照する。\n");
				break;
			}
			r = (int)rnd(2);
			if (r) {
				p = id_of(target);
				buf_printf(b, "詳しくは[関連文書](id:%s)を参照する。\n",
				    p);
			} else {
				p = path_of(target);
				buf_printf(b, "詳しくは[関連文書](../%s)を参照する。\n",
				    p);
			}
			free(p);
			break;
		default:
			for (k = 0; k < 3; k++) {
				buf_puts(b, "- ");
				ja_sentence(b);
				buf_putc(b, '\n');
			}
		}
		for (k = 0; k < 8; k++)
			ja_sentence(b);
		buf_puts(b, "\n");
	}
}

/* Writes DIR/hugo-site/FILE. */
static void
put_file(const char *dir, const char *file, const char *text)
{
	char *path = xasprintf("%s/hugo-site/%s", dir, file);

	util_write_file(path, text, strlen(text));
	free(path);
}

/*
 * DIR/hugo-site/: Hugo making, from the same pages (DIR/hugo/content),
 * the parts of a tebiki site that Hugo has a way to make, so that the two
 * are timed on comparable work: every page with its section and the site
 * in a breadcrumb, its table of contents, its control mentions in the text
 * linked to the control's page (replaceRE where tebiki has
 * control-links.lua) and links to its controls, affected controls and
 * tags; a page per control and per tag listing the pages that name it
 * (taxonomies, where tebiki has back-references); section lists with
 * dates; one page with every page's body (print.html); and a JSON search
 * index with every page's plain text (index.json, the usual Hugo way).
 * tebiki also makes the SoA, the dashboard and a tokenized index; those
 * have no counterpart here.
 */
static void
hugo_site(const char *dir)
{
	put_file(dir, "config.toml",
	    "baseURL = 'http://example.org/'\nlanguageCode = 'ja'\n"
	    "title = 'bench'\ncontentDir = '../hugo/content'\n"
	    "disableKinds = ['RSS', 'sitemap']\nhasCJKLanguage = true\n"
	    "[taxonomies]\ncontrol = 'controls'\naffect = 'affects'\n"
	    "tag = 'tags'\n[outputFormats.print]\nmediaType = 'text/html'\n"
	    "baseName = 'print'\nisHTML = true\n[outputs]\n"
	    "home = ['HTML', 'JSON', 'print']\n"
	    "[markup.goldmark.renderer]\nunsafe = false\n");
	put_file(dir, "layouts/_default/single.html",
	    "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\">"
	    "<title>{{ .Title }}</title></head><body><nav><a href=\""
	    "{{ .Site.Home.RelPermalink }}\">{{ .Site.Title }}</a> / <a href="
	    "\"{{ .Parent.RelPermalink }}\">{{ .Parent.Title }}</a></nav><h1>"
	    "{{ .Title }}</h1>{{ .TableOfContents }}{{ .Content | replaceRE "
	    "\"管理策(\\\\d+\\\\.\\\\d+)\" \"管理策<a href=\\\"/controls/$1/\\\">"
	    "$1</a>\" }}{{ range $t := slice \"controls\" \"affects\" \"tags\" }}"
	    "{{ with $.GetTerms $t }}<ul class=\"{{ $t }}\">{{ range . }}<li>"
	    "<a href=\"{{ .RelPermalink }}\">{{ .LinkTitle }}</a></li>{{ end }}"
	    "</ul>{{ end }}{{ end }}</body></html>\n");
	put_file(dir, "layouts/_default/list.html",
	    "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\">"
	    "<title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1><ul>"
	    "{{ range .Pages }}<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}"
	    "</a> {{ .Date.Format \"2006-01-02\" }}</li>{{ end }}</ul></body>"
	    "</html>\n");
	put_file(dir, "layouts/index.json",
	    "[{{ range $i, $p := .Site.RegularPages }}{{ if $i }},{{ end }}"
	    "{{ dict \"url\" $p.RelPermalink \"title\" $p.Title \"section\" "
	    "$p.Section \"date\" ($p.Date.Format \"2006-01-02\") \"text\" "
	    "$p.Plain | jsonify }}{{ end }}]\n");
	put_file(dir, "layouts/index.print.html",
	    "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\">"
	    "<title>{{ .Site.Title }}</title></head><body>"
	    "{{ range .Site.RegularPages }}<article id=\"{{ .File.UniqueID }}\">"
	    "<h1>{{ .Title }}</h1>{{ .Content }}</article>{{ end }}</body>"
	    "</html>\n");
}

int
main(int argc, char **argv)
{
	struct buf b = BUF_INIT, fm = BUF_INIT;
	size_t n, i, t;
	char *path, *rel;
	uint64_t seed;

	if (argc != 4) {
		fputs("usage: gencorpus N SEED DIR\n", stderr);
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	seed = strtoull(argv[2], NULL, 10);
	path = util_path_join(argv[3], "site.yaml");
	buf_printf(&b, "title: ベンチマーク用ハンドブック\nlanguage: ja\n"
	    "output: public\nexcluded_links: text\n"
	    "filters: [filters/control-links.lua, filters/glossary.lua]\n");
	util_write_file(path, b.ptr, b.len);
	free(path);
	path = util_path_join(argv[3], "hugo/config.toml");
	buf_reset(&b);
	buf_puts(&b, "baseURL = 'http://example.org/'\nlanguageCode = 'ja'\n"
	    "title = 'bench'\ndisableKinds = ['taxonomy', 'term', 'RSS', "
	    "'sitemap']\nhasCJKLanguage = true\n[markup.goldmark.renderer]\n"
	    "unsafe = false\n");
	util_write_file(path, b.ptr, b.len);
	free(path);
	path = util_path_join(argv[3], "hugo/layouts/_default/single.html");
	buf_reset(&b);
	buf_puts(&b, "<!DOCTYPE html><html lang=\"ja\"><head><meta charset="
	    "\"utf-8\"><title>{{ .Title }}</title></head><body><h1>{{ .Title "
	    "}}</h1>{{ .TableOfContents }}{{ .Content }}</body></html>\n");
	util_write_file(path, b.ptr, b.len);
	free(path);
	path = util_path_join(argv[3], "hugo/layouts/_default/list.html");
	buf_reset(&b);
	buf_puts(&b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
	    "<title>{{ .Title }}</title></head><body><ul>{{ range .Pages }}"
	    "<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>"
	    "{{ end }}</ul></body></html>\n");
	util_write_file(path, b.ptr, b.len);
	free(path);
	hugo_site(argv[3]);
	for (i = 0; i < n; i++) {
		t = type_of(i);
		(void)t;
		/* tebiki page */
		rng = seed * 0x9e3779b97f4a7c15ULL + i * 0x632be59bd9b4e019ULL + 1;
		buf_reset(&fm);
		buf_reset(&b);
		front(&fm, i, n, 0);
		body(&b, i, n, 0);
		rel = path_of(i);
		path = xasprintf("%s/content/%s", argv[3], rel);
		{
			struct buf all = BUF_INIT;

			buf_put(&all, fm.ptr, fm.len);
			buf_put(&all, b.ptr, b.len);
			util_write_file(path, all.ptr, all.len);
			buf_release(&all);
		}
		free(path);
		path = xasprintf("%s/bodies/%05zu.md", argv[3], i);
		util_write_file(path, b.ptr, b.len);
		free(path);
		/* the same page for Hugo (no id: links, which it lacks) */
		rng = seed * 0x9e3779b97f4a7c15ULL + i * 0x632be59bd9b4e019ULL + 1;
		buf_reset(&fm);
		buf_reset(&b);
		front(&fm, i, n, 1);
		body(&b, i, n, 1);
		path = xasprintf("%s/hugo/content/%s", argv[3], rel);
		{
			struct buf all = BUF_INIT;

			buf_put(&all, fm.ptr, fm.len);
			buf_put(&all, b.ptr, b.len);
			util_write_file(path, all.ptr, all.len);
			buf_release(&all);
		}
		free(path);
		free(rel);
	}
	buf_release(&b);
	buf_release(&fm);
	return 0;
}
