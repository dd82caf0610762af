/* The C API from C on the host: the error paths (null, misaligned, overlapping, too small,
 * unfilled, corrupt, wrong hop length), then a whole clip through both paths, hop by hop at the
 * model's hop (dqd_model_stream). Prints the model's stream ("stream: rate=... hop=...").
 * Usage: test_host BLOB IN.raw OUT_F32.raw OUT_INT.raw (raw: int16 samples, host byte order).
 * Exits 0 when every check holds; tests/c_host.rs builds it, runs it and compares the outputs
 * with the Rust pipeline. */
#include "dqd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(rc, want)                                                                        \
    do {                                                                                        \
        int32_t got_ = (rc);                                                                    \
        if (got_ != (want)) {                                                                   \
            fprintf(stderr, "%s:%d: %s gave %s, expected %s\n", __FILE__, __LINE__, #rc,        \
                    dqd_error_name(got_), dqd_error_name(want));                                \
            failures++;                                                                         \
        }                                                                                       \
    } while (0)

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void check_names(void) {
    if (strcmp(dqd_error_name(DQD_OK), "DQD_OK") != 0 ||
        strcmp(dqd_error_name(DQD_ERR_CHECKSUM), "DQD_ERR_CHECKSUM") != 0 ||
        strcmp(dqd_error_name(12345), "DQD_ERR_UNKNOWN") != 0) {
        fprintf(stderr, "dqd_error_name gives wrong names\n");
        failures++;
    }
}

static void check_parse_errors(const uint8_t *blob, size_t len) {
    dqd_model m;
    size_t a, s;
    EXPECT(dqd_model_parse(NULL, len, &m), DQD_ERR_NULL);
    EXPECT(dqd_model_parse(blob, len, NULL), DQD_ERR_NULL);
    EXPECT(dqd_model_parse(blob, len - 1, &m), DQD_ERR_LENGTH_MISMATCH);
    EXPECT(dqd_model_parse(blob, 8, &m), DQD_ERR_TRUNCATED);
    EXPECT(dqd_sizes(&m, DQD_PATH_F32, &a, &s), DQD_ERR_NOT_INITIALISED); /* the failed parse unfilled it */
    uint8_t *bad = malloc(len);
    memcpy(bad, blob, len);
    bad[len - 1] ^= 0x40;
    EXPECT(dqd_model_parse(bad, len, &m), DQD_ERR_CHECKSUM);
    bad[len - 1] ^= 0x40;
    bad[0] = 'X';
    EXPECT(dqd_model_parse(bad, len, &m), DQD_ERR_BAD_MAGIC);
    free(bad);
    _Alignas(8) unsigned char raw[sizeof(dqd_model) + 8];
    EXPECT(dqd_model_parse(blob, len, (dqd_model *)(void *)(raw + 4)), DQD_ERR_MISALIGNED);
    memset(&m, 0, sizeof m);
    EXPECT(dqd_sizes(&m, DQD_PATH_INT, &a, &s), DQD_ERR_NOT_INITIALISED);
    EXPECT(dqd_model_parse(blob, len, &m), DQD_OK);
    EXPECT(dqd_sizes(&m, 7, &a, &s), DQD_ERR_BAD_PATH);
    EXPECT(dqd_sizes(&m, DQD_PATH_F32, NULL, &s), DQD_ERR_NULL);
}

/* The model's stream, checked for what the API promises. */
static dqd_stream check_stream(const dqd_model *m) {
    dqd_stream st = {0, 0, 0};
    dqd_model unfilled;
    memset(&unfilled, 0, sizeof unfilled);
    EXPECT(dqd_model_stream(m, NULL), DQD_ERR_NULL);
    EXPECT(dqd_model_stream(NULL, &st), DQD_ERR_NULL);
    EXPECT(dqd_model_stream(&unfilled, &st), DQD_ERR_NOT_INITIALISED);
    EXPECT(dqd_model_stream(m, &st), DQD_OK);
    int rate_ok = (st.sample_rate == 8000 && st.hop == 128) || (st.sample_rate == 16000 && st.hop == 256);
    if (!rate_ok || st.hop > DQD_MAX_HOP || st.latency_samples != st.hop) {
        fprintf(stderr, "dqd_model_stream: rate %u hop %zu latency %zu\n", st.sample_rate, st.hop,
                st.latency_samples);
        failures++;
    }
    printf("stream: rate=%u hop=%zu latency=%zu\n", st.sample_rate, st.hop, st.latency_samples);
    return st;
}

static void check_init_errors(const dqd_model *m, size_t h) {
    static dqd_denoiser d;
    size_t a, s;
    EXPECT(dqd_sizes(m, DQD_PATH_F32, &a, &s), DQD_OK);
    uint8_t *buf = malloc(a + s + 8);
    uint8_t *arena = buf, *state = buf + a;
    EXPECT(dqd_denoiser_init(m, DQD_PATH_F32, NULL, a, state, s, &d), DQD_ERR_NULL);
    EXPECT(dqd_denoiser_init(m, DQD_PATH_F32, arena, a, state, s, NULL), DQD_ERR_NULL);
    EXPECT(dqd_denoiser_init(m, 2, arena, a, state, s, &d), DQD_ERR_BAD_PATH);
    EXPECT(dqd_denoiser_init(m, DQD_PATH_F32, arena, a - 4, state, s, &d), DQD_ERR_ARENA_TOO_SMALL);
    EXPECT(dqd_denoiser_init(m, DQD_PATH_F32, arena, a, state, s - 4, &d), DQD_ERR_STATE_TOO_SMALL);
    EXPECT(dqd_denoiser_init(m, DQD_PATH_F32, arena, a + 4, state, s, &d), DQD_ERR_OVERLAP);
    EXPECT(dqd_denoiser_init(m, DQD_PATH_F32, arena + 2, a, state + 4, s, &d), DQD_ERR_MISALIGNED);
    /* The failed init left `d` unfilled. */
    int16_t hop[DQD_MAX_HOP] = {0};
    EXPECT(dqd_process(&d, hop, hop, h), DQD_ERR_NOT_INITIALISED);
    EXPECT(dqd_reset(&d), DQD_ERR_NOT_INITIALISED);
    EXPECT(dqd_denoiser_init(m, DQD_PATH_F32, arena, a, state, s, &d), DQD_OK);
    EXPECT(dqd_process(&d, NULL, hop, h), DQD_ERR_NULL);
    EXPECT(dqd_process(&d, hop, (int16_t *)(void *)arena, h), DQD_ERR_OVERLAP);
    EXPECT(dqd_process(&d, (const int16_t *)(const void *)&d, hop, h), DQD_ERR_OVERLAP);
    /* Any other length than the model's hop: a hop of the other rate, one sample short, none. */
    EXPECT(dqd_process(&d, hop, hop, h == 128 ? 256 : 128), DQD_ERR_BAD_IO_LENGTH);
    EXPECT(dqd_process(&d, hop, hop, h - 1), DQD_ERR_BAD_IO_LENGTH);
    EXPECT(dqd_process(&d, hop, hop, 0), DQD_ERR_BAD_IO_LENGTH);
    EXPECT(dqd_process(&d, hop, hop, h), DQD_OK);
    EXPECT(dqd_reset(&d), DQD_OK);
    free(buf);
}

/* Runs `n` samples through `path` in hops of `hl` samples (the last hop padded with zeros),
 * writing one hop out per hop in, as the firmware does; `in_place` processes each hop in its own
 * buffer. */
static int16_t *denoise(const dqd_model *m, int32_t path, size_t hl, const int16_t *in, size_t n, int in_place) {
    static dqd_denoiser d;
    size_t a, s;
    EXPECT(dqd_sizes(m, path, &a, &s), DQD_OK);
    void *arena = malloc(a), *state = malloc(s);
    EXPECT(dqd_denoiser_init(m, path, arena, a, state, s, &d), DQD_OK);
    size_t hops = (n + hl - 1) / hl;
    int16_t *out = calloc(hops * hl, sizeof(int16_t));
    for (size_t h = 0; h < hops; h++) {
        int16_t hop[DQD_MAX_HOP] = {0};
        size_t k = n - h * hl < hl ? n - h * hl : hl;
        memcpy(hop, in + h * hl, k * sizeof(int16_t));
        if (in_place) {
            EXPECT(dqd_process(&d, hop, hop, hl), DQD_OK);
            memcpy(out + h * hl, hop, hl * sizeof(int16_t));
        } else {
            EXPECT(dqd_process(&d, hop, out + h * hl, hl), DQD_OK);
        }
    }
    free(arena);
    free(state);
    return out;
}

static void write_file(const char *path, const int16_t *x, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(x, sizeof(int16_t), n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: test_host BLOB IN.raw OUT_F32.raw OUT_INT.raw\n");
        return 2;
    }
    size_t len, in_bytes;
    uint8_t *blob = read_file(argv[1], &len);
    int16_t *in = (int16_t *)(void *)read_file(argv[2], &in_bytes);
    size_t n = in_bytes / sizeof(int16_t);
    check_names();
    check_parse_errors(blob, len);
    dqd_model m;
    EXPECT(dqd_model_parse(blob, len, &m), DQD_OK);
    size_t hl = check_stream(&m).hop;
    if (hl == 0 || hl > DQD_MAX_HOP) {
        return 1;
    }
    size_t out_n = (n + hl - 1) / hl * hl;
    check_init_errors(&m, hl);
    int16_t *f32 = denoise(&m, DQD_PATH_F32, hl, in, n, 0);
    int16_t *fixed = denoise(&m, DQD_PATH_INT, hl, in, n, 0);
    int16_t *fixed_in_place = denoise(&m, DQD_PATH_INT, hl, in, n, 1);
    if (memcmp(fixed, fixed_in_place, out_n * sizeof(int16_t)) != 0) {
        fprintf(stderr, "in-place processing differs\n");
        failures++;
    }
    write_file(argv[3], f32, out_n);
    write_file(argv[4], fixed, out_n);
    printf("test_host: %zu samples, %d failed checks\n", n, failures);
    return failures == 0 ? 0 : 1;
}
