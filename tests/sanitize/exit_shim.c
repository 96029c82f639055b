/* Preloaded into slapd, slapadd and slaptest after ASan's runtime (slapd-wrapper.sh).
 *
 * With ASan's runtime preloaded, these uninstrumented programs hang at exit on Debian
 * bookworm (glibc 2.36, p11-kit 0.24): p11-kit's destructor (GnuTLS loads p11-kit)
 * calls freelocale(), which waits forever for glibc's __libc_setlocale_lock. It
 * happens without the devicepw module too, with gcc's and clang's ASan runtime alike.
 *
 * The handler installed here runs at exit before the library destructors: it flushes
 * stdio and ends the process with exit's status, skipping them. It must be
 * registered after ld.so's own exit handler (which runs the destructors), so it is
 * registered just before main, from a wrapper of __libc_start_main (exported: the
 * build hides symbols by default).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void skip_destructors(int status, void *arg) {
    (void)arg;
    fflush(NULL);
    _exit(status);
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;

static int wrapped_main(int argc, char **argv, char **envp) {
    on_exit(skip_destructors, NULL);
    return real_main(argc, argv, envp);
}

typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);

__attribute__((visibility("default"))) int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end) {
    start_fn real = (start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    real_main = main;
    return real(wrapped_main, argc, argv, init, fini, rtld_fini, stack_end);
}
