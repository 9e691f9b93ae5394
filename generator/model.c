/*
 * model: catalogs, schema validation, applicability, glossary, references.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "build.h"
#include "diag.h"
#include "markdown.h"
#include "model.h"
#include "util.h"
#include "value.h"
#include "yml.h"

/* ---------------------------------------------------------------------
 * Small helpers
 */

static char *
lower(const char *s)
{
	char *r = xstrdup(s), *p;

	for (p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/* Reads a YAML file into a value; NULL after reporting (or when missing
 * and `optional`). */
static struct value *
load_yaml(struct build *b, const char *path, const char *display,
    int optional)
{
	struct buf t = BUF_INIT;
	struct value *v;
	const char *p;
	size_t n;

	if (util_read_file(path, &t) == -1) {
		buf_release(&t);
		if (!optional)
			diag_err(b->d, display, 0, 0, "cannot read file");
		return NULL;
	}
	p = t.ptr;
	n = t.len;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		n -= 3;
	}
	if (memchr(p, '\0', n)) {
		diag_err(b->d, display, 0, 0, "file contains a NUL byte");
		buf_release(&t);
		return NULL;
	}
	v = yml_parse(p, n, display, 1, b->d);
	buf_release(&t);
	return v;
}

/* Text of a {ja:, en:} map or a plain string. */
static char *
i18n_text(const struct value *v, const char *lang)
{
	const char *s;

	if (v == NULL)
		return NULL;
	if (v->kind == VAL_MAP) {
		s = val_cstr(val_get(v, lang));
		if (s == NULL)
			s = val_cstr(val_get(v, strcmp(lang, "ja") == 0 ?
			    "en" : "ja"));
		return s ? xstrdup(s) : NULL;
	}
	s = val_cstr(v);
	return s ? xstrdup(s) : NULL;
}

/* A file name from a control id: letters, digits, '.', '-', '_' kept. */
static char *
safe_name(const char *s)
{
	char *r = xstrdup(s), *p;

	for (p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_')
			*p = '_';
	return r;
}

/* ---------------------------------------------------------------------
 * Catalogs
 */

static void
add_control(struct build *b, struct model *m, size_t cat, const char *id,
    char *tja, char *ten, const char *group, const struct value *pos,
    const char *display)
{
	struct control *c;
	char *key, *lk, *name;
	size_t dummy;

	key = cat == 0 ? xstrdup(id) : xasprintf("%s:%s", m->cats[cat].prefix,
	    id);
	lk = lower(key);
	if (hm_get(&m->by_key, lk, &dummy)) {
		diag_err(b->d, display, pos ? pos->line : 0, pos ? pos->col : 0,
		    "duplicate control '%s'", key);
		free(key);
		free(lk);
		free(tja);
		free(ten);
		return;
	}
	m->ctls = xreallocarray(m->ctls, m->nctls + 1, sizeof(*m->ctls));
	c = &m->ctls[m->nctls];
	memset(c, 0, sizeof(*c));
	c->key = key;
	c->id = xstrdup(id);
	c->title_ja = tja ? tja : xstrdup(id);
	c->title_en = ten ? ten : xstrdup(c->title_ja);
	c->group = group ? xstrdup(group) : NULL;
	c->catalog = cat;
	name = safe_name(id);
	c->out = cat == 0 ? xasprintf("controls/%s.html", name) :
	    xasprintf("controls/%s/%s.html", m->cats[cat].prefix, name);
	free(name);
	c->applicable = -1;
	hm_put(&m->by_key, lk, m->nctls);
	free(lk);
	m->nctls++;
}

/* OSCAL: catalog.groups[].controls[] (nested controls too). */
static void
oscal_controls(struct build *b, struct model *m, size_t cat,
    const struct value *list, const char *group, const char *display,
    int depth)
{
	const struct value *c, *props, *p;
	const char *id, *label;
	size_t i, k;

	if (list == NULL || list->kind != VAL_LIST || depth > 8)
		return;
	for (i = 0; i < list->n; i++) {
		c = list->items[i];
		id = val_cstr(val_get(c, "id"));
		if (id == NULL) {
			diag_err(b->d, display, c->line, c->col, "OSCAL control "
			    "without an 'id'");
			continue;
		}
		label = NULL;
		props = val_get(c, "props");
		for (k = 0; props && props->kind == VAL_LIST && k < props->n;
		    k++) {
			p = props->items[k];
			if (val_cstr(val_get(p, "name")) &&
			    strcmp(val_cstr(val_get(p, "name")), "label") == 0)
				label = val_cstr(val_get(p, "value"));
		}
		add_control(b, m, cat, label ? label : id,
		    i18n_text(val_get(c, "title"), "ja"),
		    i18n_text(val_get(c, "title"), "en"), group, c, display);
		oscal_controls(b, m, cat, val_get(c, "controls"), group,
		    display, depth + 1);
	}
}

static int
load_catalog(struct build *b, struct model *m, const char *file,
    const char *prefix, const struct value *pos)
{
	char *path, *display;
	struct value *v, *cat, *list, *groups, *g;
	struct catalog *c;
	size_t i, idx;
	const char *id;
	int rc = 0;

	if (util_is_file((path = util_path_join(b->opts->src_dir, file)))) {
		display = xstrdup(file);
	} else {
		free(path);
		path = util_path_join(b->share_dir, file);
		display = xstrdup(path);
		if (!util_is_file(path)) {
			rc = diag_err(b->d, "site.yaml", pos ? pos->line : 0,
			    pos ? pos->col : 0, "catalog '%s' not found", file);
			free(path);
			free(display);
			return rc;
		}
	}
	v = load_yaml(b, path, display, 0);
	free(path);
	if (v == NULL || v->kind != VAL_MAP) {
		if (v)
			diag_err(b->d, display, v->line, v->col, "a catalog "
			    "must be a mapping");
		val_unref(v);
		free(display);
		return -1;
	}
	m->cats = xreallocarray(m->cats, m->ncats + 1, sizeof(*m->cats));
	idx = m->ncats++;
	c = &m->cats[idx];
	memset(c, 0, sizeof(*c));
	c->src = display;
	cat = val_get(v, "catalog");
	if (cat && cat->kind == VAL_MAP) {
		/* OSCAL */
		const struct value *md = val_get(cat, "metadata");

		c->id = xstrdup(val_cstr(val_get(cat, "uuid")) ?
		    val_cstr(val_get(cat, "uuid")) : file);
		c->title_ja = i18n_text(val_get(md, "title"), "ja");
		c->title_en = i18n_text(val_get(md, "title"), "en");
		c->prefix = xstrdup(prefix ? prefix : "oscal");
		groups = val_get(cat, "groups");
		for (i = 0; groups && groups->kind == VAL_LIST &&
		    i < groups->n; i++) {
			g = groups->items[i];
			id = val_cstr(val_get(g, "id"));
			c->groups = xreallocarray(c->groups, c->ngroups + 1,
			    sizeof(*c->groups));
			c->groups[c->ngroups].id = xstrdup(id ? id : "");
			c->groups[c->ngroups].title_ja = i18n_text(val_get(g,
			    "title"), "ja");
			c->groups[c->ngroups].title_en = i18n_text(val_get(g,
			    "title"), "en");
			c->ngroups++;
			oscal_controls(b, m, idx, val_get(g, "controls"),
			    id, display, 0);
		}
		oscal_controls(b, m, idx, val_get(cat, "controls"), NULL,
		    display, 0);
	} else {
		c->id = xstrdup(val_cstr(val_get(v, "id")) ?
		    val_cstr(val_get(v, "id")) : file);
		c->prefix = xstrdup(prefix ? prefix :
		    val_cstr(val_get(v, "prefix")) ?
		    val_cstr(val_get(v, "prefix")) : c->id);
		c->title_ja = i18n_text(val_get(v, "title"), "ja");
		c->title_en = i18n_text(val_get(v, "title"), "en");
		groups = val_get(v, "groups");
		for (i = 0; groups && groups->kind == VAL_LIST &&
		    i < groups->n; i++) {
			g = groups->items[i];
			c->groups = xreallocarray(c->groups, c->ngroups + 1,
			    sizeof(*c->groups));
			c->groups[c->ngroups].id = xstrdup(
			    val_cstr(val_get(g, "id")) ?
			    val_cstr(val_get(g, "id")) : "");
			c->groups[c->ngroups].title_ja = i18n_text(val_get(g,
			    "title"), "ja");
			c->groups[c->ngroups].title_en = i18n_text(val_get(g,
			    "title"), "en");
			c->ngroups++;
		}
		list = val_get(v, "controls");
		if (list == NULL || list->kind != VAL_LIST) {
			rc = diag_err(b->d, display, v->line, v->col,
			    "a catalog needs a list 'controls'");
		}
		for (i = 0; list && list->kind == VAL_LIST && i < list->n;
		    i++) {
			g = list->items[i];
			id = val_cstr(val_get(g, "id"));
			if (id == NULL || *id == '\0') {
				rc = diag_err(b->d, display, g->line, g->col,
				    "control without an 'id'");
				continue;
			}
			add_control(b, m, idx, id,
			    i18n_text(val_get(g, "title"), "ja"),
			    i18n_text(val_get(g, "title"), "en"),
			    val_cstr(val_get(g, "group")), val_get(g, "id"),
			    display);
		}
	}
	if (c->title_ja == NULL)
		c->title_ja = xstrdup(c->id);
	if (c->title_en == NULL)
		c->title_en = xstrdup(c->title_ja);
	val_unref(v);
	return rc;
}

long
model_find_control(const struct model *m, const char *s)
{
	char *k, *colon, *lk;
	size_t idx;
	long r = -1;

	while (*s == ' ' || *s == '\t')
		s++;
	k = xstrdup(s);
	while (*k && (k[strlen(k) - 1] == ' ' || k[strlen(k) - 1] == '\t'))
		k[strlen(k) - 1] = '\0';
	colon = strchr(k, ':');
	if (colon && m->ncats > 0) {
		*colon = '\0';
		if (strcasecmp(k, m->cats[0].prefix) == 0) {
			lk = xstrdup(colon + 1);
		} else {
			*colon = ':';
			lk = xstrdup(k);
		}
	} else {
		lk = xstrdup(k);
	}
	/* "A.8.13" is the default catalog's "8.13" */
	if ((lk[0] == 'A' || lk[0] == 'a') && lk[1] == '.' &&
	    isdigit((unsigned char)lk[2]))
		memmove(lk, lk + 2, strlen(lk + 2) + 1);
	free(k);
	k = lower(lk);
	if (hm_get(&m->by_key, k, &idx))
		r = (long)idx;
	free(k);
	free(lk);
	return r;
}

/* ---------------------------------------------------------------------
 * Applicability and glossary
 */

static int
load_applicability(struct build *b, struct model *m)
{
	char *path = util_path_join(b->opts->src_dir, "data/applicability.yaml");
	const char *disp = "data/applicability.yaml";
	struct value *v = load_yaml(b, path, disp, 1), *e, *k, *a;
	const char *s;
	size_t i;
	long c;
	int rc = 0;

	free(path);
	if (v == NULL)
		return 0;
	if (v->kind != VAL_MAP) {
		rc = diag_err(b->d, disp, v->line, v->col, "applicability data "
		    "must map control ids to entries");
		goto out;
	}
	for (i = 0; i < v->n; i++) {
		k = v->keys[i];
		e = v->items[i];
		if ((c = model_find_control(m, k->str)) < 0) {
			rc = diag_err(b->d, disp, k->line, k->col, "unknown "
			    "control '%s'", k->str);
			continue;
		}
		if (e->kind != VAL_MAP) {
			rc = diag_err(b->d, disp, e->line, e->col, "entry for "
			    "'%s' must be a mapping", k->str);
			continue;
		}
		a = val_get(e, "applicable");
		if (a && a->kind != VAL_BOOL) {
			rc = diag_err(b->d, disp, a->line, a->col,
			    "'applicable' must be true or false");
		} else if (a) {
			m->ctls[c].applicable = a->b;
		}
		if ((s = val_cstr(val_get(e, "justification"))) != NULL) {
			free(m->ctls[c].justification);
			m->ctls[c].justification = xstrdup(s);
		}
		if ((s = val_cstr(val_get(e, "status"))) != NULL) {
			static const char *const st[] = {
				"implemented", "partial", "planned",
				"not-applicable", NULL
			};
			size_t j;

			for (j = 0; st[j] && strcmp(st[j], s) != 0; j++)
				;
			if (st[j] == NULL) {
				a = val_get(e, "status");
				rc = diag_err(b->d, disp, a->line, a->col,
				    "unknown status '%s' (implemented, "
				    "partial, planned or not-applicable)", s);
			} else {
				free(m->ctls[c].impl_status);
				m->ctls[c].impl_status = xstrdup(s);
			}
		}
	}
out:
	val_unref(v);
	return rc;
}

static int
load_glossary(struct build *b, struct model *m)
{
	char *path = util_path_join(b->opts->src_dir, "data/glossary.yaml");
	const char *disp = "data/glossary.yaml";
	struct value *v = load_yaml(b, path, disp, 1), *e, *out, *t;
	struct buf slug = BUF_INIT;
	size_t i;
	int rc = 0;

	free(path);
	m->glossary = val_list();
	if (v == NULL)
		return 0;
	if (v->kind == VAL_MAP && val_get(v, "terms"))
		e = val_get(v, "terms");
	else
		e = v;
	if (e->kind != VAL_LIST) {
		rc = diag_err(b->d, disp, e->line, e->col, "the glossary must "
		    "be a list of terms");
		goto out;
	}
	for (i = 0; i < e->n; i++) {
		t = e->items[i];
		if (t->kind != VAL_MAP || val_cstr(val_get(t, "term")) == NULL ||
		    val_cstr(val_get(t, "definition")) == NULL) {
			rc = diag_err(b->d, disp, t->line, t->col, "each "
			    "glossary entry needs 'term' and 'definition'");
			continue;
		}
		out = val_copy(t);
		buf_reset(&slug);
		buf_puts(&slug, "term-");
		md_slug(val_cstr(val_get(t, "term")),
		    strlen(val_cstr(val_get(t, "term"))), &slug);
		val_set(out, "anchor", val_str(slug.ptr));
		val_push(m->glossary, out);
	}
out:
	buf_release(&slug);
	val_unref(v);
	return rc;
}

/* ---------------------------------------------------------------------
 * Schema
 */

/* Whether `l` (a list of names, may be NULL) names `s` (may be NULL). */
static int
list_has(const struct value *l, const char *s)
{
	size_t i;

	for (i = 0; s && l && l->kind == VAL_LIST && i < l->n; i++)
		if (val_cstr(l->items[i]) != NULL &&
		    strcmp(val_cstr(l->items[i]), s) == 0)
			return 1;
	return 0;
}

/* A site's schema extends the shipped one: maps merge, lists (required
 * fields, enum values) gain the items they lack, other values replace. */
static void
merge_map(struct value *dst, const struct value *src)
{
	size_t i, j;
	struct value *d;

	for (i = 0; i < src->n; i++) {
		d = val_get(dst, src->keys[i]->str);
		if (d && d->kind == VAL_MAP && src->items[i]->kind == VAL_MAP)
			merge_map(d, src->items[i]);
		else if (d && d->kind == VAL_LIST &&
		    src->items[i]->kind == VAL_LIST) {
			for (j = 0; j < src->items[i]->n; j++)
				if (!list_has(d,
				    val_cstr(src->items[i]->items[j])))
					val_push(d, val_copy(
					    src->items[i]->items[j]));
		} else
			val_set(dst, src->keys[i]->str,
			    val_copy(src->items[i]));
	}
}

static int
load_schema(struct build *b, struct model *m)
{
	char *path = util_path_join(b->share_dir, "schema/document-types.yaml");
	struct value *base, *ext;

	base = load_yaml(b, path, path, 0);
	free(path);
	if (base == NULL || base->kind != VAL_MAP) {
		val_unref(base);
		return diag_err(b->d, NULL, 0, 0, "the shipped schema "
		    "'schema/document-types.yaml' is missing or broken");
	}
	path = util_path_join(b->opts->src_dir, "data/schema.yaml");
	ext = load_yaml(b, path, "data/schema.yaml", 1);
	free(path);
	if (ext && ext->kind == VAL_MAP)
		merge_map(base, ext);
	val_unref(ext);
	m->schema = base;
	return 0;
}

int
model_load(struct build *b)
{
	struct model *m = xcalloc(1, sizeof(*m));
	struct value *cats, *e;
	size_t i;
	int rc = 0;

	b->model = m;
	hm_init(&m->by_key);
	rc |= load_schema(b, m);
	cats = val_get(b->cfg.root, "catalogs");
	if (cats && cats->kind == VAL_LIST) {
		/* an explicit empty list means no catalog at all */
		for (i = 0; i < cats->n; i++) {
			e = cats->items[i];
			if (e->kind == VAL_MAP)
				rc |= load_catalog(b, m,
				    val_cstr(val_get(e, "file")),
				    val_cstr(val_get(e, "prefix")), e);
			else if (val_cstr(e))
				rc |= load_catalog(b, m, val_cstr(e), NULL, e);
		}
	} else {
		char *def = util_path_join(b->share_dir,
		    "catalogs/iso27001-2022.yaml");

		if (util_is_file(def))
			rc |= load_catalog(b, m, "catalogs/iso27001-2022.yaml",
			    NULL, NULL);
		free(def);
	}
	rc |= load_applicability(b, m);
	rc |= load_glossary(b, m);
	return rc ? -1 : 0;
}

void
model_free(struct model *m)
{
	size_t i, k;

	if (m == NULL)
		return;
	for (i = 0; i < m->ncats; i++) {
		free(m->cats[i].id);
		free(m->cats[i].prefix);
		free(m->cats[i].title_ja);
		free(m->cats[i].title_en);
		free(m->cats[i].src);
		for (k = 0; k < m->cats[i].ngroups; k++) {
			free(m->cats[i].groups[k].id);
			free(m->cats[i].groups[k].title_ja);
			free(m->cats[i].groups[k].title_en);
		}
		free(m->cats[i].groups);
	}
	free(m->cats);
	for (i = 0; i < m->nctls; i++) {
		free(m->ctls[i].key);
		free(m->ctls[i].id);
		free(m->ctls[i].title_ja);
		free(m->ctls[i].title_en);
		free(m->ctls[i].group);
		free(m->ctls[i].out);
		free(m->ctls[i].justification);
		free(m->ctls[i].impl_status);
	}
	free(m->ctls);
	hm_release(&m->by_key);
	val_unref(m->schema);
	val_unref(m->glossary);
	free(m->refs);
	free(m->in_page_off);
	free(m->in_page);
	free(m->in_ctl_off);
	free(m->in_ctl);
	free(m->out_off);
	free(m);
}

/* ---------------------------------------------------------------------
 * References
 */

void
model_add_ref(struct model *m, size_t from, enum model_target kind,
    size_t to, const char *rel)
{
	if (m->nrefs == m->refcap) {
		m->refcap = m->refcap ? m->refcap * 2 : 256;
		m->refs = xreallocarray(m->refs, m->refcap, sizeof(*m->refs));
	}
	m->refs[m->nrefs].from = from;
	m->refs[m->nrefs].kind = kind;
	m->refs[m->nrefs].to = to;
	m->refs[m->nrefs].rel = rel;
	m->nrefs++;
}

static int
refcmp(const void *pa, const void *pb)
{
	const struct ref *a = pa, *b = pb;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	return strcmp(a->rel, b->rel);
}

/* Builds a CSR index of refs of `kind` by target. */
static void
index_in(struct model *m, enum model_target kind, size_t ntargets,
    size_t **offp, size_t **idxp)
{
	size_t *off = xcalloc(ntargets + 1, sizeof(*off));
	size_t *idx, *fill, i;

	for (i = 0; i < m->nrefs; i++)
		if (m->refs[i].kind == kind)
			off[m->refs[i].to + 1]++;
	for (i = 0; i < ntargets; i++)
		off[i + 1] += off[i];
	idx = xcalloc(off[ntargets] + 1, sizeof(*idx));
	fill = xcalloc(ntargets + 1, sizeof(*fill));
	for (i = 0; i < m->nrefs; i++)
		if (m->refs[i].kind == kind) {
			size_t t = m->refs[i].to;

			idx[off[t] + fill[t]++] = i;
		}
	free(fill);
	*offp = off;
	*idxp = idx;
}

void
model_finish_refs(struct model *m, size_t npages)
{
	size_t i, n = 0;

	if (m->nrefs > 1)
		qsort(m->refs, m->nrefs, sizeof(*m->refs), refcmp);
	for (i = 0; i < m->nrefs; i++) {
		/* the same target through two fields is kept once per field;
		 * exact duplicates are dropped */
		if (n > 0 && refcmp(&m->refs[n - 1], &m->refs[i]) == 0)
			continue;
		m->refs[n++] = m->refs[i];
	}
	m->nrefs = n;
	free(m->in_page_off);
	free(m->in_page);
	free(m->in_ctl_off);
	free(m->in_ctl);
	free(m->out_off);
	index_in(m, MODEL_PAGE, npages, &m->in_page_off, &m->in_page);
	index_in(m, MODEL_CONTROL, m->nctls, &m->in_ctl_off, &m->in_ctl);
	m->out_off = xcalloc(npages + 1, sizeof(*m->out_off));
	for (i = 0; i < m->nrefs; i++)
		m->out_off[m->refs[i].from + 1]++;
	for (i = 0; i < npages; i++)
		m->out_off[i + 1] += m->out_off[i];
}

/* ---------------------------------------------------------------------
 * Schema validation
 */

struct vctx {
	struct build	*b;
	struct page	*p;
	size_t		 pi;
	const struct value *req;	/* the page type's required fields */
	int		 rc;
};

/* "an" before a type name that starts with a vowel ("an incident"), else
 * "a". */
static const char *
article(const char *type)
{
	return type[0] != '\0' && strchr("aeiouAEIOU", type[0]) != NULL ?
	    "an" : "a";
}

static const char *
field_type(const struct value *def)
{
	const char *t = val_cstr(val_get(def, "type"));

	return t ? t : "any";
}

/* Bytes of `s` before its first ',' or U+3001 '、' (or its end).  (Not
 * strcspn: that would stop at any single byte of the UTF-8 sequence.) */
static size_t
item_len(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] == ',' || strncmp(s + i, "\xe3\x80\x81", 3) == 0)
			break;
	return i;
}

/* Splits a comma-separated string into items with their columns. */
static void
each_item(struct vctx *c, const struct value *v, const char *field,
    void (*fn)(struct vctx *, const char *, int, int, const char *))
{
	size_t i, start, end, k;
	const char *s;
	char *item;
	int col;

	if (v->kind == VAL_LIST) {
		for (i = 0; i < v->n; i++) {
			s = val_cstr(v->items[i]);
			if (s == NULL || v->items[i]->kind == VAL_BOOL) {
				c->rc = diag_err(c->b->d, c->p->f->src,
				    v->items[i]->line, v->items[i]->col,
				    "each entry of '%s' must be a string",
				    field);
				continue;
			}
			fn(c, s, v->items[i]->line, v->items[i]->col, field);
		}
		return;
	}
	s = val_cstr(v);
	if (s == NULL || v->kind == VAL_BOOL) {
		c->rc = diag_err(c->b->d, c->p->f->src, v->line, v->col,
		    "'%s' must be a list or a comma-separated string", field);
		return;
	}
	for (start = 0; s[start];) {
		end = start + item_len(s + start);
		k = start;
		while (s[k] == ' ')
			k++;
		item = xstrndup(s + k, end - k);
		while (*item && item[strlen(item) - 1] == ' ')
			item[strlen(item) - 1] = '\0';
		/* column in code points from the value's start */
		col = v->col + (v->quoted ? 1 : 0);
		{
			size_t q;

			for (q = 0; q < k; q++)
				if (((unsigned char)s[q] & 0xc0) != 0x80)
					col++;
		}
		if (*item)
			fn(c, item, v->line, col, field);
		free(item);
		if (s[end] == '\0')
			break;
		start = end + (s[end] == ',' ? 1 : 3);
	}
}

static void
check_control(struct vctx *c, const char *s, int line, int col,
    const char *field)
{
	long k = model_find_control(c->b->model, s);

	if (k < 0) {
		c->rc = diag_err(c->b->d, c->p->f->src, line, col, "unknown "
		    "control '%s' in '%s'", s, field);
		return;
	}
	model_add_ref(c->b->model, c->pi, MODEL_CONTROL, (size_t)k, field);
}

static void
check_docref(struct vctx *c, const char *s, int line, int col,
    const char *field)
{
	size_t k;

	if (!hm_get(&c->b->by_id, s, &k)) {
		c->rc = diag_err(c->b->d, c->p->f->src, line, col, "unknown "
		    "document id '%s' in '%s'", s, field);
		return;
	}
	if (k == c->pi) {
		c->rc = diag_err(c->b->d, c->p->f->src, line, col, "'%s' "
		    "refers to the document itself", field);
		return;
	}
	if (c->b->pages[k].excluded) {
		if (c->b->cfg.excluded_links_text)
			diag_warn(c->b->d, c->p->f->src, line, col, "'%s' in "
			    "'%s' is left out of this build; reference "
			    "dropped", s, field);
		else
			c->rc = diag_err(c->b->d, c->p->f->src, line, col,
			    "'%s' in '%s' is left out of this build", s,
			    field);
		return;
	}
	model_add_ref(c->b->model, c->pi, MODEL_PAGE, k, field);
}

static void
check_target(struct vctx *c, const char *s, int line, int col,
    const char *field)
{
	size_t k;
	long ci;

	if (hm_get(&c->b->by_id, s, &k)) {
		check_docref(c, s, line, col, field);
		return;
	}
	if ((ci = model_find_control(c->b->model, s)) >= 0) {
		model_add_ref(c->b->model, c->pi, MODEL_CONTROL, (size_t)ci,
		    field);
		return;
	}
	c->rc = diag_err(c->b->d, c->p->f->src, line, col, "'%s' in '%s' is "
	    "neither a document id nor a control", s, field);
}

static void
check_plain(struct vctx *c, const char *s, int line, int col,
    const char *field)
{
	(void)c;
	(void)s;
	(void)line;
	(void)col;
	(void)field;
}

static int
is_period(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || strchr("dwmy", s[n - 1]) == NULL)
		return 0;
	for (n--; n > 0; n--)
		if (!isdigit((unsigned char)s[n - 1]))
			return 0;
	return atoi(s) > 0;
}

static void check_value(struct vctx *, const struct value *,
    const struct value *, const char *);

/* Names of the fields of `fields` (maps), for "did you mean". */
static const char **
field_names(const struct value *a, const struct value *b2)
{
	const char **v;
	size_t n = 0, i;

	v = xcalloc((a ? a->n : 0) + (b2 ? b2->n : 0) + 1, sizeof(*v));
	for (i = 0; a && i < a->n; i++)
		v[n++] = a->keys[i]->str;
	for (i = 0; b2 && i < b2->n; i++)
		v[n++] = b2->keys[i]->str;
	return v;
}

/* Validates a map against field definitions (`fields` and `more`). */
static void
check_map(struct vctx *c, const struct value *map, const struct value *fields,
    const struct value *more, const char *what)
{
	const struct value *def;
	const char **names, *hint;
	size_t i;

	for (i = 0; i < map->n; i++) {
		const char *k = map->keys[i]->str;

		def = val_get(more, k);
		if (def == NULL)
			def = val_get(fields, k);
		if (def == NULL) {
			names = field_names(fields, more);
			hint = site_suggest(k, names);
			diag_emit(c->b->d, DIAG_WARNING, "unknown-field",
			    c->p->f->src, map->keys[i]->line,
			    map->keys[i]->col, "unknown field '%s' for %s%s%s%s",
			    k, what, hint ? "; did you mean '" : "",
			    hint ? hint : "", hint ? "'?" : "");
			free(names);
			continue;
		}
		/* a blank required field has its own error (model_check);
		 * "unknown value '' for 'status'" would say it twice */
		if (map == c->p->src.meta && val_blank(map->items[i]) &&
		    list_has(c->req, k))
			continue;
		check_value(c, map->items[i], def, k);
	}
}

static void
check_value(struct vctx *c, const struct value *v, const struct value *def,
    const char *name)
{
	const char *t = field_type(def), *s;
	const struct value *vals, *of;
	const char *src = c->p->f->src;
	struct diag *d = c->b->d;
	size_t i;
	int y, mo, dd;

	if (v->kind == VAL_NULL)
		return;
	if (strcmp(t, "string") == 0 || strcmp(t, "text") == 0) {
		if (v->kind != VAL_STR)
			c->rc = diag_err(d, src, v->line, v->col, "'%s' must "
			    "be a string, not a %s", name,
			    val_kind_name(v->kind));
	} else if (strcmp(t, "scalar") == 0) {
		if (v->kind == VAL_LIST || v->kind == VAL_MAP)
			c->rc = diag_err(d, src, v->line, v->col, "'%s' must "
			    "be a single value, not a %s", name,
			    val_kind_name(v->kind));
	} else if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0) {
		if (v->kind != VAL_NUM || (t[0] == 'i' &&
		    v->num != (double)(long long)v->num))
			c->rc = diag_err(d, src, v->line, v->col, "'%s' must "
			    "be %s", name, t[0] == 'i' ? "a whole number" :
			    "a number");
	} else if (strcmp(t, "bool") == 0) {
		if (v->kind != VAL_BOOL)
			c->rc = diag_err(d, src, v->line, v->col, "'%s' must "
			    "be true or false", name);
	} else if (strcmp(t, "date") == 0) {
		if (v->kind == VAL_DATE)
			return;
		if (v->kind == VAL_STR && val_parse_date(v->str, v->len, &y,
		    &mo, &dd) == 0)
			return;
		c->rc = diag_err(d, src, v->line, v->col, "bad date '%s' in "
		    "'%s' (use YYYY-MM-DD)", val_cstr(v) ? val_cstr(v) :
		    val_kind_name(v->kind), name);
	} else if (strcmp(t, "period") == 0) {
		s = val_cstr(v);
		if (s == NULL || !is_period(s))
			c->rc = diag_err(d, src, v->line, v->col, "bad period "
			    "'%s' in '%s' (use a number and d, w, m or y, "
			    "e.g. 12m)", s ? s : val_kind_name(v->kind), name);
	} else if (strcmp(t, "enum") == 0) {
		vals = val_get(def, "values");
		s = val_cstr(v);
		for (i = 0; s && vals && i < vals->n; i++)
			if (strcmp(val_cstr(vals->items[i]), s) == 0)
				return;
		{
			struct buf list = BUF_INIT;
			const char **names = xcalloc(vals ? vals->n + 1 : 1,
			    sizeof(*names));
			const char *hint;

			for (i = 0; vals && i < vals->n; i++) {
				names[i] = val_cstr(vals->items[i]);
				buf_printf(&list, "%s%s", i ? (i + 1 ==
				    vals->n ? " or " : ", ") : "", names[i]);
			}
			hint = s ? site_suggest(s, names) : NULL;
			c->rc = diag_err(d, src, v->line, v->col, "unknown "
			    "value '%s' for '%s' (%s)%s%s%s", s ? s :
			    val_kind_name(v->kind), name, list.ptr,
			    hint ? "; did you mean '" : "", hint ? hint : "",
			    hint ? "'?" : "");
			buf_release(&list);
			free(names);
		}
	} else if (strcmp(t, "list") == 0) {
		of = val_get(def, "of");
		if (v->kind != VAL_LIST) {
			if (of && of->kind == VAL_STR &&
			    strcmp(of->str, "string") == 0 &&
			    v->kind == VAL_STR)
				return;	/* "a, b" is accepted for tags */
			c->rc = diag_err(d, src, v->line, v->col, "'%s' must "
			    "be a list, not a %s", name,
			    val_kind_name(v->kind));
			return;
		}
		for (i = 0; of && i < v->n; i++) {
			if (of->kind == VAL_MAP && val_get(of, "type") == NULL) {
				if (v->items[i]->kind != VAL_MAP) {
					c->rc = diag_err(d, src,
					    v->items[i]->line,
					    v->items[i]->col, "each entry of "
					    "'%s' must be a mapping", name);
					continue;
				}
				{
					char *what = xasprintf("an entry of "
					    "'%s'", name);

					check_map(c, v->items[i], of, NULL,
					    what);
					free(what);
				}
			} else if (of->kind == VAL_STR) {
				struct value *tmp = val_map();

				val_set(tmp, "type", val_str(of->str));
				check_value(c, v->items[i], tmp, name);
				val_unref(tmp);
			} else {
				check_value(c, v->items[i], of, name);
			}
		}
	} else if (strcmp(t, "map") == 0) {
		if (v->kind != VAL_MAP) {
			c->rc = diag_err(d, src, v->line, v->col, "'%s' must "
			    "be a mapping", name);
			return;
		}
		check_map(c, v, val_get(def, "fields"), NULL, name);
	} else if (strcmp(t, "controls") == 0) {
		each_item(c, v, name, check_control);
	} else if (strcmp(t, "ref") == 0 || strcmp(t, "refs") == 0) {
		each_item(c, v, name, check_docref);
	} else if (strcmp(t, "targets") == 0) {
		each_item(c, v, name, check_target);
	} else if (strcmp(t, "id") == 0 || strcmp(t, "any") == 0) {
		each_item(c, v, name, check_plain);
	}
}

int
model_check(struct build *b)
{
	struct model *m = b->model;
	const struct value *types, *common, *tdef, *req;
	struct vctx c;
	size_t i, k;
	char *what;

	common = val_get(m->schema, "fields");
	types = val_get(m->schema, "types");
	memset(&c, 0, sizeof(c));
	c.b = b;
	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];

		if (p->excluded)
			continue;
		c.p = p;
		c.pi = i;
		tdef = val_get(types, p->type);
		req = val_get(tdef, "required");
		c.req = req;
		what = xasprintf("%s %s", article(p->type), p->type);
		check_map(&c, p->src.meta, common, val_get(tdef, "fields"),
		    what);
		/* front matter that could not be parsed was reported; every
		 * field of it would be "missing" only because of that */
		for (k = 0; !p->src.fm_failed && req && req->kind == VAL_LIST &&
		    k < req->n; k++) {
			const char *f = val_cstr(req->items[k]);
			const struct value *v;

			if (f == NULL)
				continue;
			v = val_get(p->src.meta, f);
			if (v == NULL)
				c.rc = diag_err(b->d, p->f->src,
				    p->src.has_fm ? p->src.fm_line : 1, 1,
				    "missing required field '%s' for %s", f,
				    what);
			else if (val_blank(v))
				c.rc = diag_err(b->d, p->f->src, v->line,
				    v->col, "empty required field '%s' for %s",
				    f, what);
		}
		free(what);
	}
	return c.rc;
}
