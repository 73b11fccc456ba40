// What Swift cannot take from LuaJIT's headers directly: the C API's function-like macros, and
// the worker's own Lua sources (workers/lua/lib), compiled into the binary so that a worker needs
// no file besides the app.
#ifndef CLUASHIM_H
#define CLUASHIM_H

#include <stddef.h>
#include <lua.h>
#include <lauxlib.h>

static inline void rbl_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline const char *rbl_tostring(lua_State *L, int index) { return lua_tostring(L, index); }
static inline void rbl_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline int rbl_loadbuffer(lua_State *L, const char *code, size_t length, const char *name) {
  return luaL_loadbuffer(L, code, length, name);
}

/* workers/lua/lib/bootstrap.lua: the request object, app loading, error formatting. */
const char *rbl_bootstrap_source(size_t *length);
/* workers/lua/lib/ringbroker.lua: the module scripts get from require("ringbroker"). */
const char *rbl_ringbroker_source(size_t *length);

#endif
