/**
 * `gru-simd convert IN OUT`: loads IN in its format (detected) and saves it in OUT's (--to, or
 * OUT's extension: *.safetensors is gru-simd's own file, *.json or a directory a TensorFlow.js
 * LayersModel). What the target framework cannot run is said on stderr; the file is written.
 */
import { FORMATS, detectFormat, outputFormat, resolveInput } from './formats.js';
import { progress } from './progress.js';
import { BACKEND_HELP, COMMON_OPTIONS, UsageError, backendOf, parse } from './usage.js';

const writable = () => FORMATS.filter((f) => f.save !== undefined).map((f) => f.name);

export const CONVERT_HELP = `Usage: gru-simd convert IN OUT [--to FORMAT]

Loads the model in IN (its format detected from its content) and writes it to OUT.

OUT's format: --to, else OUT's extension: *.safetensors is gru-simd's own file (gru-simd),
*.json or a directory (written if missing) a TensorFlow.js LayersModel (tfjs: model.json and
group1-shard1of1.bin), *.keras a Keras 3 file (keras), *.onnx an ONNX graph (onnx). A model tfjs
cannot run (a reset_after GRU) is written with a warning.

Options:
  --to FORMAT        ${writable().join(' or ')}
  -q, --quiet        no progress on stderr
${BACKEND_HELP}`;

export async function convert(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    'convert',
    argv,
    { ...COMMON_OPTIONS, to: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
    { min: 2, max: 2, names: 'IN and OUT' },
  );
  if (values.help) {
    process.stdout.write(`${CONVERT_HELP}\n`);
    return;
  }
  const [input, output] = positionals as [string, string];
  const to = values.to as string | undefined;
  const target = outputFormat(output, to);
  if (target === undefined)
    throw new UsageError(
      'convert',
      to === undefined
        ? `cannot tell OUT's format from ${JSON.stringify(output)}: give --to (${writable().join(', ')}) or an extension (.safetensors, .json, .keras, .onnx)`
        : `--to must be ${writable().join(' or ')}, got ${JSON.stringify(to)}`,
    );
  const say = progress(values.quiet === true);
  const file = resolveInput(input);
  const source = await detectFormat(file);
  if (source.load === undefined)
    throw new UsageError(
      'convert',
      `${input} is a ${source.name} file, which holds no model architecture to convert (run 'gru-simd inspect ${input}')`,
    );
  const backend = await backendOf(values.backend);
  say.note(`loading ${file} (${source.name})`);
  const model = await source.load(file, backend);
  try {
    say.note(`writing ${output} (${target.name})`);
    const warnings = await target.save!(model, output);
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    say.note(
      `converted ${source.name} -> ${target.name}: ${model.countParams().toLocaleString('en-US')} parameters`,
    );
  } finally {
    model.dispose();
  }
}
