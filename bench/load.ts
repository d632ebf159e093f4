/**
 * Load generator, run as its own process so that it does not share the API's event loop:
 * sends `total` POST /v1/clusters with `concurrency` in flight and prints JSON figures. It shares the
 * machine's cores with the API and PostgreSQL, so it is as lean as Node allows: node:http over
 * `concurrency` kept-alive sockets (fetch cost twice the CPU per request).
 * argv: url token total concurrency runId [team, default bench]
 */
import http from 'node:http';

const [url, token, totalArg, concurrencyArg, runId, team = 'bench'] = process.argv.slice(2);
const total = Number(totalArg);
const concurrency = Number(concurrencyArg);
const target = new URL(`${url}/v1/clusters`);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latencies: number[] = [];
let next = 0;
let errors = 0;

function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function one(i: number) {
  const body = JSON.stringify({
    team,
    name: `b${runId}-${i}`,
    blueprint: 'local-files',
    spec: { version: '1.30', nodePools: [{ name: 'default', size: 1 }] },
  });
  const t0 = performance.now();
  const status = await post(body);
  latencies.push(performance.now() - t0);
  if (status !== 202) errors++;
}

const started = performance.now();
const cpuBefore = process.cpuUsage();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) await one(next++);
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(JSON.stringify({ total, concurrency, errors, seconds, perSecond: total / seconds, p50: pct(50), p99: pct(99), cpuMs }));
agent.destroy();
