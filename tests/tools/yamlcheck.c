/*
 * yamlcheck: parses YAML files, or the front matter of Markdown files, with
 * the project's loader (yml_parse) and prints its diagnostics.  Optionally
 * prints values, so shell tests can check content without another parser.
 *
 *   yamlcheck [--get PATH | --keys PATH] FILE...
 *
 * A file ending in ".md", or starting with a "---" line, is front matter:
 * the text between the first line "---" and the next line "---".
 * --get PATH prints what PATH selects, one scalar per line (containers as
 * JSON); PATH is dotted, a "*" segment stands for every item of a list or
 * every value of a map.  --keys PATH prints the keys of the maps selected.
 * Nothing selected prints nothing.  With several files each line is
 * prefixed "FILE: ".
 *
 * Exit status: 0 when every file parsed, 1 when any did not, 2 on usage
 * or I/O errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "util.h"
#include "value.h"
#include "yml.h"

/* Prints one selected value (scalar text, or JSON for containers). */
static void
print_value(const char *prefix, const struct value *v)
{
	struct buf b;

	buf_init(&b);
	if (v->kind == VAL_LIST || v->kind == VAL_MAP)
		val_to_json(v, &b);
	else
		val_to_text(v, &b);
	printf("%s%s\n", prefix, b.ptr);
	buf_release(&b);
}

/* Walks `path` (dotted, "*" fans out) from `v`; at its end prints the value
 * (keys == 0) or its keys.  For --get, a list reached at the end prints its
 * scalar items one a line. */
static void
walk(const char *prefix, const struct value *v, const char *path, int keys)
{
	const char *dot;
	size_t len, i;
	char *seg;

	if (v == NULL)
		return;
	if (*path == '\0') {
		if (keys) {
			if (v->kind == VAL_MAP)
				for (i = 0; i < v->n; i++)
					printf("%s%s\n", prefix, v->keys[i]->str);
		} else if (v->kind == VAL_LIST) {
			for (i = 0; i < v->n; i++)
				print_value(prefix, v->items[i]);
		} else
			print_value(prefix, v);
		return;
	}
	dot = strchr(path, '.');
	len = dot ? (size_t)(dot - path) : strlen(path);
	seg = xstrndup(path, len);
	path += len + (dot != NULL);
	if (strcmp(seg, "*") == 0) {
		if (v->kind == VAL_LIST || v->kind == VAL_MAP)
			for (i = 0; i < v->n; i++)
				walk(prefix, v->items[i], path, keys);
	} else
		walk(prefix, val_get(v, seg), path, keys);
	free(seg);
}

/* Finds the front matter of `text`: sets `start` and `len` to its body and
 * `line0` to the file line of its first line.  Returns 0, or -1 when the
 * text has no "---" first line or no closing "---" line. */
static int
front_matter(const char *text, size_t *start, size_t *len, int *line0)
{
	const char *p, *end;

	if (strncmp(text, "---\n", 4) != 0 && strncmp(text, "---\r\n", 5) != 0)
		return -1;
	p = strchr(text, '\n') + 1;
	*start = (size_t)(p - text);
	for (;;) {
		end = strchr(p, '\n');
		if (strncmp(p, "---", 3) == 0 &&
		    (p[3] == '\n' || p[3] == '\r' || p[3] == '\0')) {
			*len = (size_t)(p - text) - *start;
			*line0 = 2;
			return 0;
		}
		if (end == NULL)
			return -1;
		p = end + 1;
	}
}

/* Parses one file, reporting to `d`; returns the root (caller unrefs) or
 * NULL after reporting. */
static struct value *
check_file(const char *path, struct diag *d)
{
	struct buf b;
	struct value *v = NULL;
	size_t start = 0, len;
	int line0 = 1;

	buf_init(&b);
	if (util_read_file(path, &b) == -1) {
		diag_err(d, path, 0, 0, "cannot read '%s'", path);
		goto out;
	}
	len = b.len;
	if (util_has_suffix(path, ".md") || strncmp(b.ptr, "---\n", 4) == 0) {
		if (front_matter(b.ptr, &start, &len, &line0) == -1) {
			diag_err(d, path, 1, 1, "no front matter between "
			    "'---' lines");
			goto out;
		}
	}
	v = yml_parse(b.ptr + start, len, path, line0, d);
out:
	buf_release(&b);
	return v;
}

int
main(int argc, char **argv)
{
	struct diag d;
	struct value *v;
	const char *path = NULL;
	char *prefix;
	int i = 1, keys = 0, rc = 0, many;

	if (argc > 2 && (strcmp(argv[1], "--get") == 0 ||
	    strcmp(argv[1], "--keys") == 0)) {
		keys = strcmp(argv[1], "--keys") == 0;
		path = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: yamlcheck [--get PATH | --keys PATH] "
		    "FILE...\n");
		return 2;
	}
	many = argc - i > 1;
	diag_init(&d);
	for (; i < argc; i++) {
		v = check_file(argv[i], &d);
		if (v == NULL) {
			rc = 1;
			continue;
		}
		if (path != NULL) {
			prefix = many ? xasprintf("%s: ", argv[i]) : xstrdup("");
			walk(prefix, v, path, keys);
			free(prefix);
		}
		val_unref(v);
	}
	fflush(stdout);
	if (d.n > 0)	/* diag_flush sorts; skip the empty case */
		diag_flush(&d, stderr, DIAG_TEXT);
	diag_release(&d);
	return rc;
}
