/*
 * Unit tests for the instruction budget of luasandbox.h: a call starts
 * without Lua's count hook (which slows every instruction), a call that
 * runs for more than a few milliseconds of CPU gets it, a call that never
 * ends is stopped, and after a call no hook is left set.  The same on a
 * thread where the hook is set from the start (TEBIKI_LUA_HOOK_ALWAYS,
 * what the sandbox falls back to where the CPU-time timer is missing).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "diag.h"
#include "luasandbox.h"
#include "util.h"

#include "harness.h"

static double
thread_cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The hook mask right now. */
static int
mask_now(lua_State *L)
{
	lua_pushinteger(L, lua_gethookmask(L));
	return 1;
}

/* Spins for 30 ms of this thread's CPU time, then gives the mask. */
static int
mask_after_spin(lua_State *L)
{
	double t0 = thread_cpu_ms();
	volatile unsigned long x = 0;

	while (thread_cpu_ms() - t0 < 30)
		x++;
	lua_pushinteger(L, lua_gethookmask(L));
	return 1;
}

/* Calls fn in the sandbox; its integer result, or -1. */
static long
call_c(struct sbx *s, lua_CFunction fn)
{
	long r = -1;

	lua_pushcfunction(s->L, fn);
	if (sbx_pcall(s, 0, 1) == LUA_OK && lua_isinteger(s->L, -1))
		r = (long)lua_tointeger(s->L, -1);
	lua_settop(s->L, 0);
	return r;
}

/* Runs Lua text in the sandbox: 0, or -1 with the message in msg. */
static int
run_lua(struct sbx *s, const char *code, char *msg, size_t cap)
{
	int rc = -1;

	*msg = '\0';
	if (luaL_loadstring(s->L, code) != LUA_OK) {
		snprintf(msg, cap, "%s", lua_tostring(s->L, -1));
	} else if (sbx_pcall(s, 0, 0) != LUA_OK) {
		snprintf(msg, cap, "%s", lua_tostring(s->L, -1));
	} else {
		rc = 0;
	}
	lua_settop(s->L, 0);
	return rc;
}

struct mode {
	const char	*path;
	int		 always;	/* the hook from the start */
	int		 bad;
};

static void *
check_mode(void *arg)
{
	struct mode *m = arg;
	struct diag d;
	struct sbx *s;
	char msg[256];
	int start;

	diag_init(&d);
	s = sbx_new(m->path, "filters/t.lua", NULL, 20000000L, 0, &d);
	OK(s != NULL, "sandbox made");
	if (s == NULL) {
		m->bad = 1;
		diag_release(&d);
		return NULL;
	}
	start = (int)call_c(s, mask_now);
	INT_EQ(start, m->always ? LUA_MASKCOUNT : 0, m->always ?
	    "always: the count hook is set as the call starts" :
	    "late: no hook as the call starts");
	INT_EQ(call_c(s, mask_after_spin), LUA_MASKCOUNT, "after 30 ms of "
	    "CPU in the call the count hook is set");
	INT_EQ(lua_gethookmask(s->L), 0, "no hook left after the call");
	/* a call that never ends is stopped by the budget */
	OK(run_lua(s, "while true do end", msg, sizeof(msg)) == -1 &&
	    strstr(msg, "instruction budget exhausted") != NULL,
	    "a loop that never ends is stopped: '%s'", msg);
	INT_EQ(lua_gethookmask(s->L), 0, "no hook left after the error");
	/* and the next call starts as the first did */
	INT_EQ(call_c(s, mask_now), start, "the next call starts the same");
	/* a short call with a small budget: runs */
	OK(run_lua(s, "local x = 0 for i = 1, 1000 do x = x + i end",
	    msg, sizeof(msg)) == 0, "a short loop runs: '%s'", msg);
	sbx_free(s);
	diag_release(&d);
	return NULL;
}

int
main(void)
{
	char tmpl[] = "/tmp/test_luasandbox.XXXXXX", *dir = mkdtemp(tmpl);
	struct mode late, always;
	pthread_t t;
	char *path;

	OK(dir != NULL, "temporary directory");
	if (dir == NULL)
		return DONE();
	path = util_path_join(dir, "t.lua");
	util_write_file(path, "return {}\n", 10);
	memset(&late, 0, sizeof(late));
	late.path = path;
	unsetenv("TEBIKI_LUA_HOOK_ALWAYS");
	check_mode(&late);
	/* the fallback, on a thread of its own (the choice is made once per
	 * thread) */
	memset(&always, 0, sizeof(always));
	always.path = path;
	always.always = 1;
	setenv("TEBIKI_LUA_HOOK_ALWAYS", "1", 1);
	if (pthread_create(&t, NULL, check_mode, &always) == 0)
		pthread_join(t, NULL);
	else
		OK(0, "thread started");
	unsetenv("TEBIKI_LUA_HOOK_ALWAYS");
	/* a new thread without the variable is late again */
	memset(&late, 0, sizeof(late));
	late.path = path;
	if (pthread_create(&t, NULL, check_mode, &late) == 0)
		pthread_join(t, NULL);
	unlink(path);
	free(path);
	rmdir(dir);
	return DONE();
}
