// Exposes the system zlib header to Swift; found through pkg-config (zlib).
#include <zlib.h>
