/*
 * insn_profile: a QEMU TCG plugin that counts, for every guest instruction executed, how often it
 * ran, how often control left it for somewhere other than the next instruction (a taken branch,
 * a call, a return, an exception entry), and how often it directly followed a load (the
 * Cortex-M4 pipelines a load or store that follows a load). The host side
 * (host-tests/src/cycles.rs) joins these counts with a per-instruction timing table into an
 * estimated cycle count; QEMU itself counts instructions only.
 *
 * Segments: with `marks=ADDR`, a store by the guest to byte ADDR + k (k < 255; the firmware's
 * `PROFILE_MARKS` array) makes k the current segment, and counts are kept per segment, so the host
 * can attribute them to the benchmarks, stages and layers the firmware marks. Until the first
 * mark, and without `marks`, everything counts in segment 255.
 *
 * Arguments: out=PATH (required), marks=HEX. Output, one line per executed instruction:
 * `vaddr size bytes<TAB>disassembly<TAB>seg:count:taken:after_load ...`.
 *
 * Written against QEMU's plugin API version 1 (QEMU 7.2). No distribution ships qemu-plugin.h,
 * so the few API functions used here are declared below, as that version defines them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of the QEMU plugin API (version 1) this plugin uses ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef uint32_t qemu_plugin_meminfo_t;
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                                          void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);
__attribute__((visibility("default"))) int qemu_plugin_version = 1;
/* ---- end of the API subset ---- */

#define MAX_SEGMENTS 256 /* segment slots; the last one holds everything before the first mark */
#define TABLE_BITS 17   /* instruction records: 128 Ki slots, far above any firmware here */

struct counts {
    uint64_t count, taken, after_load;
};

struct rec {
    uint64_t vaddr;
    uint32_t size;
    uint8_t bytes[4];
    bool used, is_load;
    char *disas;
    struct counts *seg; /* MAX_SEGMENTS entries, allocated on first execution */
};

static struct rec *table;
static const char *out_path;
static uint64_t marks_addr = UINT64_MAX;
static struct rec *prev;
static unsigned segment = MAX_SEGMENTS - 1;

static struct rec *lookup(uint64_t vaddr)
{
    size_t mask = ((size_t)1 << TABLE_BITS) - 1, i = (size_t)(vaddr * 0x9E3779B97F4A7C15ull >> 20) & mask;
    for (size_t probe = 0; probe <= mask; probe++, i = (i + 1) & mask) {
        if (!table[i].used || table[i].vaddr == vaddr) {
            return &table[i];
        }
    }
    return NULL;
}

/* Single loads, by mnemonic: Arm `ldr*` (not `ldm`, `ldrd`) and `vldr`; RISC-V `l[bhw]*`, `c.lw*`. */
static bool mnemonic_is_load(const char *d)
{
    while (*d == ' ' || *d == '\t') {
        d++;
    }
    if (!strncmp(d, "ldrd", 4) || !strncmp(d, "ldm", 3)) {
        return false;
    }
    return !strncmp(d, "ldr", 3) || !strncmp(d, "vldr", 4) || !strncmp(d, "lw", 2) || !strncmp(d, "lh", 2) ||
           !strncmp(d, "lb", 2) || !strncmp(d, "c.lw", 4);
}

static void on_exec(unsigned int vcpu, void *udata)
{
    struct rec *r = udata;
    (void)vcpu;
    if (!r->seg) {
        r->seg = calloc(MAX_SEGMENTS, sizeof(struct counts));
        if (!r->seg) {
            abort();
        }
    }
    if (prev && prev->vaddr + prev->size != r->vaddr) {
        prev->seg[segment].taken++;
    }
    r->seg[segment].count++;
    if (prev && prev->is_load) {
        r->seg[segment].after_load++;
    }
    prev = r;
}

/* A store into the marks array selects the segment (the store's own instruction already counted). */
static void on_store(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)vcpu;
    (void)info;
    (void)udata;
    if (vaddr >= marks_addr && vaddr - marks_addr < MAX_SEGMENTS - 1) {
        segment = (unsigned)(vaddr - marks_addr);
    }
}

/* Single stores, by mnemonic: Arm `str*`, RISC-V `s[bhw]`, `c.sw*`. QEMU's RISC-V disassembly
 * starts with the instruction's encoding (4 or 8 hex digits), Arm's with the mnemonic (no Arm
 * mnemonic is 4 or 8 hex digits long). */
static bool mnemonic_is_store(const char *d)
{
    while (*d == ' ' || *d == '\t') {
        d++;
    }
    size_t hex = strspn(d, "0123456789abcdef");
    if ((hex == 4 || hex == 8) && (d[hex] == ' ' || d[hex] == '\t')) {
        d += hex;
        while (*d == ' ' || *d == '\t') {
            d++;
        }
    }
    return !strncmp(d, "str", 3) || !strncmp(d, "sb", 2) || !strncmp(d, "sh", 2) || !strncmp(d, "sw", 2) ||
           !strncmp(d, "c.sw", 4);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    for (size_t i = 0, n = qemu_plugin_tb_n_insns(tb); i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        struct rec *r = lookup(vaddr);
        if (!r) {
            qemu_plugin_outs("insn_profile: instruction table full\n");
            abort();
        }
        if (!r->used) {
            r->used = true;
            r->vaddr = vaddr;
            r->size = (uint32_t)qemu_plugin_insn_size(insn);
            memcpy(r->bytes, qemu_plugin_insn_data(insn), r->size < 4 ? r->size : 4);
            r->disas = qemu_plugin_insn_disas(insn);
            r->is_load = r->disas && mnemonic_is_load(r->disas);
        }
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_exec, QEMU_PLUGIN_CB_NO_REGS, r);
        if (marks_addr != UINT64_MAX && r->disas && mnemonic_is_store(r->disas)) {
            qemu_plugin_register_vcpu_mem_cb(insn, on_store, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_W, NULL);
        }
    }
}

static void write_profile(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    FILE *f = fopen(out_path, "w");
    if (!f) {
        qemu_plugin_outs("insn_profile: cannot write the output file\n");
        return;
    }
    fprintf(f, "# insn_profile v1: vaddr size bytes\\tdisas\\tseg:count:taken:after_load...\n");
    for (size_t i = 0; i < ((size_t)1 << TABLE_BITS); i++) {
        struct rec *r = &table[i];
        if (!r->used || !r->seg) {
            continue;
        }
        fprintf(f, "%llx %u %02x%02x%02x%02x\t%s\t", (unsigned long long)r->vaddr, r->size, r->bytes[0], r->bytes[1],
                r->bytes[2], r->bytes[3], r->disas ? r->disas : "?");
        for (unsigned s = 0; s < MAX_SEGMENTS; s++) {
            struct counts *c = &r->seg[s];
            if (c->count) {
                fprintf(f, " %u:%llu:%llu:%llu", s, (unsigned long long)c->count, (unsigned long long)c->taken,
                        (unsigned long long)c->after_load);
            }
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        qemu_plugin_outs("insn_profile: error writing the output file\n");
    }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                                               char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "out=", 4)) {
            out_path = argv[i] + 4;
        } else if (!strncmp(argv[i], "marks=", 6)) {
            marks_addr = strtoull(argv[i] + 6, NULL, 16);
        } else {
            qemu_plugin_outs("insn_profile: unknown argument (out=PATH, marks=HEX)\n");
            return 1;
        }
    }
    if (!out_path) {
        qemu_plugin_outs("insn_profile: out=PATH is required\n");
        return 1;
    }
    table = calloc((size_t)1 << TABLE_BITS, sizeof(struct rec));
    if (!table) {
        return 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_profile, NULL);
    return 0;
}
