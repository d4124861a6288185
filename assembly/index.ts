// simdnet kernels: one source, two builds (SIMD128 and scalar), chosen at
// compile time by ASC_FEATURE_SIMD. Every kernel takes byte offsets into this
// module's memory, outputs first, then inputs, weights and sizes; the
// TypeScript side plans all buffers once.
export { heap_base, set_workspace, workspace_bytes_needed } from "./workspace";
export { set_barrier_spins, BARRIER_SECONDS } from "./threads";
export { gemm, gemm_naive, GEMM_TRANS_A, GEMM_TRANS_B, GEMM_ACCUMULATE } from "./gemm";
export { few_product, few_product_t, few_lane_sums, few_lane_totals } from "./few";
export {
  conv3x3_forward, conv3x3_backward, conv3x3_workspace,
  conv3x3_batchnorm_forward_train, conv3x3_batchnorm_forward_eval, conv3x3_batchnorm_backward,
  im2col_3x3, col2im_3x3,
} from "./conv";
export {
  CONV_IM2COL, CONV_WINOGRAD, CONV_DIRECT, conv2d_supports, conv2d_algorithm, conv2d_workspace, conv2d_forward, conv2d_relu_maxpool_forward, conv2d_relu_maxpool_backward, conv2d_pools_in_registers, conv2d_backward, im2col, col2im,
} from "./conv2d";
export {
  relu_maxpool2x2_forward, relu_maxpool2x2_backward, maxpool2d_forward, maxpool2d_backward,
  avgpool2d_forward, avgpool2d_backward, global_avgpool_forward, global_avgpool_backward,
} from "./pool";
export {
  batchnorm_channels_forward_train, batchnorm_channels_forward_eval, batchnorm_channels_backward,
  batchnorm_features_forward_train, batchnorm_features_forward_eval, batchnorm_features_backward,
} from "./batchnorm";
export {
  bias_add, bias_backward, relu_forward, relu_backward, pair_concat_forward, pair_concat_backward,
  leaky_relu_forward, leaky_relu_backward, sigmoid_forward, sigmoid_backward, tanh_forward, tanh_backward,
  dropout_forward, dropout_backward,
} from "./activation";
export { bce_with_logits, softmax_cross_entropy, mse_loss } from "./loss";
export { adam_step, sgd_step } from "./optim";

/** 1 in the SIMD build, 0 in the scalar build. */
export function simd_build(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
