import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withoutOrtSourceLocation } from '../src/ort-session.js';

test("ONNX Runtime's source location and C++ signature are stripped from its messages; the rest is kept", () => {
  assert.equal(
    withoutOrtSourceLocation(
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
    ),
    'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters',
  );
  assert.equal(
    withoutOrtSourceLocation(
      '/onnxruntime_src/onnxruntime/core/graph/model.cc:180 onnxruntime::Model::Model(ModelProto&&, const PathString&, const onnxruntime::ModelOptions&) Unsupported model IR version: 12, max supported IR version: 10',
    ),
    'Unsupported model IR version: 12, max supported IR version: 10',
  );
  assert.equal(
    withoutOrtSourceLocation('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'),
    'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
  );
  assert.equal(
    withoutOrtSourceLocation('Got invalid dimensions for input: z for the following indices'),
    'Got invalid dimensions for input: z for the following indices',
  );
});
