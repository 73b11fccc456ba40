// The worker's Lua sources, embedded at build time (#embed, C23; clang accepts it in C17 mode as
// an extension). They stay plain .lua files in workers/lua/lib so they read and diff as Lua.
#include "CLuaShim.h"

#pragma clang diagnostic ignored "-Wc23-extensions"

static const char bootstrap_lua[] = {
#embed "../../lib/bootstrap.lua"
};

static const char ringbroker_lua[] = {
#embed "../../lib/ringbroker.lua"
};

const char *rbl_bootstrap_source(size_t *length) {
  *length = sizeof(bootstrap_lua);
  return bootstrap_lua;
}

const char *rbl_ringbroker_source(size_t *length) {
  *length = sizeof(ringbroker_lua);
  return ringbroker_lua;
}
