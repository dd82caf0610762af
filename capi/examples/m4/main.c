/* The denoiser from C on a Cortex-M4F under QEMU (mps2-an386): the demo clip in flash through
 * libdqd hop by hop, in hops of the model's length (dqd_model_stream: 128 samples at 8 kHz, 256
 * at 16 kHz). Writes out.raw (int16 LE samples) and frames.bin (uint32 LE SysTick ticks per
 * hop) into QEMU's working directory over semihosting and prints a calibration line and a
 * summary; exits 0 on success. The build defines DQD_EXAMPLE_PATH (DQD_PATH_F32 or DQD_PATH_INT)
 * and ARENA_BYTES / STATE_BYTES (from the blob header, checked here against dqd_sizes). */
#include "dqd.h"
#include "semihost.h"

#include <stdint.h>
#include <string.h>

extern const uint8_t example_blob[], example_blob_end[], example_clip[], example_clip_end[];
uint32_t stack_used(void);
uint32_t stack_size(void);

/* SysTick on the core clock, counting down from 2^24 - 1 (QEMU mps2: 25 MHz; under
 * -icount shift=0 one tick is 40 instructions). */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_MASK 0x00FFFFFFu

static uint32_t now(void) { return SYST_MASK - (SYST_CVR & SYST_MASK); }

static void counter_start(void) {
    SYST_RVR = SYST_MASK;
    SYST_CVR = 0;
    SYST_CSR = 5; /* enable, core clock */
}

/* A loop of exactly 2n instructions, timed: lets the harness check the counter's scale. */
static uint32_t calibrate(uint32_t n) {
    uint32_t t0 = now();
    __asm__ volatile("1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    return (now() - t0) & SYST_MASK;
}

/* The samples of a 16-bit mono WAV file: the "data" chunk. */
static int wav_samples(const uint8_t *wav, size_t len, const uint8_t **data, size_t *n) {
    if (len < 12 || memcmp(wav, "RIFF", 4) != 0 || memcmp(wav + 8, "WAVE", 4) != 0) {
        return -1;
    }
    for (size_t at = 12; at + 8 <= len;) {
        uint32_t size;
        memcpy(&size, wav + at + 4, 4);
        if (memcmp(wav + at, "data", 4) == 0) {
            *data = wav + at + 8;
            *n = (size < len - at - 8 ? size : len - at - 8) / 2;
            return 0;
        }
        at += 8 + size + (size & 1);
    }
    return -1;
}

static dqd_denoiser denoiser;
static _Alignas(4) uint8_t arena[ARENA_BYTES];
static _Alignas(4) uint8_t state[STATE_BYTES];

static int fail(const char *what, int32_t rc) {
    sh_puts("c-demo: ");
    sh_puts(what);
    sh_puts(" failed: ");
    sh_puts(dqd_error_name(rc));
    sh_puts("\n");
    return 1;
}

/* One hop of samples: room for any model's (DQD_MAX_HOP), `hop_len` of it used. */
static int16_t hop[DQD_MAX_HOP];

static int denoise(const uint8_t *samples, size_t n, size_t hop_len, uint32_t *frames) {
    int out = sh_open_write("out.raw"), costs = sh_open_write("frames.bin");
    if (out < 0 || costs < 0) {
        return fail("opening out.raw / frames.bin", DQD_OK);
    }
    for (size_t at = 0; at < n; at += hop_len) {
        size_t k = n - at < hop_len ? n - at : hop_len;
        memset(hop, 0, sizeof hop);
        memcpy(hop, samples + 2 * at, 2 * k);
        uint32_t t0 = now();
        int32_t rc = dqd_process(&denoiser, hop, hop, hop_len);
        uint32_t cost = (now() - t0) & SYST_MASK;
        if (rc != DQD_OK) {
            return fail("dqd_process", rc);
        }
        if (sh_write(out, hop, 2 * hop_len) != 0 || sh_write(costs, &cost, sizeof cost) != 0) {
            return fail("writing out.raw / frames.bin", DQD_OK);
        }
        (*frames)++;
    }
    sh_close(out);
    sh_close(costs);
    return 0;
}

int main(void) {
    counter_start();
    uint32_t units = calibrate(100000);
    sh_puts("calibration: 200000 instructions = ");
    sh_put_u32(units);
    sh_puts(" counter units\n");
    dqd_model model;
    dqd_stream stream;
    size_t arena_bytes, state_bytes;
    int32_t rc = dqd_model_parse(example_blob, (size_t)(example_blob_end - example_blob), &model);
    if (rc != DQD_OK) {
        return fail("dqd_model_parse", rc);
    }
    rc = dqd_model_stream(&model, &stream);
    if (rc != DQD_OK || stream.hop > DQD_MAX_HOP) {
        return fail("dqd_model_stream", rc);
    }
    rc = dqd_sizes(&model, DQD_EXAMPLE_PATH, &arena_bytes, &state_bytes);
    if (rc != DQD_OK || arena_bytes > sizeof arena || state_bytes > sizeof state) {
        return fail("dqd_sizes (or the buffers the build sized)", rc);
    }
    rc = dqd_denoiser_init(&model, DQD_EXAMPLE_PATH, arena, sizeof arena, state, sizeof state, &denoiser);
    if (rc != DQD_OK) {
        return fail("dqd_denoiser_init", rc);
    }
    const uint8_t *samples;
    size_t n;
    if (wav_samples(example_clip, (size_t)(example_clip_end - example_clip), &samples, &n) != 0) {
        return fail("reading the clip (not a WAV file)", DQD_OK);
    }
    uint32_t frames = 0;
    if (denoise(samples, n, stream.hop, &frames) != 0) {
        return 1;
    }
    sh_puts("done: frames=");
    sh_put_u32(frames);
    sh_puts(" stack_used=");
    sh_put_u32(stack_used());
    sh_puts(" stack_size=");
    sh_put_u32(stack_size());
    sh_puts("\n");
    return 0;
}
