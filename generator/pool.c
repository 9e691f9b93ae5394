/*
 * pool: a minimal parallel for.
 */
#include <pthread.h>
#include <stdlib.h>

#include "pool.h"
#include "util.h"

struct pool {
	pool_fn		*fn;
	void		*arg;
	size_t		 n;
	size_t		 next;	/* atomic */
};

struct worker {
	struct pool	*p;
	int		 id;
};

static void *
work(void *a)
{
	struct worker *w = a;
	size_t i;

	for (;;) {
		i = __atomic_fetch_add(&w->p->next, 1, __ATOMIC_RELAXED);
		if (i >= w->p->n)
			break;
		w->p->fn(w->p->arg, i, w->id);
	}
	return NULL;
}

void
pool_run(int jobs, size_t n, pool_fn *fn, void *arg)
{
	struct pool p = { fn, arg, n, 0 };
	struct worker *ws;
	pthread_t *th;
	int i;

	if (jobs < 1)
		jobs = 1;
	if ((size_t)jobs > n)
		jobs = n > 0 ? (int)n : 1;
	ws = xcalloc((size_t)jobs, sizeof(*ws));
	th = xcalloc((size_t)jobs, sizeof(*th));
	for (i = 0; i < jobs; i++) {
		ws[i].p = &p;
		ws[i].id = i;
	}
	for (i = 1; i < jobs; i++)
		if (pthread_create(&th[i], NULL, work, &ws[i]) != 0)
			fatal("cannot start a worker thread");
	work(&ws[0]);
	for (i = 1; i < jobs; i++)
		pthread_join(th[i], NULL);
	free(ws);
	free(th);
}
