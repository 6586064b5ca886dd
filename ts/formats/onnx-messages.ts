/**
 * The fields of the ONNX messages ts/formats/onnx-proto.ts reads and writes: onnx.proto's names
 * in protobufjs's camelCase. int64 fields decode as Long objects, or numbers where they fit.
 */
/** long.js's Long, as protobufjs gives int64 values that do not fit a number. */
export interface Long {
  low: number;
  high: number;
  unsigned?: boolean;
}
export type Int64 = number | Long;
export interface IStringStringEntryProto {
  key?: string | null;
  value?: string | null;
}
export interface ITensorProto {
  name?: string | null;
  dims?: Int64[] | null;
  dataType?: number | null;
  dataLocation?: number | null;
  externalData?: IStringStringEntryProto[] | null;
  segment?: object | null;
  rawData?: Uint8Array | null;
  floatData?: number[] | null;
  doubleData?: number[] | null;
  int32Data?: number[] | null;
  int64Data?: Int64[] | null;
}
export interface IAttributeProto {
  name?: string | null;
  type?: number | null;
  f?: number | null;
  i?: Int64 | null;
  s?: Uint8Array | null;
  t?: ITensorProto | null;
  floats?: number[] | null;
  ints?: Int64[] | null;
  strings?: Uint8Array[] | null;
  /** A GRAPH attribute (a Loop's body). */
  g?: IGraphProto | null;
}
export interface IValueInfoProto {
  name?: string | null;
  type?: {
    tensorType?: {
      elemType?: number | null;
      shape?: { dim?: { dimValue?: Int64 | null; dimParam?: string | null }[] | null } | null;
    } | null;
  } | null;
}
export interface INodeProto {
  name?: string | null;
  opType?: string | null;
  domain?: string | null;
  input?: string[] | null;
  output?: string[] | null;
  attribute?: IAttributeProto[] | null;
}
export interface IGraphProto {
  name?: string | null;
  node?: INodeProto[] | null;
  initializer?: ITensorProto[] | null;
  sparseInitializer?: object[] | null;
  input?: IValueInfoProto[] | null;
  output?: IValueInfoProto[] | null;
}
export interface IModelProto {
  irVersion?: Int64 | null;
  producerName?: string | null;
  producerVersion?: string | null;
  docString?: string | null;
  opsetImport?: { domain?: string | null; version?: Int64 | null }[] | null;
  metadataProps?: IStringStringEntryProto[] | null;
  graph?: IGraphProto | null;
}
export type ModelProto = IModelProto;
/** A decoded message: protobufjs gives every scalar and repeated field its default. */
export type Decoded<T> = { [K in keyof T]-?: NonNullable<T[K]> };
export type TensorProto = Decoded<ITensorProto>;
export type NodeProto = Decoded<Omit<INodeProto, 'attribute'>> & {
  attribute: Decoded<IAttributeProto>[];
};
export type ValueInfoProto = Decoded<IValueInfoProto>;
