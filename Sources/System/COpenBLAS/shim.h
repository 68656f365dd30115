// Exposes the system openblas header to Swift; found through pkg-config (openblas).
#include <cblas.h>
