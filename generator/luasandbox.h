/*
 * luasandbox: one sandboxed Lua 5.4 state per filter file.
 *
 * Only base, string, table, math, utf8 and coroutine are opened, plus a safe
 * `os` (date, time, clock, difftime).  No io, package, debug, dofile,
 * loadfile or string.dump; `load` is text-only and runs in the sandbox;
 * `collectgarbage` only answers "count"; `print` goes to stderr prefixed by
 * the filter name; `require` finds only Lua files under <site>/filters/ (and
 * the directory of the filter file).  Every protected call gets an
 * instruction budget and a wall-clock limit; the state's memory is capped by
 * its allocator (shrinking never fails).  The pandoc prelude is loaded into
 * every state (global `pandoc`, `spairs`, registry table `_TEBIKI`).
 */
#ifndef LUASANDBOX_H
#define LUASANDBOX_H

#include <stddef.h>
#include <time.h>

#include <lua.h>

struct diag;

#define SBX_POOL_CLASSES	16	/* blocks of 16, 32, ... 256 bytes */

struct sbx {
	lua_State	*L;
	char		*display;	/* "filters/x.lua": chunk name, messages */
	char		*path;		/* the real path of the filter file */
	char		*site_dir;	/* may be NULL */
	size_t		 mem_used;
	size_t		 mem_cap;
	long		 budget;	/* instructions per protected call */
	long		 left;
	double		 wall;		/* seconds per protected call */
	struct timespec	 start;
	int		 ticks;
	int		 chunk_ref;	/* the compiled filter file */
	int		 tebiki_ref;	/* the _TEBIKI table */
	size_t		 out_bytes;	/* bytes added by this filter on this page */
	/* small-block pool of the allocator (see lalloc in luasandbox.c):
	   free lists per 16-byte size class, carved from chunks that live
	   until sbx_free */
	void		*pool_free[SBX_POOL_CLASSES];
	void		*pool_chunks;
	char		*pool_cur;
	size_t		 pool_left;
};

#define SBX_DEFAULT_BUDGET	100000000L
#define SBX_DEFAULT_MEM		((size_t)256 << 20)

/* Creates a state for the filter file `path` (shown as `display`) and
 * compiles it (not run yet).  NULL after reporting to `d`.  Strings are
 * copied; free with sbx_free. */
struct sbx	*sbx_new(const char *path, const char *display,
		    const char *site_dir, long budget, size_t mem_cap,
		    struct diag *d);
void		 sbx_free(struct sbx *);
/* lua_pcall with the budget re-armed and a message handler.  On error the
 * message string is left on the stack and the status returned. */
int		 sbx_pcall(struct sbx *, int nargs, int nresults);
/* Pushes a new environment table whose __index is the global table; with
 * `current` it becomes what `load` uses by default. */
void		 sbx_push_env(struct sbx *, int current);
/* Runs the compiled chunk with the environment at index `env`; pushes its
 * first result.  Returns the lua status (error message pushed instead). */
int		 sbx_run_chunk(struct sbx *, int env);
/* Reports the Lua error message at the top of the stack as a diagnostic
 * ("filters/x.lua:12: msg" -> file, line), adding " (while <what>)" when
 * `what` is not NULL (e.g. "filtering content/a.md"), and pops it.
 * Returns -1. */
int		 sbx_report(struct sbx *, struct diag *, const char *what);

#endif
