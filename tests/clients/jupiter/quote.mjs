// Usage: node quote.mjs <oee base url> <inputMint> <outputMint> <amount> [slippageBps] [dexes]
// Calls oee's /quote through Jupiter's own client, unchanged except for basePath, and prints
// the QuoteResponse the client parsed (as JSON) — or the error status and body.
import { SwapApi, Configuration, ResponseError } from '@jup-ag/api';

const [base, inputMint, outputMint, amount, slippageBps = '50', dexes] = process.argv.slice(2);
const api = new SwapApi(new Configuration({ basePath: base }));
try {
  const params = { inputMint, outputMint, amount: Number(amount), slippageBps: Number(slippageBps) };
  if (dexes) params.dexes = dexes.split(',');
  const quote = await api.quoteGet(params);
  process.stdout.write(JSON.stringify({ ok: true, quote }) + '\n');
} catch (e) {
  if (e instanceof ResponseError) {
    process.stdout.write(JSON.stringify({ ok: false, status: e.response.status, body: await e.response.text() }) + '\n');
  } else {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e) }) + '\n');
  }
}
