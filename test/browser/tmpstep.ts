const w = new Worker(new URL('./tmpstep-worker.js', import.meta.url), { type: 'module' });
const out: string[] = [];
(window as unknown as { tmp: { out: string[]; done: boolean } }).tmp = { out, done: false };
w.onmessage = (e) => {
  if (e.data === 'done') (window as unknown as { tmp: { done: boolean } }).tmp.done = true;
  else out.push(String(e.data));
};
if (location.search.includes('clock')) {
  const tick = (): void => {
    (document.getElementById('clock') as HTMLElement).textContent = new Date().toISOString();
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
w.postMessage('go');
