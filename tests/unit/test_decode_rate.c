/* The rate probes (src/infer/rate.c) that umi plan's "this" profile
 * divides each weight type's work by: the decode probe runs the engine's
 * single-token product on every type with kernels, in the layout the loader
 * gives it (or the file's), the prompt probe the same products with a
 * chunk of tokens; both refuse ids without kernels. Speeds are not checked
 * here (issue 6's comparison with umi bench lives in BENCHMARKS.md), only
 * that a rate comes back and that it is a plausible number. */
#include "testkit.h"
#include "infer/rate.h"
#include "quant/quant.h"
#include "umi.h"

int main(void) {
    const uint32_t types[] = {UMI_TYPE_Q4_0, UMI_TYPE_Q8_0, UMI_TYPE_Q4_K, UMI_TYPE_Q6_K,
                              UMI_TYPE_IQ4_NL, UMI_TYPE_F16, UMI_TYPE_F32};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        const double gbps = umi_measure_decode_rate(2, (int)types[i], (size_t)8 << 20);
        check(gbps > 0.01 && gbps < 1e4, "%s: decode rate %.3f GB/s", umi_type_name((int)types[i]), gbps);
    }
    check(umi_measure_decode_rate(1, 4, (size_t)1 << 20) < 0, "type id 4 (unassigned) has no rate");
    check(umi_measure_decode_rate(1, -1, (size_t)1 << 20) < 0, "a negative type id has no rate");
    check(umi_measure_decode_rate(1, 1000, (size_t)1 << 20) < 0, "an unknown type id has no rate");
    /* small matrices: the scalar kernels of the generic pass run them too */
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        for (int file = 0; file < 2; file++) {
            const double gflops = umi_measure_prompt_rate_as(2, (int)types[i], file, (size_t)256 << 10);
            check(gflops > 0.01 && gflops < 1e5, "%s%s: prompt rate %.3f GFLOP/s", umi_type_name((int)types[i]),
                  file ? " (file layout)" : "", gflops);
        }
    check(umi_measure_prompt_rate_as(1, 4, false, (size_t)256 << 10) < 0, "type id 4 has no prompt rate");
    check(umi_measure_prompt_rate_as(1, -1, false, 0) < 0, "a negative type id has no prompt rate");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
