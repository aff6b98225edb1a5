// Runs the OCR peer (@gutenye/ocr-node, installed by scripts/ocr-peer.sh) on
// images, one after another in this one process, as its README shows, and
// prints one JSON line an image: {"input", "ms", "lines": [...]}.
//
//   node scripts/ocr-peer.mjs PEER_DIR MODELS_DIR IMAGE...
//
// MODELS_DIR holds the PP-OCRv4 files Sightline reads (ch_PP-OCRv4_det_infer.onnx,
// ch_PP-OCRv4_rec_infer.onnx, ppocr_keys_v1.txt), so both read with the same models.
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [peerDir, modelsDir, ...images] = process.argv.slice(2)
const require = createRequire(path.resolve(peerDir, 'package.json'))
const entry = require.resolve('@gutenye/ocr-node')
const { default: Ocr } = await import(pathToFileURL(entry).href)

const ocr = await Ocr.create({
  models: {
    detectionPath: path.join(modelsDir, 'ch_PP-OCRv4_det_infer.onnx'),
    recognitionPath: path.join(modelsDir, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionaryPath: path.join(modelsDir, 'ppocr_keys_v1.txt'),
  },
})
for (const input of images) {
  const start = performance.now()
  try {
    const lines = await ocr.detect(input)
    const ms = performance.now() - start
    process.stdout.write(`${JSON.stringify({ input, ms, lines: lines.map((l) => l.text) })}\n`)
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ input, error: String(err) })}\n`)
  }
}
