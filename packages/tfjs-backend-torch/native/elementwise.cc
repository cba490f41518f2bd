// Element-wise kernels: out = f(a, b) with NumPy broadcasting (tfjs's rule, and libtorch's), and
// out = f(x). Each writes straight into the output JavaScript allocated (ATen's *_out functions).
#include "args.h"
#include "multiversion.h"

#include <ATen/Parallel.h>

namespace torch_backend {

namespace {

#define BINARY(NAME, EXPR)                                  \
  void NAME(Reader& r) {                                     \
    at::Tensor a = r.tensor();                               \
    at::Tensor b = r.tensor();                               \
    at::Tensor out = r.tensor();                             \
    expectShape(out, at::infer_size(a.sizes(), b.sizes()), "the output"); \
    EXPR;                                                    \
  }

BINARY(Add, at::add_out(out, a, b))
BINARY(Sub, at::sub_out(out, a, b))
BINARY(Multiply, at::mul_out(out, a, b))
BINARY(RealDiv, at::div_out(out, a, b))
BINARY(FloorDiv, at::div_out(out, a, b, "floor"))
BINARY(Mod, at::remainder_out(out, a, b))
BINARY(Maximum, at::maximum_out(out, a, b))
BINARY(Minimum, at::minimum_out(out, a, b))
BINARY(Pow, at::pow_out(out, a, b))
BINARY(Atan2, at::atan2_out(out, a, b))
BINARY(SquaredDifference, at::sub_out(out, a, b); out.mul_(out))
BINARY(Less, at::lt_out(out, a, b))
BINARY(LessEqual, at::le_out(out, a, b))
BINARY(Greater, at::gt_out(out, a, b))
BINARY(GreaterEqual, at::ge_out(out, a, b))
BINARY(Equal, at::eq_out(out, a, b))
BINARY(NotEqual, at::ne_out(out, a, b))
BINARY(LogicalAnd, at::logical_and_out(out, a, b))
BINARY(LogicalOr, at::logical_or_out(out, a, b))
BINARY(LogicalXor, at::logical_xor_out(out, a, b))
// tfjs prelu: x < 0 ? alpha * x : x, alpha broadcast against x.
BINARY(Prelu, out.copy_(at::where(a < 0, a * b, a)))

#define UNARY(NAME, EXPR)                                   \
  void NAME(Reader& r) {                                     \
    at::Tensor x = r.tensor();                               \
    at::Tensor out = r.tensor();                             \
    expectShape(out, x.sizes(), "the output");               \
    EXPR;                                                    \
  }

UNARY(Abs, at::abs_out(out, x))
UNARY(Acos, at::acos_out(out, x))
UNARY(Asin, at::asin_out(out, x))
UNARY(Atan, at::atan_out(out, x))
UNARY(Ceil, at::ceil_out(out, x))
UNARY(Cos, at::cos_out(out, x))
UNARY(Cosh, at::cosh_out(out, x))
UNARY(Elu, at::elu_out(out, x))
UNARY(Erf, at::erf_out(out, x))
UNARY(Exp, at::exp_out(out, x))
UNARY(Expm1, at::expm1_out(out, x))
UNARY(Floor, at::floor_out(out, x))
UNARY(IsNan, out.copy_(at::isnan(x)))
UNARY(IsInf, out.copy_(at::isinf(x)))
UNARY(Log, at::log_out(out, x))
UNARY(Log1p, at::log1p_out(out, x))
UNARY(LogicalNot, at::logical_not_out(out, x))
UNARY(Neg, at::neg_out(out, x))
UNARY(Reciprocal, at::reciprocal_out(out, x))
UNARY(Relu, at::clamp_min_out(out, x, 0))
UNARY(Relu6, at::clamp_out(out, x, 0, 6))
UNARY(Round, at::round_out(out, x))
UNARY(Rsqrt, at::rsqrt_out(out, x))
UNARY(Selu, out.copy_(at::selu(x)))
UNARY(Sigmoid, at::sigmoid_out(out, x))
UNARY(Sign, at::sign_out(out, x))
UNARY(Sin, at::sin_out(out, x))
UNARY(Sinh, at::sinh_out(out, x))
UNARY(Softplus, at::softplus_out(out, x, 1, 20))
UNARY(Sqrt, at::sqrt_out(out, x))
UNARY(Square, at::mul_out(out, x, x))
UNARY(Tan, at::tan_out(out, x))
UNARY(Tanh, at::tanh_out(out, x))
// dtype conversion: copy_ converts (float -> int32 truncates, like Int32Array.from; -> bool is x != 0).
UNARY(Cast, out.copy_(x))

MULTIVERSION void stepRange(const float* __restrict x, float* __restrict out, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const float s = v > 0.0f ? 1.0f : alpha;
    out[i] = v != v ? v : s;
  }
}

// tfjs step: x > 0 ? 1 : alpha, NaN stays NaN (one pass; it masks every ReLU gradient).
void Step(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  const float alpha = static_cast<float>(r.number());
  TORCH_CHECK(x.scalar_type() == at::kFloat, "Step: float32 only");
  expectShape(out, x.sizes(), "the output");
  const float* px = x.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, x.numel(), 32768, [&](int64_t begin, int64_t end) { stepRange(px + begin, po + begin, end - begin, alpha); });
}

// The ReLU gradient in one pass: dx = y > 0 ? dy : 0 (y the ReLU's output or input: same mask). tfjs
// composes it from Step and Multiply, two passes and a temporary as large as the activation.
void ReluGrad(Reader& r) {
  at::Tensor dy = r.tensor();
  at::Tensor y = r.tensor();
  at::Tensor out = r.tensor();
  expectShape(dy, y.sizes(), "dy");
  expectShape(out, y.sizes(), "the output");
  at::threshold_backward_out(out, dy, y, 0);
}

void LeakyRelu(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  expectShape(out, x.sizes(), "the output");
  at::leaky_relu_out(out, x, r.number());
}

void ClipByValue(Reader& r) {
  at::Tensor x = r.tensor();
  at::Tensor out = r.tensor();
  expectShape(out, x.sizes(), "the output");
  double lo = r.number();
  double hi = r.number();
  at::clamp_out(out, x, lo, hi);
}

// where(condition, t, e) with broadcasting.
void Select(Reader& r) {
  at::Tensor condition = r.tensor();
  at::Tensor t = r.tensor();
  at::Tensor e = r.tensor();
  at::Tensor out = r.tensor();
  expectShape(out, at::infer_size(at::infer_size(condition.sizes(), t.sizes()), e.sizes()), "the output");
  out.copy_(at::where(condition, t, e));
}

// Sum of same-shaped tensors.
void AddN(Reader& r) {
  std::vector<at::Tensor> inputs = r.tensorList();
  at::Tensor out = r.tensor();
  TORCH_CHECK(!inputs.empty(), "AddN needs at least one input");
  for (size_t i = 0; i < inputs.size(); i++) expectShape(inputs[i], out.sizes(), "input " + std::to_string(i));
  out.copy_(inputs[0]);
  for (size_t i = 1; i < inputs.size(); i++) out.add_(inputs[i]);
}

void Fill(Reader& r) {
  at::Tensor out = r.tensor();
  out.fill_(r.number());
}

}  // namespace

void registerElementwise(Napi::Env env, Napi::Object exports) {
#define EXPORT(NAME) exportKernel(env, exports, #NAME, NAME);
  EXPORT(Add) EXPORT(Sub) EXPORT(Multiply) EXPORT(RealDiv) EXPORT(FloorDiv) EXPORT(Mod) EXPORT(Maximum)
  EXPORT(Minimum) EXPORT(Pow) EXPORT(Atan2) EXPORT(SquaredDifference) EXPORT(Less) EXPORT(LessEqual)
  EXPORT(Greater) EXPORT(GreaterEqual) EXPORT(Equal) EXPORT(NotEqual) EXPORT(LogicalAnd) EXPORT(LogicalOr)
  EXPORT(LogicalXor) EXPORT(Prelu)
  EXPORT(Abs) EXPORT(Acos) EXPORT(Asin) EXPORT(Atan) EXPORT(Ceil) EXPORT(Cos) EXPORT(Cosh) EXPORT(Elu)
  EXPORT(Erf) EXPORT(Exp) EXPORT(Expm1) EXPORT(Floor) EXPORT(IsNan) EXPORT(IsInf) EXPORT(Log) EXPORT(Log1p)
  EXPORT(LogicalNot) EXPORT(Neg) EXPORT(Reciprocal) EXPORT(Relu) EXPORT(Relu6) EXPORT(Round) EXPORT(Rsqrt)
  EXPORT(Selu) EXPORT(Sigmoid) EXPORT(Sign) EXPORT(Sin) EXPORT(Sinh) EXPORT(Softplus) EXPORT(Sqrt)
  EXPORT(Square) EXPORT(Tan) EXPORT(Tanh) EXPORT(Cast)
  EXPORT(Step) EXPORT(ReluGrad) EXPORT(LeakyRelu) EXPORT(ClipByValue) EXPORT(Select) EXPORT(AddN) EXPORT(Fill)
#undef EXPORT
}

}  // namespace torch_backend
