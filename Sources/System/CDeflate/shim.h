// Exposes the system libdeflate header to Swift (its CRC-32 is about four
// times faster than zlib's on x86-64); found through pkg-config (libdeflate).
#include <libdeflate.h>
