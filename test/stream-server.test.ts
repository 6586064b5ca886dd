/**
 * examples/stream-server.ts: concurrent clients of the micro-batching server (and of its
 * one-call-per-frame mode) get, frame after frame, exactly what their session's GRU stream
 * gives stepped alone; the group mode really batches; the load test reports its figures.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { loadTest, post, startServer } from '../examples/stream-server.js';
import { GRU } from '../ts/index.js';
import { BACKEND_NAMES } from './backends.js';

const [I, H] = [6, 10];

for (const backend of BACKEND_NAMES) {
  describe(`examples/stream-server [${backend}]`, () => {
    for (const mode of ['group', 'single'] as const) {
      it(`${mode} mode: 12 concurrent sessions, 5 frames each, equal their streams stepped alone bitwise`, async () => {
        const server = await startServer({
          backend: backend as never,
          inputSize: I,
          hiddenSize: H,
          mode,
        });
        // The reference: the same weights in a GRU of its own (the server's is busy stepping).
        const ref = new GRU({ inputSize: I, hiddenSize: H, backend: server.gru.backend });
        ref.loadStateDict(server.gru.stateDict());
        const agent = new Agent({ keepAlive: true, maxSockets: 12 });
        try {
          await Promise.all(
            Array.from({ length: 12 }, async (_, c) => {
              const { id } = JSON.parse((await post(agent, server.port, '/open')).toString()) as {
                id: number;
              };
              const alone = ref.stream({ batch: 1 });
              for (let k = 0; k < 5; k++) {
                const frame = Float32Array.from({ length: I }, (_, i) => Math.sin(c + k * 0.7 + i));
                const got = await post(agent, server.port, `/step?id=${id}`, frame);
                const answer = new Float32Array(
                  got.buffer.slice(got.byteOffset, got.byteOffset + got.length),
                );
                assert.deepEqual(answer, alone.step(frame).output, `session ${c}, frame ${k}`);
              }
              await post(agent, server.port, `/close?id=${id}`);
            }),
          );
          assert.equal(server.stats.frames, 60);
          if (mode === 'group' && backend === 'native')
            assert.ok(
              server.stats.steps < 60,
              `frames batched: ${server.stats.steps} steps for 60 frames`,
            );
          await assert.rejects(
            post(agent, server.port, '/step?id=0', new Float32Array(I + 1)),
            /a frame is 6 float32 values/,
          );
        } finally {
          agent.destroy();
          ref.dispose();
          await server.close();
        }
      });
    }

    it('the load test reports throughput and p50 <= p99 latency', async () => {
      const server = await startServer({ backend: backend as never, inputSize: I, hiddenSize: H });
      try {
        const r = await loadTest(server.port, 4, 0.3, I);
        assert.ok(r.frames > 0);
        assert.ok(r.framesPerSecond > 0);
        assert.ok(r.p50ms > 0 && r.p50ms <= r.p99ms);
        assert.equal(server.stats.frames, r.frames);
      } finally {
        await server.close();
      }
    });
  });
}
