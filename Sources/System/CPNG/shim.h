// Exposes the system libpng header to Swift; found through pkg-config (libpng).
#include <png.h>
