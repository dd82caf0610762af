/* Reset and fault handlers for the Cortex-M4F: copy .data, zero .bss, turn the FPU on, paint
 * the free stack (for the high-water mark), run main; a fault ends the QEMU run with status 1. */
#include "semihost.h"

#include <stdint.h>
#include <string.h>

#define STACK_PAINT 0xDEADBEEFu

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_start, _stack_end;
int main(void);

static void paint_stack(void) {
    uint32_t *p = &_stack_end;
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    while (p + 16 < sp) {
        *p++ = STACK_PAINT;
    }
}

/* Stack high-water mark in bytes: from the top down to the lowest word no longer painted. */
uint32_t stack_used(void) {
    const uint32_t *p = &_stack_end;
    while (p < &_stack_start && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)&_stack_start - (uintptr_t)p);
}

uint32_t stack_size(void) { return (uint32_t)((uintptr_t)&_stack_start - (uintptr_t)&_stack_end); }

_Noreturn void reset_handler(void) {
    memcpy(&_data_start, &_data_load, (size_t)((uintptr_t)&_data_end - (uintptr_t)&_data_start));
    memset(&_bss_start, 0, (size_t)((uintptr_t)&_bss_end - (uintptr_t)&_bss_start));
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20; /* CP10, CP11: full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    paint_stack();
    sh_exit(main() == 0);
}

static _Noreturn void fault_handler(void) {
    sh_puts("c-demo: fault\n");
    sh_exit(0);
}

typedef void (*vector)(void);

__attribute__((section(".vectors"), used)) static const vector vectors[16] = {
    (vector)(uintptr_t)&_stack_start, reset_handler, fault_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler,
    fault_handler,
};
