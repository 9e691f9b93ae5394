/*
 * pool: run a function over n items with a fixed number of threads.
 *
 * Items are handed out in increasing order through an atomic counter; each
 * call gets the item index and the worker number (0..jobs-1), so a caller
 * keeps per-worker state (a Lua state, scratch buffers) in an array.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

typedef void pool_fn(void *arg, size_t item, int worker);

/* Runs fn for every item in 0..n-1 on `jobs` threads (1: the caller). */
void	pool_run(int jobs, size_t n, pool_fn *fn, void *arg);

#endif
