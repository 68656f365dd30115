// Exposes libjpeg-turbo's libjpeg API to Swift; found through pkg-config (libjpeg).
// jpeglib.h needs FILE and size_t declared before it is included.
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
#include <jerror.h>
