import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuLabel, describeCpu } from '../src/cpu.js';

const ZEN3 = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx fma avx2 bmi2 sha_ni
`;

test('an AVX2 machine: family and model from /proc/cpuinfo, only the SIMD flags it has', () => {
  const cpu = describeCpu(ZEN3);
  assert.equal(cpu.model, 'AMD EPYC');
  assert.equal(cpu.familyModel, 'family 25 model 1');
  assert.deepEqual(cpu.simd, ['avx2', 'fma']);
  assert.match(cpuLabel(cpu), /^AMD EPYC \(family 25 model 1; avx2 fma\), \d+ logical CPUs$/);
});

test('an AVX-512 machine lists its AVX-512 extensions; no cpuinfo falls back to the model Node reports', () => {
  const zen5 = ZEN3.replace('cpu family\t: 25', 'cpu family\t: 26')
    .replace('model\t\t: 1', 'model\t\t: 2')
    .replace('sha_ni', 'avx512f avx512bw avx512vl avx512_vnni avx512_bf16');
  assert.deepEqual(describeCpu(zen5).simd, [
    'avx2',
    'fma',
    'avx512f',
    'avx512bw',
    'avx512vl',
    'avx512_vnni',
    'avx512_bf16',
  ]);
  const bare = describeCpu('');
  assert.equal(bare.familyModel, undefined);
  assert.deepEqual(bare.simd, []);
  assert.ok(bare.model.length > 0);
  assert.match(cpuLabel(bare), /no AVX2/);
});
