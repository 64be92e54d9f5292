/* llama: Llama 1/2/3.x, Mistral, Mixtral, TinyStories and other llama-layout
 * decoders. RMSNorm, rotary embeddings on adjacent pairs, GQA, SwiGLU
 * feed-forward; output tied to token_embd when output.weight is absent;
 * Llama 3.1's rope_freqs.weight divides each rotary frequency. With
 * expert_count > 0 (Mixtral) every FFN is a mixture of experts: a softmax
 * router picks expert_used_count experts per token and their outputs are
 * summed with the chosen probabilities renormalized to sum 1. */
#include "model/model.h"

static umi_status llama_load(umi_model *m, umi_error *err) {
    m->hp.gating = UMI_GATING_SOFTMAX;
    m->hp.expert_weights_norm = true;
    return umi_model_bind_llama_like(m, err);
}

const umi_arch umi_arch_llama = {.name = "llama", .rope_type = UMI_ROPE_NORM, .load = llama_load};
