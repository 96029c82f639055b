// Shared by the fuzz targets: an oracle failure is a crash (libFuzzer saves the input).
#ifndef DEVICEPW_FUZZ_CHECK_H
#define DEVICEPW_FUZZ_CHECK_H

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                \
        }                                                                                \
    } while (0)

#endif
