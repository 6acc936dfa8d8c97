#!/usr/bin/env node
// Writes tests/data/venue_vectors.json: swap results computed by the official SDKs
// (@raydium-io/raydium-sdk-v2 CurveCalculator.swapBaseInput, @meteora-ag/dlmm DLMM#swapQuote)
// over hand-built pool states, with no network. Run by hand (npm install && npm run generate);
// neither the build nor the tests need npm. tests/tst_venues.cpp requires oee's integer math
// to give exactly these numbers.
//
// Where an SDK is not the program, the vector follows the program and says so:
// - Raydium: SwapResult.newInputVaultAmount is the SDK's constant-product check (vault + input
//   less the whole trade fee). The program's curve vault after a swap is vault + input -
//   protocolFee - fundFee (the LP share of the fee stays in the pool; swap_base_input.rs,
//   PoolState::vault_amount_without_fee). `newVaultIn` below is the program's.
//   Creator fees are off (rate 0): with creator fee on input the SDK rounds trade and creator
//   fee separately where the program rounds their sum once.
//   A swap whose output is 0 is refused by the program (require_gt!(amount_received, 0)); the
//   SDK returns 0. Such vectors expect an error.
// - Meteora: the SDK reports `fee` net of `protocolFee`; the vectors keep both as the SDK gives
//   them (oee's whole trade fee is their sum). The new bin amounts are the program's
//   (bin += amount in with fees - whole fee; bin -= amount out), the new active id the last bin
//   filled, and vParameters as update_references / update_volatility_accumulator leave them with
//   lastUpdateTimestamp = now. Each DLMM vector's totals are also recomputed bin by bin with the
//   SDK's own swapExactInQuoteAtBin and checked against swapQuote before it is written.
'use strict';
const fs = require('fs');
const path = require('path');
const BN = require('bn.js');
const { CurveCalculator } = require('@raydium-io/raydium-sdk-v2');
const DLMM = require('@meteora-ag/dlmm');
const { PublicKey } = require('@solana/web3.js');

// Deterministic PRNG (mulberry32) so the file only changes when the generator does.
let seed = 0x0ee10;
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (a) => a[int(0, a.length - 1)];
// A random BigInt with a log-uniform magnitude in [10^loExp, 10^hiExp].
function big(loExp, hiExp) {
  const digits = int(loExp, hiExp);
  let s = String(int(1, 9));
  for (let i = 0; i < digits; i++) s += String(int(0, 9));
  return BigInt(s);
}
const U64_MAX = (1n << 64n) - 1n;
const bn = (x) => new BN(x.toString());
const str = (x) => x.toString();

// ---------------------------------------------------------------- Raydium CPMM
function cpmmSwap(p, input, aToB) {
  const [vin, vout] = aToB ? [p.vaultA, p.vaultB] : [p.vaultB, p.vaultA];
  const r = CurveCalculator.swapBaseInput(bn(input), bn(vin), bn(vout), bn(p.tradeFeeRate),
                                          bn(0), bn(p.protocolFeeRate), bn(p.fundFeeRate), false);
  const out = BigInt(r.outputAmount.toString());
  const tradeFee = BigInt(r.tradeFee.toString());
  const protocolFee = BigInt(r.protocolFee.toString());
  const fundFee = BigInt(r.fundFee.toString());
  if (out === 0n) return { ok: false, error: 'zero_output', tradeFee: str(tradeFee) };
  const newIn = vin + input - protocolFee - fundFee;
  const newOut = vout - out;
  return { ok: true, outputAmount: str(out), tradeFee: str(tradeFee), protocolFee: str(protocolFee),
           fundFee: str(fundFee), newVaultIn: str(newIn), newVaultOut: str(newOut),
           sdkNewInputVaultAmount: r.newInputVaultAmount.toString() };
}

function cpmmPool() {
  const kind = int(0, 9);
  const vaultA = kind === 0 ? big(0, 3) : kind === 1 ? U64_MAX / BigInt(int(2, 1000)) : big(3, 17);
  const vaultB = kind === 2 ? big(0, 3) : big(3, 17);
  return { vaultA, vaultB,
           tradeFeeRate: pick([0, 100, 500, 2500, 3000, 10000, 40000, int(1, 100000)]),
           protocolFeeRate: pick([0, 120000, 200000, int(0, 1000000)]),
           fundFeeRate: pick([0, 40000, 100000, int(0, 300000)]) };
}

function cpmmVectors() {
  const cases = [];
  const poolJson = (p) => ({ vaultA: str(p.vaultA), vaultB: str(p.vaultB), tradeFeeRate: p.tradeFeeRate,
                             protocolFeeRate: p.protocolFeeRate, fundFeeRate: p.fundFeeRate });
  for (let i = 0; i < 3000; i++) {
    const p = cpmmPool();
    const aToB = rnd() < 0.5;
    const vin = aToB ? p.vaultA : p.vaultB;
    let input;
    const k = int(0, 9);
    if (k === 0) input = 1n;
    else if (k === 1) input = BigInt(int(1, 400)); // the fee may eat it all
    else if (k === 2) input = vin * BigInt(int(1, 50)); // walks far up the curve
    else input = big(0, 15);
    if (vin + input > U64_MAX) input = U64_MAX - vin;
    const [vi, vo] = aToB ? [p.vaultA, p.vaultB] : [p.vaultB, p.vaultA];
    if (input === 0n || input * vo >= (1n << 128n) || vi * vo >= (1n << 128n)) continue;
    cases.push({ pool: poolJson(p), aToB, amountIn: str(input), expect: cpmmSwap(p, input, aToB) });
  }
  // Sequences: one pool, swaps both ways, each applied as the program applies it.
  const sequences = [];
  for (let s = 0; s < 60; s++) {
    const p = { ...cpmmPool(), vaultA: big(9, 14), vaultB: big(9, 14) };
    const start = poolJson(p);
    const steps = [];
    for (let j = 0; j < 25; j++) {
      const aToB = rnd() < 0.5;
      const input = big(0, 12);
      const e = cpmmSwap(p, input, aToB);
      steps.push({ aToB, amountIn: str(input), expect: e });
      if (e.ok) {
        if (aToB) { p.vaultA = BigInt(e.newVaultIn); p.vaultB = BigInt(e.newVaultOut); }
        else { p.vaultB = BigInt(e.newVaultIn); p.vaultA = BigInt(e.newVaultOut); }
      }
    }
    sequences.push({ pool: start, steps });
  }
  return { cases, sequences };
}

// ---------------------------------------------------------------- Meteora DLMM
const BINS_PER_ARRAY = DLMM.MAX_BIN_ARRAY_SIZE.toNumber();
const dummyMint = { tlvData: Buffer.alloc(0) };

function dlmmPool() {
  const binStep = pick([1, 2, 4, 5, 8, 10, 15, 20, 25, 50, 80, 100]);
  const activeId = int(-20000, 20000) * (binStep >= 50 ? 0.05 : 0.3) | 0;
  const baseFactor = pick([10000, 8000, 5000, 20000, int(1, 30000)]);
  const parameters = {
    baseFactor, filterPeriod: pick([10, 30, 60]), decayPeriod: pick([120, 600]),
    reductionFactor: pick([5000, 1000, 9000]), variableFeeControl: pick([0, 7500, 40000, 120000, 2000000]),
    maxVolatilityAccumulator: pick([150000, 350000, 2000000]), protocolShare: pick([0, 500, 1000, 2000]),
    baseFeePowerFactor: baseFactor < 100 ? int(0, 2) : 0,
  };
  const now = 1_800_000_000 + int(0, 1000);
  const vParameters = {
    volatilityAccumulator: int(0, parameters.maxVolatilityAccumulator),
    volatilityReference: int(0, 100000), indexReference: activeId + int(-20, 20),
    lastUpdateTimestamp: now - pick([0, 1, 5, 20, 100, 400, 5000]),
  };
  const bins = new Map();
  const below = int(0, 30), above = int(0, 30);
  const scale = () => big(int(0, 3), int(5, 13));
  for (let id = activeId - below; id <= activeId + above; id++) {
    if (id !== activeId && rnd() < 0.15) continue; // gaps
    const b = { amountX: 0n, amountY: 0n };
    if (id < activeId) b.amountY = scale();
    else if (id > activeId) b.amountX = scale();
    else { b.amountX = rnd() < 0.8 ? scale() : 0n; b.amountY = rnd() < 0.8 ? scale() : 0n; }
    bins.set(id, b);
  }
  return { binStep, activeId, parameters, vParameters, bins, now };
}

function dlmmJson(p) {
  const bins = [...p.bins.entries()].filter(([, b]) => b.amountX > 0n || b.amountY > 0n)
    .sort((a, b) => a[0] - b[0]).map(([id, b]) => ({ id, amountX: str(b.amountX), amountY: str(b.amountY) }));
  return { binStep: p.binStep, activeId: p.activeId, parameters: { ...p.parameters },
           vParameters: { ...p.vParameters }, bins };
}

function sdkPair(p) {
  const binArrays = new Map();
  const bitmap = Array.from({ length: 16 }, () => new BN(0));
  for (const [id] of p.bins) {
    const idx = DLMM.binIdToBinArrayIndex(new BN(id)).toNumber();
    if (!binArrays.has(idx)) {
      const [lower] = DLMM.getBinArrayLowerUpperBinId(new BN(idx));
      const bins = [];
      for (let k = 0; k < BINS_PER_ARRAY; k++) {
        const bid = lower.toNumber() + k;
        const b = p.bins.get(bid) || { amountX: 0n, amountY: 0n };
        bins.push({ amountX: bn(b.amountX), amountY: bn(b.amountY),
                    price: DLMM.getQPriceFromId(new BN(bid), new BN(p.binStep)),
                    liquiditySupply: new BN(0), openOrderAmount: new BN(0),
                    processedOrderRemainingAmount: new BN(0), limitOrderAskSide: 0 });
      }
      binArrays.set(idx, { publicKey: new PublicKey(Buffer.alloc(32, (idx + 600) % 256)).toBase58() + ':' + idx,
                           account: { index: new BN(idx), version: 1, bins } });
      const off = idx + 512;
      bitmap[off >> 6] = bitmap[off >> 6].or(new BN(1).shln(off & 63));
    }
  }
  const lbPair = {
    activeId: p.activeId, binStep: p.binStep,
    parameters: { ...p.parameters, functionType: 1, collectFeeMode: 0 },
    vParameters: { ...p.vParameters, lastUpdateTimestamp: new BN(p.vParameters.lastUpdateTimestamp) },
    binArrayBitmap: bitmap, rewardInfos: [],
  };
  const dlmm = new DLMM(PublicKey.default, null, lbPair, null, { mint: dummyMint }, { mint: dummyMint },
                        [], { epoch: new BN(0) });
  return { dlmm, binArrays: [...binArrays.values()] };
}

function withClock(now, fn) {
  const real = Date.now;
  Date.now = () => now * 1000;
  try { return fn(); } finally { Date.now = real; }
}

// Bin by bin with the SDK's own per-bin quote: the new pool state, and a check of swapQuote.
function dlmmApply(p, amountIn, swapForY) {
  const v = { ...p.vParameters, lastUpdateTimestamp: new BN(p.vParameters.lastUpdateTimestamp) };
  DLMM.updateReference(p.activeId, v, p.parameters, p.now);
  let id = p.activeId, left = amountIn, out = 0n, fee = 0n, protocolFee = 0n, last = null;
  const ids = [...p.bins.keys()];
  const bins = new Map([...p.bins].map(([k, b]) => [k, { ...b }]));
  const hasMore = (from) => ids.some((k) => (swapForY ? k <= from : k >= from) &&
                                             (swapForY ? bins.get(k).amountY : bins.get(k).amountX) > 0n);
  while (left > 0n) {
    if (!hasMore(id)) return null;
    const b = bins.get(id);
    const maxOut = b ? (swapForY ? b.amountY : b.amountX) : 0n;
    if (maxOut > 0n) {
      DLMM.updateVolatilityAccumulator(v, p.parameters, id);
      const sdkBin = { amountX: bn(b.amountX), amountY: bn(b.amountY),
                       price: DLMM.getQPriceFromId(new BN(id), new BN(p.binStep)),
                       openOrderAmount: new BN(0), processedOrderRemainingAmount: new BN(0), limitOrderAskSide: 0 };
      const r = DLMM.swapExactInQuoteAtBin(sdkBin, p.binStep, p.parameters, v, bn(left), swapForY, false, true);
      const ain = BigInt(r.amountIn.toString()), aout = BigInt(r.amountOut.toString());
      const f = BigInt(r.fee.toString()), pf = BigInt(r.protocolFee.toString());
      if (ain > 0n) {
        left -= ain; out += aout; fee += f; protocolFee += pf; last = id;
        const into = ain - f - pf;
        if (swapForY) { b.amountX += into; b.amountY -= aout; } else { b.amountY += into; b.amountX -= aout; }
      }
    }
    if (left > 0n) id += swapForY ? -1 : 1;
  }
  return { consumed: amountIn - left, out, fee, protocolFee, last, bins,
           v: { volatilityAccumulator: v.volatilityAccumulator, volatilityReference: v.volatilityReference,
                indexReference: v.indexReference, lastUpdateTimestamp: p.now } };
}

function dlmmSwap(p, amountIn, swapForY) {
  const { dlmm, binArrays } = sdkPair(p);
  let q;
  try {
    q = withClock(p.now, () => dlmm.swapQuote(bn(amountIn), swapForY, new BN(0), binArrays, false));
  } catch (e) {
    if (!/INSUFFICIENT_LIQUIDITY|Insufficient liquidity/i.test(String(e.message || e))) throw e;
    if (dlmmApply(p, amountIn, swapForY) !== null) throw new Error('replay filled where the SDK found no liquidity');
    return { expect: { ok: false, error: 'insufficient_liquidity' }, next: null };
  }
  const r = dlmmApply(p, amountIn, swapForY);
  const sdk = { consumedInAmount: q.consumedInAmount.toString(), outAmount: q.outAmount.toString(),
                fee: q.fee.toString(), protocolFee: q.protocolFee.toString() };
  if (!r || str(r.consumed) !== sdk.consumedInAmount || str(r.out) !== sdk.outAmount ||
      str(r.fee) !== sdk.fee || str(r.protocolFee) !== sdk.protocolFee)
    throw new Error('bin-by-bin replay disagrees with swapQuote: ' + JSON.stringify({ sdk, r: r && str(r.out) }));
  const next = { ...p, activeId: r.last, bins: r.bins, vParameters: r.v };
  // Only the bins the swap changed (a drained bin appears with its zero amounts).
  const changedBins = [...r.bins.entries()]
    .filter(([id, b]) => b.amountX !== p.bins.get(id).amountX || b.amountY !== p.bins.get(id).amountY)
    .sort((a, b) => a[0] - b[0]).map(([id, b]) => ({ id, amountX: str(b.amountX), amountY: str(b.amountY) }));
  return { expect: { ok: true, ...sdk, endActiveId: r.last, changedBins, newVParameters: { ...r.v } }, next };
}

function dlmmVectors() {
  const cases = [];
  for (let i = 0; i < 1200; i++) {
    const p = dlmmPool();
    const swapForY = rnd() < 0.5;
    const k = int(0, 9);
    const side = [...p.bins.values()].reduce((s, b) => s + (swapForY ? b.amountX : b.amountY), 0n);
    let amountIn = k === 0 ? 1n : k === 1 ? BigInt(int(1, 300)) : k === 2 ? side * 3n + 1n : big(0, 14);
    if (amountIn === 0n) amountIn = 1n;
    if (amountIn > U64_MAX) amountIn = U64_MAX;
    const r = dlmmSwap(p, amountIn, swapForY);
    cases.push({ pool: dlmmJson(p), now: p.now, swapForY, amountIn: str(amountIn), expect: r.expect });
  }
  const sequences = [];
  for (let s = 0; s < 40; s++) {
    let p = dlmmPool();
    const start = dlmmJson(p), startNow = p.now;
    const steps = [];
    for (let j = 0; j < 15; j++) {
      p.now += pick([0, 0, 1, 3, 15, 45, 200, 900]);
      const swapForY = rnd() < 0.5;
      const amountIn = big(0, 11);
      const r = dlmmSwap(p, amountIn, swapForY);
      steps.push({ now: p.now, swapForY, amountIn: str(amountIn), expect: r.expect });
      if (r.next) p = r.next;
    }
    sequences.push({ pool: start, now: startNow, steps });
  }
  return { cases, sequences };
}

function sdkVersion(name) {
  const file = path.join(__dirname, 'node_modules', name, 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

const out = {
  generatedBy: 'scripts/vectors/generate.js',
  sdks: { raydium: sdkVersion('@raydium-io/raydium-sdk-v2'), meteora: sdkVersion('@meteora-ag/dlmm') },
  cpmm: cpmmVectors(),
  dlmm: dlmmVectors(),
};
const file = path.join(__dirname, '..', '..', 'tests', 'data', 'venue_vectors.json');
fs.writeFileSync(file, JSON.stringify(out) + '\n');
const okCount = (l) => l.filter((c) => c.expect.ok).length;
console.log(`wrote ${file}: cpmm ${out.cpmm.cases.length} cases (${okCount(out.cpmm.cases)} ok), ` +
            `${out.cpmm.sequences.length} sequences; dlmm ${out.dlmm.cases.length} cases ` +
            `(${okCount(out.dlmm.cases)} ok), ${out.dlmm.sequences.length} sequences`);
