/** One input or output as the v2 metadata endpoints describe it (shape with -1 for variable dims). */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** The v2 model metadata answer (HTTP `GET /v2/models/<m>`, gRPC ModelMetadata). */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}
