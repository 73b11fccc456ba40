// LuaJIT's C API (lua.h, lauxlib.h, lualib.h), found through pkg-config `luajit`.
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
