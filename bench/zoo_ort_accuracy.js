// Clean test accuracy of zoo entries in onnxruntime-node, compared with the zoo's record.
//   node bench/zoo_ort_accuracy.js ZOO INDEX.jsonl X.f32 Y.u8
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'tests', 'node', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [zoo, index, xf, yf] = process.argv.slice(2);
  const xb = fs.readFileSync(xf);
  const x = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
  const y = fs.readFileSync(yf);
  const n = y.length;
  let worst = 0;
  for (const line of fs.readFileSync(index, 'utf8').split('\n').filter(Boolean)) {
    const e = JSON.parse(line);
    const s = await ort.InferenceSession.create(path.join(zoo, e.file));
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [n, 3072]) });
    const logits = out[s.outputNames[0]].data;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if (logits[i * 10 + k] > logits[i * 10 + best]) best = k;
      hits += best === y[i];
    }
    const acc = hits / n, diff = Math.abs(acc - e.clean_test_acc);
    worst = Math.max(worst, diff);
    console.log(`entry ${e.id} [${e.widths}] recorded ${e.clean_test_acc.toFixed(4)} onnxruntime ${acc.toFixed(4)}`);
  }
  console.log(`largest difference: ${(100 * worst).toFixed(2)} points`);
  process.exit(worst <= 0.0005 ? 0 : 1);   // at most 5 of 10,000 images may flip on float rounding
}
main().catch((e) => { console.error(e); process.exit(1); });
