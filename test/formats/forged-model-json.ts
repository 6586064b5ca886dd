/** The parts of a tfjs model.json the tests forge (test/formats/, test/fuzz/ops-tfjs-model.ts). */
export interface ForgedLayer {
  class_name: unknown;
  config: Record<string, unknown>;
  inbound_nodes?: unknown;
}

export interface ForgedModelJson {
  format?: unknown;
  modelTopology: {
    class_name: unknown;
    config: { layers: ForgedLayer[]; [key: string]: unknown };
    [key: string]: unknown;
  };
  weightsManifest: {
    paths: unknown[];
    weights: { name: unknown; shape: unknown[]; dtype: unknown; quantization?: unknown }[];
  }[];
  [key: string]: unknown;
}
