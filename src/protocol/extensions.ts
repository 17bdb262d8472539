/**
 * The protocol extensions reported in server metadata: exactly the ones
 * this server implements, in tritonserver's order.
 */
export const EXTENSIONS: string[] = [
  "classification",
  "sequence",
  "model_repository",
  "model_repository(unload_dependents)",
  "schedule_policy",
  "model_configuration",
  "binary_tensor_data",
  "parameters",
  "statistics",
];
