/**
 * What decoding an ONNX file would allocate, known before anything is decoded.
 *
 * protobufjs makes a JavaScript object per message, an array per repeated field, a Long per
 * int64 value and a string per string field. A file dense in tiny messages decodes to far more
 * than its size: an empty NodeProto is 4 bytes on the wire and ~235 bytes of heap, a packed
 * int64 is 1 byte on the wire and a ~58-byte Long. So before protobufjs decodes a file,
 * chargeDecodedSize walks it with protobufjs's own Reader (tags, lengths, skips: no values
 * made), following the ONNX schema's fields by number (the same reflection the decoder is made
 * from), and charges an estimate of every object the decode would make to the file's
 * ByteBudget (readingBudget in onnx-proto.ts: twice the file's size plus 2 MiB). Past the
 * budget it refuses with ERR_GRU_FORMAT naming the field, and messages nested deeper than
 * MAX_DEPTH (subgraphs in attributes, nested TypeProtos) are refused too.
 *
 * The costs below are upper bounds of what Node 20's V8 (64-bit) retains, measured by decoding
 * files of 20,000 copies of each message kind (test/onnx-fuzz.test.ts checks that the estimate
 * stays above what decoding really retains on the fuzz corpus):
 *   message         48 bytes + 48 per repeated field of its type (the empty arrays its
 *                   constructor makes): NodeProto measured 235, AttributeProto 311,
 *                   TensorProto 411, GraphProto 354, ValueInfoProto 68, Dimension 41
 *   repeated field  144 for its first element (the array's first backing store, 17 slots),
 *                   then 24 per message or string element
 *   int64 value     80 (a Long and its slot; measured 58 to 69 per element of a packed field)
 *   other scalar    16 (a slot of a growing array; measured 9 to 13)
 *   string          40 + 2 per UTF-8 byte (a two-byte string at worst; measured 39 for one char)
 *   bytes           128 (a view on the file's buffer, no copy; measured 116 for a Buffer view)
 * plus, per message, what decodeOnnx (onnx-proto.ts) makes of it: EXTRA_COST.
 */
import protobuf from 'protobufjs';
import { GruError } from '../errors.js';

/** What the walk charges: onnx-proto.ts's ByteBudget. */
export interface Budget {
  take(bytes: number, what: string): void;
}

function formatError(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

const MESSAGE_COST = 48;
const REPEATED_FIELD_COST = 48;
const LONG_COST = 80;
const SCALAR_COST = 16;
/** A repeated field's first element: the array's first backing store (17 slots). */
const FIRST_ELEMENT_COST = 144;
/** A slot for a message or string of a repeated field (and decodeOnnx's copy of the array). */
const SLOT_COST = 24;
const STRING_COST = 40;
const BYTES_COST = 128;
/**
 * What decodeOnnx adds per message of these types: an OnnxNode with its Map and copied input /
 * output arrays, an attribute's Map entry and description, an OnnxTensor's closures.
 */
const EXTRA_COST: Record<string, number> = {
  'onnx.NodeProto': 384,
  'onnx.AttributeProto': 128,
  'onnx.TensorProto': 1280,
  'onnx.ValueInfoProto': 160,
  'onnx.TensorShapeProto.Dimension': 16,
};

/** Deeper nesting is refused: ONNX models nest a few levels (subgraphs of If / Loop, types). */
export const MAX_DEPTH = 32;

/** What the walk needs of one field of the schema. */
interface FieldPlan {
  name: string;
  repeated: boolean;
  /** The nested message's plan, for message fields. */
  message: MessagePlan | null;
  /** The protobufjs scalar type ('int64', 'float', 'string', ...); enums are 'int32'. */
  scalar: string;
  /** The scalar's wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  wire: number;
  /** Whether a repeated scalar may come packed (a length-delimited run). */
  packable: boolean;
}

/** protobufjs's tables of scalar types: their wire types, the packable ones, the 64-bit ones. */
const WIRE = protobuf.types.basic as Record<string, number | undefined>;
const PACKABLE = protobuf.types.packed as Record<string, number | undefined>;
const LONG = protobuf.types.long as Record<string, number | undefined>;

interface MessagePlan {
  name: string;
  /** Bytes one decoded instance takes before its fields are set. */
  cost: number;
  fields: Map<number, FieldPlan>;
}

const plans = new Map<protobuf.Type, MessagePlan>();

/** The plan of a message type, made once from protobufjs's reflection (fields by number). */
function planOf(type: protobuf.Type): MessagePlan {
  const known = plans.get(type);
  if (known) return known;
  const name = type.fullName.replace(/^\./, '');
  const plan: MessagePlan = { name, cost: 0, fields: new Map() };
  plans.set(type, plan); // before the fields: message types refer to themselves (GraphProto)
  let repeatedFields = 0;
  for (const field of type.fieldsArray) {
    field.resolve();
    if (field.map) throw new Error(`onnx-size: map field ${name}.${field.name} is not planned`);
    if (field.repeated) repeatedFields++;
    const nested = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
    const scalar = field.resolvedType instanceof protobuf.Enum ? 'int32' : field.type;
    plan.fields.set(field.id, {
      name: field.name,
      repeated: field.repeated,
      message: nested ? planOf(nested) : null,
      scalar,
      wire: WIRE[scalar] ?? 2,
      packable: PACKABLE[scalar] !== undefined,
    });
  }
  plan.cost = MESSAGE_COST + REPEATED_FIELD_COST * repeatedFields + (EXTRA_COST[name] ?? 0);
  return plan;
}

/** Bytes of one decoded value of a scalar type, `wireBytes` long on the wire. */
function scalarCost(scalar: string, wireBytes: number): number {
  if (scalar === 'string') return STRING_COST + 2 * wireBytes;
  if (scalar === 'bytes') return BYTES_COST;
  return LONG[scalar] !== undefined ? LONG_COST : SCALAR_COST;
}

/** The walk over one buffer: the reader, the budget, the path of fields for messages. */
class SizeWalk {
  readonly #reader: protobuf.Reader;
  readonly #path: string[] = [];
  #pending = 0;
  #pendingWhat = '';

  constructor(
    bytes: Uint8Array,
    readonly budget: Budget,
  ) {
    this.#reader = protobuf.Reader.create(bytes);
  }

  /** Charges `bytes` for the field at the path (gathered, then taken from the budget). */
  #charge(bytes: number, field: string): void {
    this.#pending += bytes;
    this.#pendingWhat = field;
    if (this.#pending >= 65536) this.flush();
  }

  flush(): void {
    if (this.#pending === 0) return;
    const what = `decoding its protobuf (at ${this.#path.join('.')}${this.#pendingWhat ? `.${this.#pendingWhat}` : ''})`;
    this.budget.take(this.#pending, what);
    this.#pending = 0;
  }

  /** Walks the fields of a message of `plan` up to `end`, as protobufjs's decoder reads them. */
  message(plan: MessagePlan, end: number, depth: number): void {
    const r = this.#reader;
    if (depth > MAX_DEPTH)
      formatError(
        `not a usable ONNX file: messages nest deeper than ${MAX_DEPTH} levels (at ${this.#path.join('.')})`,
      );
    this.#charge(plan.cost, '');
    let started = 0; // bit (id % 31) set: that repeated field has its array's backing store
    while (r.pos < end) {
      const tag = r.uint32();
      const wire = tag & 7;
      const field = plan.fields.get(tag >>> 3);
      let elements: number;
      if (field === undefined) {
        r.skipType(wire); // protobufjs discards unknown fields
        elements = 0;
      } else if (field.message !== null) elements = this.#nested(field, wire, end, depth);
      else elements = this.#scalar(field, wire);
      if (r.pos > end) formatError(`a field of a ${plan.name} runs past its end`);
      if (field?.repeated && elements > 0) {
        const bit = 1 << ((tag >>> 3) % 31);
        if (!(started & bit)) this.#charge(FIRST_ELEMENT_COST, field.name);
        started |= bit;
      }
    }
  }

  /** A message field: walked with its own plan. Returns the elements it adds (0 or 1). */
  #nested(field: FieldPlan, wire: number, end: number, depth: number): number {
    const r = this.#reader;
    if (wire !== 2) {
      r.skipType(wire); // a wire type a message cannot have: protobufjs skips it
      return 0;
    }
    const length = r.uint32();
    const inner = r.pos + length;
    if (inner > end) formatError(`a ${field.message!.name} runs past its enclosing message`);
    this.flush();
    this.#path.push(field.name);
    this.message(field.message!, inner, depth + 1);
    this.flush();
    this.#path.pop();
    if (field.repeated) this.#charge(SLOT_COST, field.name);
    return 1;
  }

  /** A scalar, string or bytes field, or a packed run of scalars: the elements it adds. */
  #scalar(field: FieldPlan, wire: number): number {
    const r = this.#reader;
    if (field.repeated && field.packable && wire === 2) {
      const end = r.uint32() + r.pos;
      let count = 0;
      if (field.wire === 0)
        while (r.pos < end) {
          r.skip();
          count++;
        }
      else {
        // fixed32 / fixed64 values: protobufjs reads whole values up to the run's end
        count = Math.ceil((end - r.pos) / (field.wire === 1 ? 8 : 4));
        r.skip(end - r.pos);
      }
      if (r.pos !== end) formatError(`a packed ${field.name} runs past its end`);
      this.#charge(count * scalarCost(field.scalar, 0), field.name);
      return count;
    }
    if (wire !== field.wire) {
      r.skipType(wire); // a wire type the field cannot have: protobufjs skips it
      return 0;
    }
    const start = r.pos;
    if (wire === 2) r.skip(r.uint32());
    else r.skipType(wire);
    const cost = scalarCost(field.scalar, r.pos - start);
    this.#charge(field.repeated && wire === 2 ? cost + SLOT_COST : cost, field.name);
    return 1;
  }
}

/**
 * Charges to `budget` what decoding `bytes` as an ONNX ModelProto (protobufjs's objects and
 * decodeOnnx's) would allocate; ERR_GRU_FORMAT naming the field past the budget, or for bytes
 * that are not a protobuf, before anything is decoded.
 */
export function chargeDecodedSize(bytes: Uint8Array, budget: Budget, model: protobuf.Type): void {
  const walk = new SizeWalk(bytes, budget);
  try {
    walk.message(planOf(model), bytes.length, 0);
    walk.flush();
  } catch (e) {
    if (e instanceof GruError) throw e;
    formatError(`not a valid ONNX file: the protobuf does not decode (${(e as Error).message})`);
  }
}
