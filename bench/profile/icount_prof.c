// SPDX-License-Identifier: GPL-2.0
/*
 * icount_prof: a QEMU TCG plugin that counts the guest instructions each
 * translation block executes, separately for each phase of a run.  The
 * guest marks a phase with two instructions the plugin recognises:
 *
 *   movabs $0x70726f6365766e74, %rax	("procevnt")  starts the next phase
 *   movabs $0x70726f63656e6421, %rax	("procend!")  ends it
 *
 * At exit it writes one line per translation block that ran in a phase:
 *
 *   <start address in hex>:<instructions> <count in phase 0> <phase 1> ...
 *
 * where a count is instructions executed (block executions times its
 * length), and one line per phase of the events that cost an emulator
 * wall time beyond the instructions:
 *
 *   # events <phase> <cr3> <invlpg> <hlt> <loads+stores> <tlb refills>
 *
 * cr3: writes to CR3 (an mm switch: QEMU flushes its whole software TLB
 * and the jump cache on each).  invlpg: single-page flushes.  hlt: idle
 * entries.  loads+stores: guest memory accesses.  tlb refills: accesses
 * (data, and each block's code page) that miss a model of the emulator's
 * TLB, direct-mapped with TLB_ENTRIES pages, emptied on a CR3 write: the
 * page-table walks the emulator does in C for the guest.  The model runs
 * outside phases too; only the counts are per phase.  With the argument
 * mem=off there are no memory callbacks (loads+stores 0, refills of code
 * pages only): for plain TCG boots, which the callbacks would slow most.
 * bench/profile/report.sh turns all that into figures per function and
 * per iteration.  Every vCPU counts into the same phase, and the counts
 * are not atomic: use it where the vCPUs share one host thread (-smp 1,
 * -icount, or thread=single).
 *
 * The plugin API is QEMU's, version 1 as in QEMU 7.2 of Debian 12, or
 * built with -DPE_PLUGIN_API=7 for QEMU 11 (bench/qemu-sid.sh), where the
 * translation callback takes the block and a user pointer and an
 * instruction's bytes are copied out; only the entry points used here are
 * declared.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef uint32_t qemu_plugin_meminfo_t;
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index,
					  qemu_plugin_meminfo_t info,
					  uint64_t vaddr, void *userdata);

enum qemu_plugin_mem_rw {
	QEMU_PLUGIN_MEM_R = 1,
	QEMU_PLUGIN_MEM_W,
	QEMU_PLUGIN_MEM_RW,
};

#ifndef PE_PLUGIN_API
#define PE_PLUGIN_API 1
#endif
#if PE_PLUGIN_API >= 7
typedef void (*pe_tb_trans_cb_t)(struct qemu_plugin_tb *tb, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   pe_tb_trans_cb_t cb, void *userdata);
#else
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
#endif
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
				      qemu_plugin_vcpu_mem_cb_t cb,
				      enum qemu_plugin_cb_flags flags,
				      enum qemu_plugin_mem_rw rw,
				      void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
#if PE_PLUGIN_API >= 7
size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest,
			     size_t len);
#else
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
#endif
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = PE_PLUGIN_API;

#define MAX_PHASES	64

struct block {
	uint64_t vaddr;
	unsigned int n;
	struct block *next;
	uint64_t count[MAX_PHASES];
};

static struct block *blocks;
static int phase = -1;		/* -1: between phases */
static int nr_phases;
static const char *out_path = "icount_prof.out";
static int count_mem = 1;	/* mem=off: no memory callbacks */

enum { EV_CR3, EV_INVLPG, EV_HLT, EV_MEM, EV_REFILL, NR_EV };
static const int ev_ids[NR_EV] = { EV_CR3, EV_INVLPG, EV_HLT, EV_MEM,
				   EV_REFILL };
static uint64_t events[NR_EV][MAX_PHASES];

/*
 * The TLB model: page number + 1 per slot (0: empty).  QEMU sizes its
 * TLB between 64 and a few thousand entries by use, with a small victim
 * TLB; 1024 is in that range.
 */
#define TLB_ENTRIES	1024
static uint64_t tlb[TLB_ENTRIES];

static void count(int ev)
{
	if (phase >= 0)
		events[ev][phase]++;
}

static void tlb_access(uint64_t vaddr)
{
	uint64_t page = vaddr >> 12;
	uint64_t *slot = &tlb[page % TLB_ENTRIES];

	if (*slot == page + 1)
		return;
	*slot = page + 1;
	count(EV_REFILL);
}

/* movabs $imm64, %rax */
static const unsigned char mark_start[10] = {
	0x48, 0xb8, 0x74, 0x6e, 0x76, 0x65, 0x63, 0x6f, 0x72, 0x70,
};
static const unsigned char mark_stop[10] = {
	0x48, 0xb8, 0x21, 0x64, 0x6e, 0x65, 0x63, 0x6f, 0x72, 0x70,
};

static void on_block(unsigned int vcpu, void *data)
{
	struct block *b = data;

	tlb_access(b->vaddr);
	if (phase >= 0)
		b->count[phase] += b->n;
}

static void on_event(unsigned int vcpu, void *data)
{
	int ev = *(const int *)data;

	if (ev == EV_CR3)
		memset(tlb, 0, sizeof(tlb));
	count(ev);
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
		   uint64_t vaddr, void *data)
{
	tlb_access(vaddr);
	count(EV_MEM);
}

/*
 * Which of the events is instruction @p (@len bytes): mov to CR3, invlpg,
 * hlt; -1 for any other.  Legacy and REX prefixes are skipped.
 */
static int insn_event(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0xf2 ||
			   p[i] == 0xf3 || p[i] == 0x2e || p[i] == 0x36 ||
			   p[i] == 0x3e || p[i] == 0x26 || p[i] == 0x64 ||
			   p[i] == 0x65 || (p[i] & 0xf0) == 0x40))
		i++;
	if (i < len && p[i] == 0xf4)
		return EV_HLT;
	if (i + 2 >= len || p[i] != 0x0f)
		return -1;
	/* 0f 22 /3: mov r64, %cr3 */
	if (p[i + 1] == 0x22 && ((p[i + 2] >> 3) & 7) == 3)
		return EV_CR3;
	/* 0f 01 /7 with a memory operand: invlpg */
	if (p[i + 1] == 0x01 && ((p[i + 2] >> 3) & 7) == 7 &&
	    (p[i + 2] >> 6) != 3)
		return EV_INVLPG;
	return -1;
}

static void on_start(unsigned int vcpu, void *data)
{
	if (nr_phases < MAX_PHASES)
		phase = nr_phases++;
}

static void on_stop(unsigned int vcpu, void *data)
{
	phase = -1;
}

#if PE_PLUGIN_API >= 7
static void on_translate(struct qemu_plugin_tb *tb, void *userdata)
#else
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
#endif
{
	struct block *b = calloc(1, sizeof(*b));
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	if (!b)
		abort();
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->n = n;
	b->next = blocks;
	blocks = b;
	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block,
					     QEMU_PLUGIN_CB_NO_REGS, b);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		size_t len = qemu_plugin_insn_size(insn);
#if PE_PLUGIN_API >= 7
		unsigned char bytes[16];
		const void *data = bytes;

		qemu_plugin_insn_data(insn, bytes,
				      len < sizeof(bytes) ? len : sizeof(bytes));
#else
		const void *data = qemu_plugin_insn_data(insn);
#endif
		int ev = insn_event(data, len);

		if (count_mem)
			qemu_plugin_register_vcpu_mem_cb(insn, on_mem,
						QEMU_PLUGIN_CB_NO_REGS,
						QEMU_PLUGIN_MEM_RW, NULL);
		if (ev >= 0)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_event,
					QEMU_PLUGIN_CB_NO_REGS,
					(void *)&ev_ids[ev]);
		/* invlpg: the page is the operand's, not known here. */
		if (len != sizeof(mark_start))
			continue;
		if (!memcmp(data, mark_start, sizeof(mark_start)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start,
					QEMU_PLUGIN_CB_NO_REGS, NULL);
		else if (!memcmp(data, mark_stop, sizeof(mark_stop)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop,
					QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

static void on_atexit(qemu_plugin_id_t id, void *data)
{
	FILE *f = fopen(out_path, "w");
	struct block *b;
	int i, any;

	if (!f) {
		perror(out_path);
		return;
	}
	fprintf(f, "# phases %d\n", nr_phases);
	for (i = 0; i < nr_phases; i++)
		fprintf(f, "# events %d %llu %llu %llu %llu %llu\n", i,
			(unsigned long long)events[EV_CR3][i],
			(unsigned long long)events[EV_INVLPG][i],
			(unsigned long long)events[EV_HLT][i],
			(unsigned long long)events[EV_MEM][i],
			(unsigned long long)events[EV_REFILL][i]);
	for (b = blocks; b; b = b->next) {
		for (any = 0, i = 0; i < nr_phases; i++)
			any |= b->count[i] != 0;
		if (!any)
			continue;
		fprintf(f, "%llx:%u", (unsigned long long)b->vaddr, b->n);
		for (i = 0; i < nr_phases; i++)
			fprintf(f, " %llu", (unsigned long long)b->count[i]);
		fputc('\n', f);
	}
	fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			out_path = argv[i] + 4;
		} else if (!strcmp(argv[i], "mem=off")) {
			count_mem = 0;
		} else {
			fprintf(stderr, "icount_prof: unknown argument %s\n",
				argv[i]);
			return -1;
		}
	}
#if PE_PLUGIN_API >= 7
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate, NULL);
#else
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
#endif
	qemu_plugin_register_atexit_cb(id, on_atexit, NULL);
	return 0;
}
