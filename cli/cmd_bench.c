/* umi bench: prompt-processing and generation speed, as llama-bench
 * measures them (pp: one batch of P tokens into an empty cache; tg: N tokens
 * decoded one at a time from an empty cache; with -d D both after D tokens
 * already in the cache, untimed), with the decode roofline: weight bytes
 * read per token against measured memory bandwidth. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"

typedef struct stats {
    double mean, sd;
} stats;

static stats summarize(const double *v, int n) {
    stats s = {0, 0};
    for (int i = 0; i < n; i++) s.mean += v[i] / n;
    for (int i = 0; n > 1 && i < n; i++) s.sd += (v[i] - s.mean) * (v[i] - s.mean) / (n - 1);
    s.sd = sqrt(s.sd);
    return s;
}

/* Peak resident set of this process, in bytes (Linux reports KiB, macOS
 * bytes). Weights count once their pages have been touched. */
static double peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#if defined(__APPLE__)
    return (double)ru.ru_maxrss;
#else
    return (double)ru.ru_maxrss * 1024.0;
#endif
}

/* What the planner predicts for this very run (same context, batch,
 * threads and cache type, on the `this` profile with the bandwidth this run
 * measured): the check of `umi plan` against reality. Zeroed when the plan
 * fails. */
static umi_plan_result plan_this_run(const char *model, int n_ctx, int n_batch, int threads,
                                     const char *kv_type, double bw, bool no_mmap, bool keep_prompt_rates) {
    umi_plan_params pp = umi_plan_default_params();
    pp.model_path = model;
    pp.no_mmap = no_mmap;
    pp.n_ctx = (uint32_t)n_ctx;
    pp.n_batch = (uint32_t)n_batch;
    pp.n_threads = threads;
    pp.kv_type = kv_type;
    pp.hw = "this";
    pp.bw_gbps = bw > 0 ? bw : 0; /* the bandwidth just measured, not a second probe */
    pp.fresh_rates = true;         /* and each weight type's decode and prompt rates, now */
    pp.keep_prompt_rates = keep_prompt_rates;
    umi_plan_result r;
    umi_error err = {0};
    if (umi_plan_compute(&pp, &r, &err) != UMI_OK) memset(&r, 0, sizeof r);
    return r;
}

/* Tokens/s at depth d from a plan's rates at depth 0 and at depth `full`:
 * the time per token is linear in the depth between them. */
static double plan_between(double tps0, double tps_full, double d, double full) {
    if (!(tps0 > 0 && tps_full > 0)) return 0;
    const double t0 = 1.0 / tps0, t1 = 1.0 / tps_full;
    return full > 0 ? 1.0 / (t0 + (t1 - t0) * d / full) : tps0;
}

typedef struct probes {
    double bw;
    umi_plan_result plan;
} probes;

/* Bandwidth and the plan of this run, measured in a forked child (a copy
 * of the calling thread alone; the engine's idle workers stay in this
 * process) that sends them back through a pipe, so the probes' buffers
 * never count in this process's peak RSS; in this process when fork is
 * not available. */
static void measure_probes(const char *model, int n_ctx, int n_batch, int threads, const char *kv_type,
                           bool no_mmap, bool keep_prompt_rates, probes *out) {
    out->bw = umi_measure_bandwidth(threads, (size_t)256 << 20);
    out->plan = plan_this_run(model, n_ctx, n_batch, threads, kv_type, out->bw, no_mmap, keep_prompt_rates);
}

/* keep_prompt_rates: the prompt rates as cached (probes within a tg run
 * leave them; each prompt probe costs ~0.2 s, and far more in a sanitizer
 * build) */
static void run_probes(const char *model, int n_ctx, int n_batch, int threads, const char *kv_type,
                       bool no_mmap, bool keep_prompt_rates, probes *out) {
    memset(out, 0, sizeof *out);
    int fd[2];
    const pid_t pid = pipe(fd) == 0 ? fork() : -1;
    if (pid == 0) {
        close(fd[0]);
        probes p;
        measure_probes(model, n_ctx, n_batch, threads, kv_type, no_mmap, keep_prompt_rates, &p);
        const ssize_t w = write(fd[1], &p, sizeof p); /* the parent checks the length */
        (void)w;
        _exit(0);
    }
    if (pid > 0) {
        close(fd[1]);
        size_t got = 0;
        for (ssize_t r; got < sizeof *out && (r = read(fd[0], (char *)out + got, sizeof *out - got)) > 0;)
            got += (size_t)r;
        close(fd[0]);
        waitpid(pid, NULL, 0);
        if (got == sizeof *out) return; /* the plan's strings are static: valid here too */
        memset(out, 0, sizeof *out);
    }
    measure_probes(model, n_ctx, n_batch, threads, kv_type, no_mmap, keep_prompt_rates, out);
}

/* Probes taken at several moments: bandwidths summed, and the plan's
 * seconds per token, tg and pp, summed (their mean is a mean time). */
typedef struct probe_sum {
    double bw, tg_s, pp_s;
    int n_bw, n_tg, n_pp;
} probe_sum;

/* What a probe between or within runs needs, and where its numbers go.
 * every: seconds a tg run decodes between two probes (0: none within). */
typedef struct probe_ctx {
    const char *model, *kv_type;
    int n_ctx, n_batch, threads, depth, n_gen;
    bool no_mmap;
    double every;
    int n_probes; /* moments added */
    probe_sum sum;
} probe_ctx;

/* Adds one moment's probes to pc. A tg run decodes at depths
 * D..D+n_gen-1: the plan's step time between its empty and its full
 * (n_ctx) context, at the mean depth. A pp run is one chunk at depth D:
 * between the plan's chunk into an empty cache and the one ending the
 * context (at n_ctx - n_batch), both linear in depth. prompt: the probe
 * measured the prompt rates (else its pp is not new). */
static void add_probes(probe_ctx *pc, const probes *p, bool prompt) {
    probe_sum *s = &pc->sum;
    const double tg = plan_between(p->plan.tg_tps, p->plan.tg_tps_full, pc->depth + (pc->n_gen - 1) / 2.0, pc->n_ctx);
    const double pp = plan_between(p->plan.pp_tps, p->plan.pp_tps_full, pc->depth, pc->n_ctx - pc->n_batch);
    if (p->bw > 0) s->bw += p->bw, s->n_bw++;
    if (tg > 0) s->tg_s += 1.0 / tg, s->n_tg++;
    if (prompt && pp > 0) s->pp_s += 1.0 / pp, s->n_pp++;
    pc->n_probes++;
}

/* The bandwidth and the decode rates, now, and the prompt rates too when
 * asked (~0.2 s a weight type), into pc->sum. */
static void probe_now(probe_ctx *pc, bool prompt) {
    probes p;
    run_probes(pc->model, pc->n_ctx, pc->n_batch, pc->threads, pc->kv_type, pc->no_mmap, !prompt, &p);
    add_probes(pc, &p, prompt);
}

/* Tokens/s of one pp run (batch: one chunk of n tokens) or tg run (n
 * tokens one at a time, with the probes of pc, if any, run untimed between
 * its segments) after `depth` untimed tokens (toks[0 .. depth) fill the
 * cache, the timed ones following); negative on error. */
static double run_once(umi_context *ctx, const umi_token *toks, int depth, int n, bool batch, probe_ctx *pc) {
    umi_error err = {0};
    umi_context_reset(ctx);
    umi_status st = depth > 0 ? umi_decode(ctx, toks, depth, false, &err) : UMI_OK;
    toks += depth;
    double total = 0, segment = 0;
    for (int i = 0; st == UMI_OK && i < n; i += batch ? n : 1) {
        const int64_t t0 = umi_time_us();
        st = umi_decode(ctx, toks + i, batch ? n : 1, false, &err);
        const double s = (umi_time_us() - t0) / 1e6;
        total += s, segment += s;
        if (pc && pc->every > 0 && segment >= pc->every && i + 1 < n) probe_now(pc, false), segment = 0;
    }
    if (st) {
        cli_error("%s", err.msg);
        return -1.0;
    }
    return total > 0 ? n / total : 0.0;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *kv_type = NULL;
    int n_prompt = 512, n_gen = 128, reps = 3, threads = 0, depth = 0;
    /* This host's memory speed wanders by 10-15 % within a second; probes
     * next to half-second stretches of a run follow it there (replayed on
     * traces of a minute's decode passes, the plan's ratio to three 1.5 s
     * runs spread 0.04-0.05 with a probe after each run, 0.02-0.035 with one
     * every 0.5 s). */
    float probe_every = 0.5f;
    bool json = false, bandwidth_only = false, no_mmap = false, no_repack = false, repack_q8 = false;
    const cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, "FILE", "GGUF model (default: the bundled stories260K)"},
        {"n-prompt", 'p', OPT_INT, &n_prompt, "N", "prompt tokens per pp run (default 512; 0 = skip)"},
        {"n-gen", 'n', OPT_INT, &n_gen, "N", "generated tokens per tg run (default 128; 0 = skip)"},
        {"n-depth", 'd', OPT_INT, &depth, "D", "tokens already in the cache (untimed) before each pp and tg run (default 0)"},
        {"repetitions", 'r', OPT_INT, &reps, "N", "runs of each test (default 3)"},
        {"threads", 't', OPT_INT, &threads, "N", "threads (default: physical cores)"},
        {"kv-type", 0, OPT_STR, &kv_type, "T", CLI_KV_TYPE_HELP},
        {"json", 0, OPT_FLAG, &json, NULL, "print one JSON object"},
        {"bandwidth", 0, OPT_FLAG, &bandwidth_only, NULL, "only measure memory bandwidth"},
        {"no-mmap", 0, OPT_FLAG, &no_mmap, NULL, "read the model instead of mapping it"},
        {"no-repack", 0, OPT_FLAG, &no_repack, NULL, CLI_NO_REPACK_HELP},
        {"repack-q8", 0, OPT_FLAG, &repack_q8, NULL, CLI_REPACK_Q8_HELP},
        {"probe-every", 0, OPT_FLOAT, &probe_every, "S",
         "seconds a tg run decodes between two probes of the plan check (default 0.5; 0 = only between runs)"},
    };
    const cli_cmd cmd = {"umi bench [-m MODEL] [-p 512] [-n 128] [-d 0] [-r 3] [-t N] [--kv-type T] [--json] [--bandwidth]",
                         "Measure prompt (pp) and generation (tg) tokens/s and the decode roofline.",
                         opts, (int)(sizeof opts / sizeof *opts), NULL, NULL};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (reps < 1 || n_prompt < 0 || n_gen < 0 || depth < 0 || !(probe_every >= 0)) {
        cli_error("-r must be at least 1 and -p/-n/-d/--probe-every not negative");
        return EXIT_USAGE;
    }
    if (threads <= 0) threads = umi_cpu_physical_cores();
    if (bandwidth_only) {
        const double bw = umi_measure_bandwidth(threads, (size_t)256 << 20);
        if (json) printf("{\"bandwidth_gbps\": %.2f, \"threads\": %d}\n", bw, threads);
        else printf("memory bandwidth: %.1f GB/s (%d threads, streaming read)\n", bw, threads);
        return bw > 0 ? EXIT_OK : EXIT_RUNTIME;
    }
    if (!model) model = cli_default_model();
    /* The bandwidth probe and the plan run in a child process, so their
     * buffers never count in this one's peak RSS. */
    const int64_t ctx_want = (int64_t)depth + (n_prompt > n_gen ? n_prompt : n_gen) + 1;
    if (ctx_want > UMI_MAX_CTX) {
        cli_error("-d plus -p/-n make a context of %lld tokens, larger than umi supports (%d)", (long long)ctx_want,
                  UMI_MAX_CTX);
        return EXIT_USAGE;
    }
    const int n_ctx = (int)ctx_want;
    /* the prompt's batch; a depth alone is filled in the default chunks */
    const int n_batch = n_prompt > 0 ? n_prompt : depth > 0 ? 512 : 1;
    probes pr;
    run_probes(model, n_ctx, n_batch, threads, kv_type, no_mmap, false, &pr);
    const umi_plan_result plan = pr.plan;
    umi_model *m = NULL;
    umi_context *ctx = NULL;
    const int64_t t_load = umi_time_us();
    if ((rc = cli_load_model(model, !no_mmap, !no_repack, repack_q8, false, &m))) return rc;
    if ((rc = cli_make_context(m, n_ctx, n_batch, threads, kv_type, &ctx))) {
        umi_model_free(m);
        return rc;
    }
    const double load_ms = (umi_time_us() - t_load) / 1e3;
    umi_model_info info;
    umi_model_get_info(m, &info);
    const int n_toks = n_ctx;
    umi_token *toks = malloc((size_t)n_toks * sizeof *toks);
    double *pp = calloc((size_t)reps, sizeof *pp), *tg = calloc((size_t)reps, sizeof *tg);
    if (!toks || !pp || !tg) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    uint64_t s = 42; /* random but fixed tokens, like llama-bench */
    for (int i = 0; i < n_toks; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        toks[i] = (umi_token)((s >> 33) % (uint64_t)info.n_vocab);
    }
    if (n_prompt > 0) run_once(ctx, toks, 0, n_prompt < 16 ? n_prompt : 16, true, NULL); /* warm-up */
    if (n_gen > 0) run_once(ctx, toks, 0, 4, false, NULL);
    /* This host's memory bandwidth, and the CPU time it gives a VM, swing
     * within seconds: the probes run again after every repetition (the
     * prompt rates too, before the next pp run) and within long tg
     * runs (the bandwidth and decode rates), and the checks of tg, pp (and
     * the roofline) use them all, as the runs' time lies between those
     * moments. */
    probe_ctx pc = {.model = model, .kv_type = kv_type, .n_ctx = n_ctx, .n_batch = n_batch, .threads = threads,
                    .depth = depth, .n_gen = n_gen, .no_mmap = no_mmap, .every = probe_every};
    add_probes(&pc, &pr, true);
    for (int r = 0; r < reps; r++) {
        if (n_prompt > 0 && (pp[r] = run_once(ctx, toks, depth, n_prompt, true, NULL)) < 0) { rc = EXIT_RUNTIME; goto done; }
        if (n_gen > 0 && (tg[r] = run_once(ctx, toks, depth, n_gen, false, &pc)) < 0) { rc = EXIT_RUNTIME; goto done; }
        if (n_gen > 0 || n_prompt > 0) probe_now(&pc, n_prompt > 0 && r + 1 < reps); /* prompt: for the next pp */
    }
    const probe_sum ps = pc.sum;
    const stats sp = summarize(pp, reps), sg = summarize(tg, reps);
    const double rss = peak_rss_bytes();
    const double bw = ps.n_bw > 0 ? ps.bw / ps.n_bw : pr.bw;
    const double plan_tg = ps.n_tg > 0 ? ps.n_tg / ps.tg_s : 0; /* mean time per token */
    const double plan_pp = ps.n_pp > 0 ? ps.n_pp / ps.pp_s : 0;
    const double bpt = (double)info.weight_bytes_per_token;
    const double roof = bw > 0 && n_gen > 0 ? 100.0 * sg.mean * bpt / (bw * 1e9) : 0.0;
    const char *kv_name = plan.kv_type ? plan.kv_type : kv_type ? kv_type : "f16";
    if (json) {
        printf("{\"model\": \"%s\", \"kv_type\": \"%s\", \"plan_kv_bytes\": %llu, \"threads\": %d, \"cpu\": \"%s\", \"load_ms\": %.1f, "
               "\"n_prompt\": %d, \"n_gen\": %d, \"n_depth\": %d, \"repetitions\": %d, \"pp_tps\": %.2f, "
               "\"pp_tps_sd\": %.2f, \"tg_tps\": %.2f, \"tg_tps_sd\": %.2f, \"bytes_per_token\": %.0f, "
               "\"bandwidth_gbps\": %.2f, \"roofline_pct\": %.1f, \"peak_rss_bytes\": %.0f, "
               "\"plan_total_bytes\": %llu, \"plan_tg_tps\": %.2f, \"plan_pp_tps\": %.2f, \"plan_probes\": %d}\n",
               model, kv_name, (unsigned long long)plan.kv_bytes, threads, info.cpu_level, load_ms, n_prompt,
               n_gen, depth, reps, sp.mean, sp.sd, sg.mean, sg.sd, bpt, bw, roof, rss,
               (unsigned long long)plan.total_bytes, plan_tg, plan_pp, pc.n_probes);
    } else {
        printf("model       %s (%s, %.2f GiB)\n", model, info.arch, info.file_bytes / 1073741824.0);
        printf("threads     %d, kernels %s, KV cache %s\n", threads, info.cpu_level, kv_name);
        char at[32] = "";
        if (depth > 0) snprintf(at, sizeof at, " @ d%d", depth);
        if (n_prompt > 0) printf("pp%-8d  %.2f ± %.2f tokens/s%s\n", n_prompt, sp.mean, sp.sd, at);
        if (n_gen > 0) printf("tg%-8d  %.2f ± %.2f tokens/s%s\n", n_gen, sg.mean, sg.sd, at);
        printf("weights     %.1f MiB read per generated token\n", bpt / 1048576.0);
        printf("bandwidth   %.1f GB/s measured; tg at %.1f %% of the roofline\n", bw, roof);
        const double mib = 1048576.0;
        printf("memory      %.1f MiB peak RSS; umi plan predicted %.1f MiB\n", rss / mib,
               plan.total_bytes / mib);
        if (n_gen > 0 && n_prompt > 0)
            printf("plan        predicted tg %.2f tokens/s, pp %.2f tokens/s (probed at %d moments)\n", plan_tg,
                   plan_pp, pc.n_probes);
        else if (n_gen > 0 || n_prompt > 0)
            printf("plan        predicted %s %.2f tokens/s (probed at %d moments)\n", n_gen > 0 ? "tg" : "pp",
                   n_gen > 0 ? plan_tg : plan_pp, pc.n_probes);
    }
done:
    free(pp);
    free(tg);
    free(toks);
    umi_context_free(ctx);
    umi_model_free(m);
    return rc;
}
