/* The few Arm semihosting calls the example needs (QEMU: -semihosting-config enable=on). */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* Opens `name` on the host for binary writing; returns a handle, or -1. */
int sh_open_write(const char *name);
/* Writes `len` bytes; returns 0 when all were written. */
int sh_write(int handle, const void *buf, size_t len);
int sh_close(int handle);
/* Prints a NUL-terminated string on the host's console. */
void sh_puts(const char *s);
/* Prints `v` in decimal. */
void sh_put_u32(uint32_t v);
/* Ends the QEMU run: exit status 0 when `ok`, 1 otherwise. */
_Noreturn void sh_exit(int ok);

#endif
