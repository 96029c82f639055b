// The sanitizer tests' self-test: each mode makes one report that check.sh must find,
// so that a change to the options or the report search cannot make the sanitize tests
// pass by no longer seeing anything.
#include <climits>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (std::strcmp(mode, "ub") == 0) {  // UBSan: signed overflow
        volatile int x = INT_MAX;
        return x + argc > 0 ? 0 : 1;
    }
    if (std::strcmp(mode, "heap") == 0) {  // ASan: heap buffer overflow
        char *p = static_cast<char *>(std::malloc(8));
        volatile char *q = p;  // a volatile store is not dropped as dead before free()
        q[8] = 'x';
        std::free(p);
        return 0;
    }
    if (std::strcmp(mode, "leak") == 0) {  // LeakSanitizer
        void *volatile p = std::malloc(32);
        p = nullptr;
        return 0;
    }
    return 2;
}
