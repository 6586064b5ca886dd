/**
 * The demo page: starts the training worker, draws what it reports (loss chart, samples,
 * backend, speed) and runs a requestAnimationFrame clock that shows the main thread is free.
 * ?backend=wasm (or the select) forces the scalar module; ?backend=wasm-simd the SIMD one,
 * ?backend=wasm-relaxed the relaxed-SIMD one.
 *
 * window.gruDemo holds the state, for the browser test (test/browser.test.ts).
 */
import type { BackendChoice, FromWorker, ToWorker } from './protocol.js';

type Ready = Extract<FromWorker, { type: 'ready' }>;

interface DemoState {
  backendChoice: BackendChoice;
  ready: Ready | null;
  step: number;
  losses: number[];
  stepsPerSecond: number;
  samples: { step: number; text: string }[];
  error: string | null;
  /** Frames drawn by the requestAnimationFrame clock. */
  frames: number;
  /** The longest gap between two frames over the last 2 s, in ms. */
  longestFrameMs: number;
}

const CHOICES: readonly BackendChoice[] = ['auto', 'wasm-relaxed', 'wasm-simd', 'wasm'];

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el;
}

function choiceFromUrl(): BackendChoice {
  const b = new URLSearchParams(location.search).get('backend');
  return CHOICES.includes(b as BackendChoice) ? (b as BackendChoice) : 'auto';
}

const state: DemoState = {
  backendChoice: choiceFromUrl(),
  ready: null,
  step: 0,
  losses: [],
  stepsPerSecond: 0,
  samples: [],
  error: null,
  frames: 0,
  longestFrameMs: 0,
};
(window as unknown as { gruDemo: DemoState }).gruDemo = state;

let worker: Worker | null = null;
let paused = false;

function send(message: ToWorker): void {
  worker?.postMessage(message);
}

function start(): void {
  worker?.terminate();
  Object.assign(state, {
    ready: null,
    step: 0,
    losses: [],
    stepsPerSecond: 0,
    samples: [],
    error: null,
  });
  paused = false;
  $('pause').textContent = 'Pause';
  $('backend').textContent = 'loading…';
  $('isa').innerHTML = '&nbsp;';
  $('samples').replaceChildren();
  $('error').hidden = true;
  scheduleChart();
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<FromWorker>) => onMessage(event.data);
  worker.onerror = (event) =>
    showError(event.message || 'the worker failed to start (see the console)');
  send({ type: 'start', backend: state.backendChoice });
}

function showError(message: string): void {
  state.error = message;
  const el = $('error');
  el.textContent = `Error: ${message}`;
  el.hidden = false;
}

function onMessage(msg: FromWorker): void {
  switch (msg.type) {
    case 'ready': {
      state.ready = msg;
      // The module it runs: relaxed SIMD / SIMD / scalar, threaded or not.
      $('backend').textContent =
        msg.info.backend + (msg.info.threadsNote === undefined ? ' + threads' : '');
      $('isa').textContent =
        `ISA ${msg.info.isa} · ${msg.info.threads} thread${msg.info.threads === 1 ? '' : 's'} · loaded in ${msg.loadMs.toFixed(0)} ms`;
      $('isa').title = msg.info.threadsNote ?? '';
      $('baseline').textContent = `unigram entropy ${msg.unigram.toFixed(3)} (no context)`;
      const c = msg.config;
      $('model').textContent =
        `Embedding ${msg.vocab}×${c.embeddingDim} → GRU ${c.hiddenSize} → Dense ${msg.vocab} · ${(msg.parameters / 1000).toFixed(1)}k parameters · ` +
        `batches of ${c.batch} × ${c.seqLen} chars from ${(msg.textChars / 1000).toFixed(0)}k chars · Adam lr ${c.lr}`;
      break;
    }
    case 'progress': {
      state.step = msg.step;
      state.losses.push(...msg.losses);
      state.stepsPerSecond = msg.stepsPerSecond;
      $('speed').textContent = `${msg.stepsPerSecond.toFixed(1)} steps/s`;
      $('step').textContent =
        `step ${msg.step} · ${(msg.charsPerSecond / 1000).toFixed(1)}k chars/s`;
      const avg = movingAverage(state.losses, 10);
      $('loss').textContent = `${(avg[avg.length - 1] ?? NaN).toFixed(3)}`;
      scheduleChart();
      break;
    }
    case 'sample': {
      state.samples.push({ step: msg.step, text: msg.text });
      const li = document.createElement('li');
      const at = document.createElement('span');
      at.className = 'at';
      at.textContent = `step ${msg.step}`;
      const prompt = document.createElement('span');
      prompt.className = 'prompt';
      prompt.textContent = msg.prompt;
      li.append(at, prompt, msg.text);
      const list = $('samples');
      list.prepend(li);
      while (list.children.length > 6) list.lastElementChild?.remove();
      break;
    }
    case 'error':
      showError(msg.message);
      break;
  }
}

function movingAverage(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i] as number;
    if (i >= window) sum -= values[i - window] as number;
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

/* ---- the chart ------------------------------------------------------------------------------ */

let chartPending = false;

function scheduleChart(): void {
  if (chartPending) return;
  chartPending = true;
  requestAnimationFrame(() => {
    chartPending = false;
    drawChart();
  });
}

function drawChart(): void {
  const canvas = $('chart') as HTMLCanvasElement;
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pad = { left: 44, right: 12, top: 10, bottom: 26 };
  const pw = w - pad.left - pad.right;
  const ph = h - pad.top - pad.bottom;
  const losses = state.losses;
  const unigram = state.ready?.unigram;
  const steps = Math.max(100, Math.ceil(losses.length / 100) * 100);
  const yMax = Math.ceil(Math.max(4, ...losses.slice(0, 5)));
  const yMin = Math.max(0, Math.floor(Math.min(yMax - 1, unigram ?? yMax, ...losses) - 0.25));
  const x = (i: number): number => pad.left + (i / steps) * pw;
  const y = (v: number): number => pad.top + (1 - (v - yMin) / (yMax - yMin)) * ph;

  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#6b7280';
  g.strokeStyle = '#e3e6eb';
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let v = yMin; v <= yMax + 1e-9; v += 0.5) {
    g.beginPath();
    g.moveTo(pad.left, Math.round(y(v)) + 0.5);
    g.lineTo(w - pad.right, Math.round(y(v)) + 0.5);
    g.stroke();
    g.fillText(v.toFixed(1), pad.left - 6, y(v));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const tick = steps <= 500 ? 50 : steps <= 2000 ? 250 : 1000;
  for (let s = 0; s <= steps; s += tick) g.fillText(String(s), x(s), h - pad.bottom + 6);

  if (unigram !== undefined) {
    g.strokeStyle = '#9ca3af';
    g.setLineDash([5, 4]);
    g.beginPath();
    g.moveTo(pad.left, y(unigram));
    g.lineTo(w - pad.right, y(unigram));
    g.stroke();
    g.setLineDash([]);
    g.textAlign = 'right';
    g.textBaseline = 'bottom';
    g.fillText('unigram entropy: the best without context', w - pad.right - 4, y(unigram) - 3);
  }
  const line = (values: readonly number[], color: string, width: number): void => {
    if (values.length === 0) return;
    g.strokeStyle = color;
    g.lineWidth = width;
    g.beginPath();
    values.forEach((v, i) => (i === 0 ? g.moveTo(x(i + 1), y(v)) : g.lineTo(x(i + 1), y(v))));
    g.stroke();
  };
  line(losses, 'rgba(37, 99, 235, 0.25)', 1);
  line(movingAverage(losses, 10), '#2563eb', 2.5);
}

/* ---- the main-thread clock -------------------------------------------------------------- */

const frameTimes: number[] = [];

function tickClock(now: number): void {
  state.frames++;
  frameTimes.push(now);
  while (frameTimes.length > 2 && now - (frameTimes[0] as number) > 2000) frameTimes.shift();
  let longest = 0;
  for (let i = 1; i < frameTimes.length; i++)
    longest = Math.max(longest, (frameTimes[i] as number) - (frameTimes[i - 1] as number));
  state.longestFrameMs = longest;
  const d = new Date();
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  $('clock').textContent =
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  $('spinner').style.transform = `rotate(${(now * 0.36) % 360}deg)`;
  if (state.frames % 10 === 0) {
    const span = now - (frameTimes[0] as number);
    const fps = span > 0 ? ((frameTimes.length - 1) * 1000) / span : 0;
    $('fps').textContent = `${fps.toFixed(0)} fps · longest frame ${longest.toFixed(0)} ms (2 s)`;
  }
  requestAnimationFrame(tickClock);
}

/* ---- controls ---------------------------------------------------------------------------- */

const select = $('backend-select') as HTMLSelectElement;
select.value = state.backendChoice;
select.addEventListener('change', () => {
  state.backendChoice = select.value as BackendChoice;
  const url = new URL(location.href);
  if (state.backendChoice === 'auto') url.searchParams.delete('backend');
  else url.searchParams.set('backend', state.backendChoice);
  history.replaceState(null, '', url);
  start();
});
$('pause').addEventListener('click', () => {
  paused = !paused;
  send({ type: paused ? 'pause' : 'resume' });
  $('pause').textContent = paused ? 'Resume' : 'Pause';
});
$('restart').addEventListener('click', start);
window.addEventListener('resize', scheduleChart);

requestAnimationFrame(tickClock);
start();
