// Forced into every translation unit of the prebuilt addon only (scripts/prebuild.mjs passes
// `-include` this file); never part of a source build.
//
// The prebuild is linked against this machine's glibc, whose newest symbol versions would
// become load-time requirements: exp/log/pow@GLIBC_2.29 (new, faster entry points) and
// pthread_*@GLIBC_2.34 (libpthread merged into libc). Node 18-22 run on glibc 2.28 (RHEL 8,
// Debian 11 and Ubuntu 20.04 have 2.31), where such a prebuild would not load. Binding each to
// its original x86-64 version (GLIBC_2.2.5, which every x86-64 glibc defines) keeps the floor at
// 2.28: the old math entry points wrap the same code plus errno handling; on glibc < 2.34 the
// pthread ones resolve in libpthread.so.0, which Node itself loads. prebuild.mjs fails when a
// new call raises the floor; add it here.
#if defined(__linux__) && defined(__x86_64__)
#include <features.h>  // defines __GLIBC__ (the compiler does not); musl defines none
#if defined(__GLIBC__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_trylock,pthread_mutex_trylock@GLIBC_2.2.5");
#endif
#endif
