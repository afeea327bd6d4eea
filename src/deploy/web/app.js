// The tlcv web page: classifies dropped, pasted or chosen images, and the webcam where the
// browser allows it, with the exported model in onnxruntime-web, all inside the browser. The
// export inlines this script in index.html, with an import map that resolves its imports to
// data: URLs, and the wasm and (up to a size) the model in the page's data, so the page loads
// nothing from anywhere and works opened from disk (file://) as well as served.
import * as ort from 'onnxruntime-web/wasm';
import { readMetadata, toModelInput } from './preprocess.js';

const TOP_K = 5;
const $ = (id) => document.getElementById(id);

function setStatus(text, state) {
  $('status').textContent = text;
  $('status').dataset.state = state;
}

function showBars(top) {
  $('bars').replaceChildren(
    ...top.map(({ name, p }) => {
      const li = document.createElement('li');
      li.dataset.class = name;
      li.innerHTML = '<div class="label"><span></span><span></span></div><div class="track"><div class="fill"></div></div>';
      li.querySelector('.label span').textContent = name;
      li.querySelector('.label span:last-child').textContent = `${(p * 100).toFixed(1)}%`;
      li.querySelector('.fill').style.width = `${(p * 100).toFixed(1)}%`;
      return li;
    }),
  );
  $('current').hidden = false;
}

/** The "unknown" line above the bars: shown when the image belongs to none of the classes. */
function showUnknown(unknown) {
  $('unknown').hidden = !unknown;
}

/** Pixels of a drawable (image bitmap or video frame) at its own size. */
function rgbaOf(source, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0);
  return ctx.getImageData(0, 0, width, height).data;
}

/** Bytes from base64 text, decoded by the browser (data: URLs load from file:// pages too). */
async function bytesOf(base64, gzipped) {
  const body = (await fetch(`data:application/octet-stream;base64,${base64}`)).body;
  return new Response(gzipped ? body.pipeThrough(new DecompressionStream('gzip')) : body).arrayBuffer();
}

const SERVE_HINT = 'serve this folder (for example run python3 -m http.server 8000 in it) and open http://localhost:8000/';

async function start() {
  const data = JSON.parse($('tlcv-data').textContent);
  const meta = readMetadata(data.metadata);
  // A calibrated model's threshold (metadata_props unknown_threshold, on the largest of the
  // graph's probabilities, which the temperature already scaled): below it the image is unknown,
  // as tlcv predict and serve answer.
  const unknownBelow = meta.unknown_threshold === undefined ? null : Number(meta.unknown_threshold);
  const isUnknown = (ranked) => unknownBelow !== null && ranked[0].p < unknownBelow;
  $('model-name').textContent = `${meta.model} · ${meta.classes.length} classes`;
  if (data.model === null && location.protocol === 'file:') {
    const mb = (data.modelBytes / 1048576).toFixed(0);
    setStatus(`This model (${mb} MB) is too large to open from disk: ${SERVE_HINT}`, 'error');
    return;
  }
  ort.env.wasm.wasmBinary = await bytesOf(data.wasm, true);
  // One thread: more would start workers from onnxruntime's script file, which this page has not.
  ort.env.wasm.numThreads = 1;
  const model = data.model !== null ? await bytesOf(data.model, false) : await fetchModel();
  const session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ['wasm'] });
  const [channels, h, w] = meta.input_size;

  async function classifyPixels(rgba, width, height) {
    const input = new ort.Tensor('float32', toModelInput(rgba, width, height, meta), [1, channels, h, w]);
    const out = await session.run({ image: input });
    const probs = Array.from(out.probabilities.data);
    input.dispose?.();
    return probs.map((p, i) => ({ name: meta.classes[i], p })).sort((a, b) => b.p - a.p);
  }

  // One image at a time, in the order given, so the history reads in that order.
  let queue = Promise.resolve();
  function classifyFiles(files) {
    for (const file of files) {
      queue = queue.then(async () => {
        try {
          const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
          const ranked = await classifyPixels(rgbaOf(bitmap, bitmap.width, bitmap.height), bitmap.width, bitmap.height);
          bitmap.close();
          $('video').hidden = true;
          $('preview').hidden = false;
          $('preview').src = URL.createObjectURL(file);
          showBars(ranked.slice(0, TOP_K));
          showUnknown(isUnknown(ranked));
          const li = document.createElement('li');
          const unknown = isUnknown(ranked);
          Object.assign(li.dataset, { file: file.name, top1: ranked[0].name, probability: String(ranked[0].p), ...(unknownBelow === null ? {} : { unknown: String(unknown) }) });
          li.textContent = `${file.name}: ${unknown ? `unknown (nearest ${ranked[0].name}, ` : `${ranked[0].name} (`}${(ranked[0].p * 100).toFixed(1)}%)`;
          $('history').append(li);
          setStatus(`Classified ${file.name}.`, 'ready');
        } catch (e) {
          const li = document.createElement('li');
          Object.assign(li.dataset, { file: file.name, error: 'true' });
          li.textContent = `${file.name}: not an image this browser can read`;
          $('history').append(li);
          setStatus(`${file.name}: not an image this browser can read (${e.message})`, 'error');
        }
      });
    }
  }

  const imagesIn = (list) => Array.from(list ?? []).filter((f) => f.kind === undefined || f.kind === 'file').map((f) => (f.getAsFile ? f.getAsFile() : f)).filter(Boolean);
  $('files').addEventListener('change', (e) => classifyFiles(imagesIn(e.target.files)));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    classifyFiles(imagesIn(e.dataTransfer.files));
  });
  document.addEventListener('paste', (e) => classifyFiles(imagesIn(e.clipboardData?.items)));

  // The webcam: offered only where the browser exposes it (a secure context such as localhost).
  if (navigator.mediaDevices?.getUserMedia) {
    const button = $('camera');
    button.hidden = false;
    let stream = null;
    button.addEventListener('click', async () => {
      if (stream !== null) {
        stream.getTracks().forEach((t) => t.stop());
        stream = null;
        button.textContent = 'Start the camera';
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: true });
      } catch (e) {
        setStatus(`The camera is not available: ${e.message}`, 'error');
        return;
      }
      const video = $('video');
      video.srcObject = stream;
      await video.play();
      video.hidden = false;
      $('preview').hidden = true;
      button.textContent = 'Stop the camera';
      const live = stream;
      while (stream === live) {
        if (video.videoWidth > 0) {
          const ranked = await classifyPixels(rgbaOf(video, video.videoWidth, video.videoHeight), video.videoWidth, video.videoHeight);
          showBars(ranked.slice(0, TOP_K));
          showUnknown(isUnknown(ranked));
        }
        await new Promise((r) => requestAnimationFrame(r));
      }
      video.hidden = true;
    });
  }
  setStatus('Ready: drop, paste or choose images.', 'ready');
}

async function fetchModel() {
  const res = await fetch('model.onnx');
  if (!res.ok) throw new Error(`model.onnx: ${res.status} ${res.statusText}; it belongs beside index.html`);
  return res.arrayBuffer();
}

start().catch((e) => setStatus(`The model did not load: ${e.message}${location.protocol === 'file:' ? `; ${SERVE_HINT}` : ''}`, 'error'));
