/*
 * cmd_new: `tebiki new TYPE TITLE [--id ID]`, `tebiki new incident-review
 * TITLE` and `tebiki new site DIR`.
 *
 * Documents come from archetypes: <site>/archetypes/<lang>/<type>.md wins
 * over the theme's, rendered with the Mustache engine (title, title_yaml,
 * id, date, type).  Nothing is ever overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "diag.h"
#include "lifecycle.h"
#include "page.h"
#include "site.h"
#include "template.h"
#include "util.h"
#include "value.h"

static const char usage[] =
    "usage: tebiki new TYPE TITLE [-s DIR] [--id ID] [--lang ja|en]\n"
    "                  [--today YYYY-MM-DD]\n"
    "       tebiki new incident-review TITLE [-s DIR] [--id ID]\n"
    "                  [--today YYYY-MM-DD]\n"
    "       tebiki new site DIR\n"
    "\n"
    "Creates a document from the archetype of its type (chapter, policy,\n"
    "procedure, report, incident, lesson, page, incident-review) in the\n"
    "type's folder, with today's date and a fresh id unless --id is given.\n"
    "'new site' creates a working site skeleton.  Existing files are never\n"
    "overwritten.\n"
    "\n"
    "  -s, --source DIR   site directory (default .)\n"
    "      --id ID        the document id\n"
    "      --lang LANG    archetype language (default: the site's)\n"
    "      --today DATE   the date to use (YYYY-MM-DD)\n"
    "  -h, --help         this help\n";

static const struct {
	const char	*type;		/* archetype name */
	const char	*doctype;	/* front matter type */
	const char	*folder;
	const char	*prefix;	/* id prefix */
} kinds[] = {
	{ "chapter", "chapter", "chapters", "CH" },
	{ "policy", "policy", "policies", "POL" },
	{ "procedure", "procedure", "procedures", "PROC" },
	{ "report", "report", "reports", "REP" },
	{ "incident", "incident", "incidents", "INC" },
	{ "lesson", "lesson", "lessons", "LL" },
	{ "page", "page", "pages", "PAGE" },
	{ "incident-review", "report", "reports", "REV" },
};

/* Creates `path` with `text` unless it exists; 0 or -1 after a message. */
static int
create_new(const char *path, const char *text, size_t len)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd;

	if (slash) {
		*slash = '\0';
		util_mkdir_p(dir);
	}
	free(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		if (errno == EEXIST)
			fprintf(stderr, "tebiki: '%s' already exists; not "
			    "overwriting it\n", path);
		else
			fprintf(stderr, "tebiki: cannot create '%s': %s\n",
			    path, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		fprintf(stderr, "tebiki: cannot write '%s': %s\n", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Highest number N among ids "PREFIX-N" in the site's content. */
static int
max_id_number(const char *dir, const char *prefix)
{
	struct site_file *files = NULL;
	struct diag d;
	long n, i;
	int best = 0, v;
	size_t pl = strlen(prefix);

	diag_init(&d);
	n = site_scan(dir, &files, &d);
	for (i = 0; i < n; i++) {
		struct page_src ps;
		const char *id;
		char *end;

		if (!files[i].is_page)
			continue;
		page_load(&ps, files[i].path, files[i].src, &d);
		id = val_cstr(val_get(ps.meta, "id"));
		if (id && strncmp(id, prefix, pl) == 0 && id[pl] == '-') {
			v = (int)strtol(id + pl + 1, &end, 10);
			if (*end == '\0' && v > best)
				best = v;
		}
		page_src_release(&ps);
	}
	if (n > 0)
		site_files_free(files, (size_t)n);
	diag_release(&d);
	return best;
}

static char *
share_path(const char *rel)
{
	char exe[4096], *slash, *p;
	const char *env = getenv("TEBIKI_HOME");
	ssize_t n;

	if (env && *env)
		return util_path_join(env, rel);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		p = xasprintf("%s/%s", exe, rel);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
		p = xasprintf("%s/../%s", exe, rel);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
		p = xasprintf("%s/../share/tebiki/%s", exe, rel);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
	}
	return util_path_join(TEBIKI_SHAREDIR, rel);
}

/* Appends `s` as one word for a POSIX shell: as it is when every byte is
 * plain (letters, digits, "_-./:@%+=,", or non-ASCII, which no shell
 * treats specially), else in single quotes, a quote as '\''.  So the
 * command new_site prints can be pasted as it is. */
static void
shell_word(const char *s, struct buf *out)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-./:@%+=,";
	const char *q;

	for (q = s; *q; q++)
		if ((unsigned char)*q < 0x80 && strchr(plain, *q) == NULL)
			break;
	if (*s != '\0' && *q == '\0') {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '\'');
	for (q = s; *q; q++) {
		if (*q == '\'')
			buf_puts(out, "'\\''");
		else
			buf_putc(out, *q);
	}
	buf_putc(out, '\'');
}

/* The site whose content/ holds dir (its directory, caller frees), or
 * NULL: a site made there would be read as that site's pages. */
static char *
enclosing_site(const char *dir)
{
	char *abs = util_abspath(dir), *slash, *yaml;
	size_t n;

	while (abs != NULL && (slash = strrchr(abs, '/')) != NULL &&
	    slash != abs) {
		*slash = '\0';
		n = strlen(abs);
		if (n >= 8 && strcmp(abs + n - 8, "/content") == 0) {
			abs[n - 8] = '\0';
			yaml = util_path_join(*abs ? abs : "/", "site.yaml");
			if (util_is_file(yaml)) {
				free(yaml);
				return abs;
			}
			free(yaml);
			abs[n - 8] = '/';
		}
	}
	free(abs);
	return NULL;
}

static int
new_site(const char *dir)
{
	static const char site_yaml[] =
	    "title: 情報セキュリティハンドブック\n"
	    "description: 当社の情報セキュリティ方針と手順をまとめたハンドブックです。\n"
	    "language: ja\n"
	    "output: public\n"
	    "theme: default\n"
	    "default_classification: internal\n"
	    "print_footer: 印刷物は管理対象外です。最新版はサイトを参照してください。\n"
	    "catalogs: [catalogs/iso27001-2022.yaml]\n"
	    "filters: [filters/control-links.lua, filters/glossary.lua]\n";
	static const char index_md[] =
	    "---\ntitle: ホーム\n---\n"
	    "このハンドブックには、当社の情報セキュリティに関する方針、手順、\n"
	    "研修資料、インシデントの振り返りをまとめています。\n\n"
	    "新しい文書は `tebiki new policy \"タイトル\"` のように作成します。\n";
	static const char gitignore[] = "/public/\n/.tebiki-cache/\n"
	    ".*.tebiki-work/\n.*.tebiki-work.lock\n";
	char *p;
	int rc = 0;

	if ((p = enclosing_site(dir)) != NULL) {
		fprintf(stderr, "tebiki: '%s' is inside the content of the "
		    "site in '%s'; its files would become that site's pages\n",
		    dir, p);
		free(p);
		return CMD_USAGE;
	}
	if (util_is_file((p = util_path_join(dir, "site.yaml")))) {
		fprintf(stderr, "tebiki: '%s' already holds a site; not "
		    "overwriting it\n", dir);
		free(p);
		return CMD_USAGE;
	}
	rc |= create_new(p, site_yaml, sizeof(site_yaml) - 1);
	free(p);
	p = util_path_join(dir, "content/index.md");
	rc |= create_new(p, index_md, sizeof(index_md) - 1);
	free(p);
	p = util_path_join(dir, ".gitignore");
	if (!util_is_file(p))
		rc |= create_new(p, gitignore, sizeof(gitignore) - 1);
	free(p);
	if (rc)
		return CMD_USAGE;
	{
		struct buf cmd = BUF_INIT;

		shell_word(dir, &cmd);
		printf("created a site in '%s'; build it with: tebiki build "
		    "-s %s\n", dir, cmd.ptr);
		buf_release(&cmd);
	}
	return CMD_OK;
}

int
cmd_new(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "lang", required_argument, NULL, 'l' },
		{ "today", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = ".", *id = NULL, *lang = NULL, *today = NULL;
	const char *kind, *title;
	struct site_config cfg;
	struct diag d;
	struct tmpl_set *ts = NULL;
	struct value *ctx = NULL;
	struct buf text = BUF_INIT, tj = BUF_INIT;
	char date[16], *arch = NULL, *rel = NULL, *path = NULL, *gen = NULL;
	char *lid, *q;
	size_t k;
	int c, rc = CMD_USAGE, y, m, dd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': dir = optarg; break;
		case 'i': id = optarg; break;
		case 'l': lang = optarg; break;
		case 'T': today = optarg; break;
		case 'h': fputs(usage, stdout); return CMD_OK;
		default: fputs(usage, stderr); return CMD_USAGE;
		}
	}
	if (argc - optind == 2 && strcmp(argv[optind], "site") == 0)
		return new_site(argv[optind + 1]);
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return CMD_USAGE;
	}
	kind = argv[optind];
	title = argv[optind + 1];
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(kinds[k].type, kind) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0])) {
		fprintf(stderr, "tebiki: unknown document type '%s'\n", kind);
		fputs(usage, stderr);
		return CMD_USAGE;
	}
	if (*title == '\0') {
		fputs("tebiki: the title must not be empty\n", stderr);
		return CMD_USAGE;
	}
	if (today) {
		if (cmd_opt_today(today, &y, &m, &dd) == -1)
			return CMD_USAGE;
		snprintf(date, sizeof(date), "%s", today);
	} else {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	}
	if (id) {
		for (q = (char *)id; *q; q++)
			if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' &&
			    *q <= 'z') || (*q >= '0' && *q <= '9') ||
			    *q == '-' || *q == '_' || *q == '.'))
				break;
		if (*q || *id == '.' || *id == '\0') {
			fprintf(stderr, "tebiki: id '%s' may only contain "
			    "letters, digits, '-', '_' and '.'\n", id);
			return CMD_USAGE;
		}
	}
	diag_init(&d);
	/* outside a site a document would land in a stray content/ */
	if (site_dir_check(dir, &d) == -1) {
		diag_flush(&d, stderr, DIAG_TEXT);
		diag_release(&d);
		return CMD_USAGE;
	}
	if (site_config_load(&cfg, dir, &d) == -1 || !util_is_dir(dir)) {
		diag_flush(&d, stderr, DIAG_TEXT);
		fprintf(stderr, "tebiki: '%s' is not a usable site (create one "
		    "with 'tebiki new site DIR')\n", dir);
		site_config_release(&cfg);
		diag_release(&d);
		return CMD_USAGE;
	}
	if (lang == NULL)
		lang = cfg.language;
	if (strcmp(lang, "ja") != 0 && strcmp(lang, "en") != 0) {
		fprintf(stderr, "tebiki: unsupported language '%s'\n", lang);
		goto out;
	}
	if (id == NULL)
		id = gen = xasprintf("%s-%03d", kinds[k].prefix,
		    max_id_number(dir, kinds[k].prefix) + 1);
	/* the archetype: the site's, then the theme's */
	rel = xasprintf("archetypes/%s/%s.md", lang, kind);
	arch = util_path_join(dir, rel);
	if (!util_is_file(arch)) {
		char *t = xasprintf("themes/%s/%s", cfg.theme, rel);

		free(arch);
		arch = util_path_join(dir, t);
		if (!util_is_file(arch)) {
			free(arch);
			arch = share_path(t);
		}
		free(t);
	}
	if (util_read_file(arch, &text) == -1) {
		fprintf(stderr, "tebiki: no archetype '%s': %s\n", arch,
		    strerror(errno));
		goto out;
	}
	ts = tmpl_set_new();
	if (tmpl_set_add_string(ts, "archetype", text.ptr, text.len, arch,
	    &d) == -1 || tmpl_set_compile(ts, &d) == -1) {
		diag_flush(&d, stderr, DIAG_TEXT);
		goto out;
	}
	ctx = val_map();
	val_set(ctx, "title", val_str(title));
	val_json_string(&tj, title, strlen(title));
	val_set(ctx, "title_yaml", val_str(tj.ptr));
	val_set(ctx, "id", val_str(id));
	val_set(ctx, "date", val_str(date));
	{
		int ymd = atoi(date) * 10000 + atoi(date + 5) * 100 +
		    atoi(date + 8);
		char due[32];

		ymd = life_add_period(ymd, "1m");
		snprintf(due, sizeof(due), "%04d-%02d-%02d", ymd / 10000,
		    ymd / 100 % 100, ymd % 100);
		val_set(ctx, "due", val_str(due));
	}
	val_set(ctx, "type", val_str(kinds[k].doctype));
	buf_reset(&text);
	if (tmpl_render(ts, "archetype", ctx, &text, &d) == -1) {
		diag_flush(&d, stderr, DIAG_TEXT);
		goto out;
	}
	lid = xstrdup(id);
	for (q = lid; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	free(path);
	{
		char *r2 = xasprintf("content/%s/%s.md", kinds[k].folder, lid);

		path = util_path_join(dir, r2);
		free(r2);
	}
	free(lid);
	if (create_new(path, text.ptr, text.len) == 0) {
		printf("%s\n", path);
		rc = CMD_OK;
	}
out:
	val_unref(ctx);
	tmpl_set_free(ts);
	buf_release(&text);
	buf_release(&tj);
	free(arch);
	free(rel);
	free(path);
	free(gen);
	site_config_release(&cfg);
	diag_release(&d);
	return rc;
}
