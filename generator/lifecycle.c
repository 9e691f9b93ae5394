/*
 * lifecycle: review dates, updates after incident reviews, actions.
 */
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "diag.h"
#include "lifecycle.h"
#include "model.h"
#include "util.h"
#include "value.h"

int
life_date(const struct value *v)
{
	int y, m, d;

	if (v == NULL)
		return 0;
	if (v->kind == VAL_DATE)
		return v->y * 10000 + v->m * 100 + v->d;
	if (v->kind == VAL_STR && val_parse_date(v->str, v->len, &y, &m,
	    &d) == 0)
		return y * 10000 + m * 100 + d;
	return 0;
}

static int
days_in(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

int
life_add_period(int ymd, const char *period)
{
	int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
	char *end;
	long n;

	if (period == NULL || ymd == 0)
		return 0;
	n = strtol(period, &end, 10);
	if (n <= 0 || n > 1200 || end[0] == '\0' || end[1] != '\0')
		return 0;
	switch (*end) {
	case 'y':
		y += (int)n;
		break;
	case 'm':
		m += (int)n;
		y += (m - 1) / 12;
		m = (m - 1) % 12 + 1;
		break;
	case 'w':
	case 'd':
		for (n *= *end == 'w' ? 7 : 1; n > 0; n--) {
			if (++d > days_in(y, m)) {
				d = 1;
				if (++m > 12) {
					m = 1;
					y++;
				}
			}
		}
		return y * 10000 + m * 100 + d;
	default:
		return 0;
	}
	if (d > days_in(y, m))
		d = days_in(y, m);
	return y * 10000 + m * 100 + d;
}

static void
fmt_date(int ymd, char out[32])
{
	snprintf(out, 32, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100,
	    ymd % 100);
}

/* For every control, the lessons whose 'affects' names it (CSR: off has
 * nctls + 1 entries); made once per build. */
struct ctl_lessons {
	size_t	*off;
	size_t	*v;
};

static void
ctl_lessons_make(struct build *b, struct ctl_lessons *cl)
{
	struct model *m = b->model;
	size_t ci, i, n = 0, cap = 0;
	size_t *seen = xcalloc(b->npages + 1, sizeof(*seen));

	cl->off = xcalloc(m->nctls + 1, sizeof(*cl->off));
	cl->v = NULL;
	for (ci = 0; ci < m->nctls; ci++) {
		for (i = m->in_ctl_off[ci]; i < m->in_ctl_off[ci + 1]; i++) {
			const struct ref *r = &m->refs[m->in_ctl[i]];

			if (seen[r->from] == ci + 1 ||
			    strcmp(r->rel, "affects") != 0 ||
			    strcmp(b->pages[r->from].type, "lesson") != 0)
				continue;
			seen[r->from] = ci + 1;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				cl->v = xreallocarray(cl->v, cap,
				    sizeof(*cl->v));
			}
			cl->v[n++] = r->from;
		}
		cl->off[ci + 1] = n;
	}
	free(seen);
}

static int
idx_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Lessons whose 'affects' names page `pi` or one of the controls it lists
 * in 'controls', in page order (through the reference indexes, so the cost
 * is the number of references, not pages times lessons).  seen[] has a
 * slot per page; a lesson is taken once per call (seen[l] == pi + 1). */
static size_t
lessons_affecting(struct build *b, const struct ctl_lessons *cl, size_t pi,
    size_t *seen, size_t **out)
{
	struct model *m = b->model;
	size_t i, k, n = 0, cap = 0;

#define TAKE(l) do {							\
	if (seen[(l)] != pi + 1) {					\
		seen[(l)] = pi + 1;					\
		if (n == cap) {						\
			cap = cap ? cap * 2 : 8;			\
			*out = xreallocarray(*out, cap, sizeof(**out));	\
		}							\
		(*out)[n++] = (l);					\
	}								\
} while (0)
	*out = NULL;
	for (i = m->in_page_off[pi]; i < m->in_page_off[pi + 1]; i++) {
		const struct ref *r = &m->refs[m->in_page[i]];

		if (strcmp(r->rel, "affects") == 0 &&
		    strcmp(b->pages[r->from].type, "lesson") == 0)
			TAKE(r->from);
	}
	for (k = m->out_off[pi]; k < m->out_off[pi + 1]; k++) {
		const struct ref *c = &m->refs[k];

		if (c->kind != MODEL_CONTROL || strcmp(c->rel, "controls") != 0)
			continue;
		for (i = cl->off[c->to]; i < cl->off[c->to + 1]; i++)
			TAKE(cl->v[i]);
	}
#undef TAKE
	/* page order, so warnings and banners are stable */
	if (n > 1)
		qsort(*out, n, sizeof(**out), idx_cmp);
	return n;
}

#define STALE_NAMED	3	/* lessons named in one needs-update warning */

/* One warning per page that lessons made stale: the lesson and its date
 * when there is one, else how many, the first STALE_NAMED and how many
 * more (a lesson that touches many controls would otherwise make a
 * warning for every page of each: millions on a large site). */
static void
needs_update(struct build *b, const struct page *p, const struct value *at,
    int base, const int *ldate)
{
	struct buf m = BUF_INIT;
	char d1[32], d2[32];
	size_t k;

	fmt_date(base, d2);
	for (k = 0; k < p->nstale && k < STALE_NAMED; k++) {
		const struct page *l = &b->pages[p->stale_by[k]];

		fmt_date(ldate[p->stale_by[k]], d1);
		buf_printf(&m, "%s'%s' (%s)", k ? ", " : "", l->id ? l->id :
		    l->f->src, d1);
	}
	if (p->nstale == 1)
		diag_emit(b->d, DIAG_WARNING, "needs-update", p->f->src,
		    at->line, at->col, "needs update: lesson %s affects it "
		    "after its last review (%s)", m.ptr, d2);
	else if (p->nstale <= STALE_NAMED)
		diag_emit(b->d, DIAG_WARNING, "needs-update", p->f->src,
		    at->line, at->col, "needs update: %zu lessons affect it "
		    "after its last review (%s): %s", p->nstale, d2, m.ptr);
	else
		diag_emit(b->d, DIAG_WARNING, "needs-update", p->f->src,
		    at->line, at->col, "needs update: %zu lessons affect it "
		    "after its last review (%s): %s and %zu more", p->nstale,
		    d2, m.ptr, p->nstale - STALE_NAMED);
	buf_release(&m);
}

void
life_compute(struct build *b)
{
	int today = b->ty * 10000 + b->tm * 100 + b->td;
	size_t i, k;
	char d1[32];
	struct ctl_lessons cl;
	size_t *seen = xcalloc(b->npages + 1, sizeof(*seen));
	/* every lesson's date, read once: the (document, lesson) pairs can
	 * number millions on a large site */
	int *ldate = xcalloc(b->npages + 1, sizeof(*ldate));

	for (i = 0; i < b->npages; i++)
		if (strcmp(b->pages[i].type, "lesson") == 0)
			ldate[i] = life_date(val_get(b->pages[i].src.meta,
			    "date"));
	ctl_lessons_make(b, &cl);

	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];
		const struct value *meta = p->src.meta, *rb, *rv, *ev;
		int base;

		if (p->excluded || (p->status && strcmp(p->status, "retired") ==
		    0))
			continue;
		rb = val_get(meta, "review_by");
		rv = val_get(meta, "reviewed");
		ev = val_get(meta, "effective");
		base = life_date(rv) ? life_date(rv) : life_date(ev);
		if (life_date(rb))
			p->next_review = life_date(rb);
		else if (base)
			p->next_review = life_add_period(base,
			    val_cstr(val_get(meta, "review_every")));
		if (p->next_review && p->next_review < today) {
			const struct value *at = rb ? rb : rv ? rv : ev;

			p->overdue = 1;
			fmt_date(p->next_review, d1);
			diag_emit(b->d, DIAG_WARNING, "review-overdue",
			    p->f->src, at->line, at->col, "review overdue "
			    "since %s", d1);
		}
		if (base == 0 || strcmp(p->type, "lesson") == 0 ||
		    strcmp(p->type, "incident") == 0 ||
		    strcmp(p->type, "report") == 0)
			continue;
		{
		size_t *ls, nls, q;

		nls = lessons_affecting(b, &cl, i, seen, &ls);
		for (q = 0; q < nls; q++) {
			struct page *l = &b->pages[ls[q]];

			if (l->excluded || ldate[ls[q]] <= base)
				continue;
			if ((p->nstale & (p->nstale - 1)) == 0)	/* 0, 1, 2, 4 ... */
				p->stale_by = xreallocarray(p->stale_by,
				    p->nstale ? p->nstale * 2 : 1,
				    sizeof(*p->stale_by));
			p->stale_by[p->nstale++] = ls[q];
		}
		if (p->nstale > 0)
			needs_update(b, p, rv ? rv : ev, base, ldate);
		free(ls);
		}
	}
	/* actions of lessons, incidents and reports */
	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];
		const struct value *acts = val_get(p->src.meta, "actions");

		if (p->excluded || acts == NULL || acts->kind != VAL_LIST)
			continue;
		for (k = 0; k < acts->n; k++) {
			const struct value *a = acts->items[k];
			const char *st = val_cstr(val_get(a, "status"));
			struct action *ac;

			if (a->kind != VAL_MAP)
				continue;
			b->actions = xreallocarray(b->actions, b->nactions + 1,
			    sizeof(*b->actions));
			ac = &b->actions[b->nactions++];
			ac->page = i;
			ac->v = a;
			ac->due = life_date(val_get(a, "due"));
			ac->open = st == NULL || strcmp(st, "done") != 0;
			ac->overdue = ac->open && ac->due && ac->due < today;
			if (ac->overdue) {
				fmt_date(ac->due, d1);
				diag_emit(b->d, DIAG_WARNING, "action-overdue",
				    p->f->src, a->line, a->col, "action "
				    "overdue since %s: %s (owner: %s)", d1,
				    val_cstr(val_get(a, "what")) ?
				    val_cstr(val_get(a, "what")) : "?",
				    val_cstr(val_get(a, "owner")) ?
				    val_cstr(val_get(a, "owner")) : "?");
			}
		}
	}
	free(cl.off);
	free(cl.v);
	free(seen);
	free(ldate);
}
