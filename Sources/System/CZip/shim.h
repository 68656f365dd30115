// Exposes the system libzip header to Swift; found through pkg-config (libzip).
#include <zip.h>
