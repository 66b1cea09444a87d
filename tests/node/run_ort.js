#!/usr/bin/env node
// Runs ONNX models with onnxruntime-node (from tests/node/node_modules) on raw
// float32 inputs and compares outputs. Used by tests/integration/codec_*.sh.
//
//   node tests/node/run_ort.js MODEL.onnx --input X.f32 --shape 4,3,4,4 [--type float|double|float16]
//        [--same OTHER.onnx]            outputs must be bit-identical to OTHER's
//        [--close REF.f32 --rtol R]     |out - ref| <= R * max|ref row| for every entry
//        [--differ REF.f32]             some output must differ from REF by more than 1e-4 relative
//   node tests/node/run_ort.js --jobs JOBS.jsonl
//        one job per line: {"model", "input", "shape": [..], "type", "same", "close", "rtol", "differ"}
// Prints one line per comparison; exit 0 when every comparison holds, 1 otherwise.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

function parseArgs(argv) {
  if (argv[0] === '--jobs') {
    return fs.readFileSync(argv[1], 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  }
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--input') a.input = v();
    else if (k === '--shape') a.shape = v().split(',').map(Number);
    else if (k === '--type') a.type = v();
    else if (k === '--same') a.same = v();
    else if (k === '--close') a.close = v();
    else if (k === '--differ') a.differ = v();
    else if (k === '--rtol') a.rtol = Number(v());
    else if (!a.model) a.model = k;
    else throw new Error(`unexpected argument ${k}`);
  }
  return [a];
}

function readF32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

// float32 -> IEEE half bits, round to nearest even (inputs only; no subnormal care needed beyond correctness).
function toHalf(f) {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, f);
  const u = buf.getUint32(0);
  const sign = (u >>> 16) & 0x8000, abs = u & 0x7fffffff;
  if (abs >= 0x7f800000) return sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0);
  if (abs >= 0x477ff000) return sign | 0x7c00;
  if (abs < 0x38800000) return sign | Math.round(Math.abs(f) * 2 ** 24);   // subnormal; ties are rare here
  let h = ((((abs >>> 23) - 112) << 10) | ((abs >>> 13) & 0x3ff)) >>> 0;
  const rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}

function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

function inputTensor(type, x, shape) {
  if (type === 'double') return new ort.Tensor('float64', Float64Array.from(x), shape);
  if (type === 'float16') return new ort.Tensor('float16', Uint16Array.from(x, toHalf), shape);
  return new ort.Tensor('float32', Float32Array.from(x), shape);
}

async function run(model, a, x) {
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const feeds = { [session.inputNames[0]]: inputTensor(a.type, x, a.shape) };
  const out = (await session.run(feeds))[session.outputNames[0]];
  const values = a.type === 'float16' ? Array.from(out.data, fromHalf) : Array.from(out.data);
  return { out, values };
}

function bytesOf(t) {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

// Largest |a - ref| / max|ref row| over all entries.
function relError(values, ref, rowLen) {
  let worst = 0;
  for (let r = 0; r * rowLen < ref.length; r++) {
    let scale = 0;
    for (let j = 0; j < rowLen; j++) scale = Math.max(scale, Math.abs(ref[r * rowLen + j]));
    for (let j = 0; j < rowLen; j++) {
      const e = Math.abs(values[r * rowLen + j] - ref[r * rowLen + j]) / (scale || 1);
      worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
    }
  }
  return worst;
}

// Runs one job; returns whether every comparison it asks for holds.
async function runJob(a) {
  if (!a.model || !a.input || !a.shape) throw new Error('a job needs model, input and shape');
  a.type = a.type || 'float';
  a.rtol = a.rtol || 1e-5;
  const x = readF32(a.input);
  const expect = a.shape.reduce((p, d) => p * d, 1);
  if (x.length !== expect) throw new Error(`${a.input} has ${x.length} floats, shape needs ${expect}`);
  const { out, values } = await run(a.model, a, x);
  const rowLen = values.length / a.shape[0];
  const name = path.basename(a.model);
  let ok = true;
  if (a.same) {
    const other = await run(a.same, a, x);
    const same = Buffer.compare(bytesOf(out), bytesOf(other.out)) === 0;
    console.log(`${name}: same as ${path.basename(a.same)}: ${same ? 'bit-identical' : 'DIFFERENT'} (${values.length} outputs)`);
    ok = ok && same;
  }
  for (const [file, mode] of [[a.close, 'close to'], [a.differ, 'differs from']]) {
    if (!file) continue;
    const ref = readF32(file);
    if (ref.length !== values.length) throw new Error(`${file} has ${ref.length} floats, the model gave ${values.length}`);
    const err = relError(values, ref, rowLen);
    const pass = mode === 'close to' ? err <= a.rtol : err > 1e-4;
    console.log(`${name}: ${mode} ${path.basename(file)}: max relative error ${err.toExponential(3)}` +
                `${mode === 'close to' ? ` (rtol ${a.rtol})` : ''} ${pass ? 'ok' : 'FAIL'}`);
    ok = ok && pass;
  }
  return ok;
}

async function main() {
  let ok = true;
  for (const job of parseArgs(process.argv.slice(2))) ok = (await runJob(job)) && ok;
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { console.error(`run_ort: ${e.message}`); process.exit(2); });
