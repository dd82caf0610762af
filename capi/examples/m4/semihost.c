/* Arm semihosting: `bkpt 0xAB` with the operation in r0 and its argument block in r1. */
#include "semihost.h"

#include <string.h>

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05, SYS_EXIT = 0x18 };
enum { OPEN_WB = 5, EXIT_APPLICATION = 0x20026, EXIT_RUNTIME_ERROR = 0x20023 };

static int call(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int sh_open_write(const char *name) {
    const uintptr_t args[3] = {(uintptr_t)name, OPEN_WB, strlen(name)};
    return call(SYS_OPEN, args);
}

int sh_write(int handle, const void *buf, size_t len) {
    const uintptr_t args[3] = {(uintptr_t)handle, (uintptr_t)buf, len};
    return call(SYS_WRITE, args);
}

int sh_close(int handle) {
    const uintptr_t args[1] = {(uintptr_t)handle};
    return call(SYS_CLOSE, args);
}

void sh_puts(const char *s) { call(SYS_WRITE0, s); }

void sh_put_u32(uint32_t v) {
    char buf[11];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    sh_puts(p);
}

_Noreturn void sh_exit(int ok) {
    /* On AArch32 the argument is the reason code itself, not a block. */
    call(SYS_EXIT, (const void *)(uintptr_t)(ok ? EXIT_APPLICATION : EXIT_RUNTIME_ERROR));
    for (;;) {
    }
}
