/*
 * luaprelude: the Lua source of the pandoc-compatible filter API
 * (generator/prelude.lua, embedded by scripts/lua2c.sh).
 */
#ifndef LUAPRELUDE_H
#define LUAPRELUDE_H

#include <stddef.h>

extern const char	 prl_source[];
extern const size_t	 prl_len;

#endif
