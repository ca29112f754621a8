// compile (transforms/compile.hpp): trace a function once per kind of input into a list of
// primitive applications over numbered values, simplify and fuse that list, and replay it on
// later calls. The passes work on the list, never on live arrays, so the trace keeps no graph
// alive between calls: only its primitives and its constants.
#include "tessera/transforms/compile.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "tessera/core/primitive.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/primitives/shape.hpp"
#include "tessera/transforms/eval.hpp"
#include "transforms/tape.hpp"

namespace tessera {

namespace {

CompileMode initial_mode() {
  const char* t = std::getenv("TESSERA_DISABLE_COMPILE");
  const char* m = std::getenv("MLX_DISABLE_COMPILE");
  return (t && *t) || (m && *m) ? CompileMode::disabled : CompileMode::enabled;
}

std::atomic<CompileMode>& mode_flag() {
  static std::atomic<CompileMode> mode{initial_mode()};
  return mode;
}

// Stands for an input while the function is traced. It has no value: a function that asks for
// one (item, data, eval of something that depends on an input) cannot be compiled.
class CompileInput : public NonDifferentiable {
 public:
  using NonDifferentiable::NonDifferentiable;
  [[noreturn]] static void refuse() {
    throw std::invalid_argument(
        "[compile] the function read the value of an array computed from its inputs while it "
        "was traced (item, data, to_vector or eval inside a compiled function); a compiled "
        "function is traced once per input shapes and dtypes, so what it computes cannot depend "
        "on the values");
  }
  void eval_cpu(const std::vector<array>&, std::vector<array>&) override { refuse(); }
#if TESSERA_HAS_VULKAN
  void eval_gpu(const std::vector<array>&, std::vector<array>&) override { refuse(); }
#endif
  TESSERA_DEFINE_NAME(CompileInput)
};

// Fusion limits: the kernel of a program binds one buffer per input, and its registers grow
// with the instructions.
constexpr int kMaxFusedInstructions = 64;
constexpr int kMaxFusedInputs = 16;

// One primitive application of the trace. Values are numbered: the inputs first, then
// constants and step outputs in the order the trace met them.
struct Step {
  std::shared_ptr<Primitive> prim;
  std::vector<int> in;       // the values it reads
  std::vector<int> out;      // the values it defines, one per primitive output
  std::vector<Shape> shapes; // the outputs' shapes in the trace
  std::vector<Dtype> dtypes;
  // Shapeless replay of a Reshape that only inserts or removes unit axes: for each output
  // axis, the input axis it is (-1: a new unit axis).
  std::optional<std::vector<int>> unit_reshape;
  bool dead = false;
};

struct Trace {
  int num_inputs = 0;
  int num_values = 0;
  std::vector<std::pair<int, array>> constants;  // value number, evaluated array
  std::vector<Step> steps;
  std::vector<int> outputs;                      // the function's outputs, then the state's
  int num_fun_outputs = 0;
  std::optional<Tree> state_shape;               // the state tree after the call (leaves: dummies)
};

// A Reshape's output axes as input axes when it only inserts or removes unit axes.
std::optional<std::vector<int>> unit_axes_map(const Shape& in, const Shape& out) {
  std::vector<int> map;
  size_t i = 0;
  for (size_t o = 0; o < out.size(); ++o) {
    while (i < in.size() && in[i] == 1 && out[o] != 1) ++i;  // a removed unit axis
    if (i < in.size() && in[i] == out[o]) {
      map.push_back(static_cast<int>(i++));
    } else if (out[o] == 1) {
      map.push_back(-1);
    } else {
      return std::nullopt;
    }
  }
  while (i < in.size() && in[i] == 1) ++i;
  if (i != in.size()) return std::nullopt;
  return map;
}

// Records the graph from `placeholders` to `outputs` as a Trace. Arrays that do not depend on
// a placeholder are constants: they are evaluated here, once.
Trace record(const std::vector<array>& placeholders, const std::vector<array>& outputs,
             int num_fun_outputs, bool shapeless) {
  Trace t;
  t.num_inputs = static_cast<int>(placeholders.size());
  t.num_fun_outputs = num_fun_outputs;
  std::unordered_map<std::uintptr_t, int> value_of;
  for (int i = 0; i < t.num_inputs; ++i) value_of.emplace(placeholders[i].id(), i);
  t.num_values = t.num_inputs;
  auto value = [&](const array& a) {
    auto [it, fresh] = value_of.emplace(a.id(), t.num_values);
    if (fresh) {
      t.constants.emplace_back(t.num_values, a);
      ++t.num_values;
    }
    return it->second;
  };
  for (auto& node : dependent_tape(outputs, placeholders)) {
    Step s;
    s.prim = node.primitive;
    for (auto& in : node.inputs) s.in.push_back(value(in));
    for (auto& o : node.node.outputs()) {
      value_of[o.id()] = t.num_values;
      s.out.push_back(t.num_values++);
      s.shapes.push_back(o.shape());
      s.dtypes.push_back(o.dtype());
    }
    if (shapeless && dynamic_cast<const Reshape*>(s.prim.get())) {
      s.unit_reshape = unit_axes_map(node.inputs[0].shape(), s.shapes[0]);
    }
    t.steps.push_back(std::move(s));
  }
  for (auto& o : outputs) t.outputs.push_back(value(o));
  std::vector<array> consts;
  for (auto& [v, a] : t.constants) consts.push_back(a);
  if (!consts.empty()) eval(consts);
  return t;
}

// Common subexpressions: a scalar constant equal to an earlier one, and a step equivalent to an
// earlier one on the same values, are replaced by the earlier one. One pass in trace order:
// each step's inputs are renamed before its own key is made, so merges cascade (two reshapes
// of two merged exps merge too), and the whole pass is linear in the trace.
void merge_common(Trace& t) {
  std::vector<int> alias(t.num_values);
  for (int v = 0; v < t.num_values; ++v) alias[v] = v;
  std::map<std::string, int> scalars;  // dtype, rank and bytes -> value
  for (auto& [v, a] : t.constants) {
    if (!a.is_available() || a.size() != 1 || a.ndim() > 1 || a.dtype() == complex64) continue;
    const char* p = static_cast<const char*>(a.raw_host_ptr());
    if (!p) continue;
    std::string key = std::string(dtype_name(a.dtype())) + ':' + std::to_string(a.ndim()) + ':';
    key.append(p, a.itemsize());
    auto [it, fresh] = scalars.emplace(std::move(key), v);
    if (!fresh) alias[v] = it->second;
  }
  std::multimap<std::string, size_t> seen;  // (name, inputs) -> step
  std::string key;
  for (size_t i = 0; i < t.steps.size(); ++i) {
    Step& s = t.steps[i];
    for (int& v : s.in) v = alias[v];
    key.assign(s.prim->name());
    for (int v : s.in) key += ',' + std::to_string(v);
    bool merged = false;
    auto [lo, hi] = seen.equal_range(key);
    for (auto it = lo; it != hi && !merged; ++it) {
      const Step& e = t.steps[it->second];
      if (!(e.prim->stream() == s.prim->stream()) || e.in != s.in || e.shapes != s.shapes ||
          e.dtypes != s.dtypes || !s.prim->is_equivalent(*e.prim)) {
        continue;
      }
      for (size_t k = 0; k < s.out.size(); ++k) alias[s.out[k]] = e.out[k];
      s.dead = true;
      merged = true;
    }
    if (!merged) seen.emplace(key, i);
  }
  for (int& v : t.outputs) v = alias[v];
}

// Merges inputs of a program that are the same value (CSE and dropped broadcasts make them).
void merge_duplicate_inputs(ElementwiseProgram& p, std::vector<int>& ins) {
  std::vector<int> reg(ins.size());
  std::vector<int> kept;
  std::vector<Dtype> dtypes;
  for (size_t j = 0; j < ins.size(); ++j) {
    auto it = std::find(kept.begin(), kept.end(), ins[j]);
    reg[j] = static_cast<int>(it - kept.begin());
    if (it == kept.end()) {
      kept.push_back(ins[j]);
      dtypes.push_back(p.input_dtypes[j]);
    }
  }
  if (kept.size() == ins.size()) return;
  const int old_n = static_cast<int>(ins.size());
  const int n = static_cast<int>(kept.size());
  for (ElemInstr& in : p.code) {
    for (int a = 0; a < op_arity(in.op); ++a) {
      const int r = in.args[a];
      in.args[a] = static_cast<int16_t>(r < old_n ? reg[r] : r - old_n + n);
    }
  }
  p.input_dtypes = std::move(dtypes);
  ins = std::move(kept);
}

// Value numbering inside one program: an instruction equal to an earlier one (same op, result
// dtype and registers; the ops are pure) is dropped and its readers read the earlier one. Folding
// a producer into several readers copies its instructions; when the readers meet in one program
// again, the copies become one.
void dedupe_instructions(ElementwiseProgram& p) {
  const int n = static_cast<int>(p.input_dtypes.size());
  std::vector<int> reg(n + p.code.size());
  for (int r = 0; r < n; ++r) reg[r] = r;
  std::map<std::array<int, 5>, int> seen;
  std::vector<ElemInstr> code;
  for (size_t k = 0; k < p.code.size(); ++k) {
    ElemInstr c = p.code[k];
    std::array<int, 5> key{static_cast<int>(c.op), static_cast<int>(c.dtype.val), -1, -1, -1};
    for (int a = 0; a < op_arity(c.op); ++a) {
      c.args[a] = static_cast<int16_t>(reg[c.args[a]]);
      key[2 + a] = c.args[a];
    }
    const bool last = k + 1 == p.code.size();  // the output stays the last instruction
    auto it = seen.find(key);
    if (it != seen.end() && !last) {
      reg[n + k] = it->second;
      continue;
    }
    code.push_back(c);
    reg[n + k] = n + static_cast<int>(code.size()) - 1;
    if (it == seen.end()) seen.emplace(key, reg[n + k]);
  }
  p.code = std::move(code);
}

// Folds the program `pp` of a producer, read as input k of `program`, into it: the inputs are
// this program's without k, then the producer's new ones.
void fold_program(ElementwiseProgram& program, std::vector<int>& ins, size_t k,
                  const ElementwiseProgram& pp, const std::vector<int>& p_ins) {
  std::vector<int> new_ins;
  std::vector<int> reg_of_old(ins.size(), -1);
  for (size_t j = 0; j < ins.size(); ++j) {
    if (j == k) continue;
    auto it = std::find(new_ins.begin(), new_ins.end(), ins[j]);
    reg_of_old[j] = static_cast<int>(it - new_ins.begin());
    if (it == new_ins.end()) new_ins.push_back(ins[j]);
  }
  std::vector<int> reg_of_p(p_ins.size());
  for (size_t j = 0; j < p_ins.size(); ++j) {
    auto it = std::find(new_ins.begin(), new_ins.end(), p_ins[j]);
    reg_of_p[j] = static_cast<int>(it - new_ins.begin());
    if (it == new_ins.end()) new_ins.push_back(p_ins[j]);
  }
  ElementwiseProgram merged;
  merged.input_dtypes.assign(new_ins.size(), float32);
  for (size_t j = 0; j < ins.size(); ++j) {
    if (j != k) merged.input_dtypes[reg_of_old[j]] = program.input_dtypes[j];
  }
  for (size_t j = 0; j < p_ins.size(); ++j) merged.input_dtypes[reg_of_p[j]] = pp.input_dtypes[j];
  const int n = static_cast<int>(new_ins.size());
  // The producer's instructions, then this program's, with renumbered registers.
  std::vector<int> preg(reg_of_p);
  for (const ElemInstr& in : pp.code) {
    ElemInstr c = in;
    for (int a = 0; a < op_arity(in.op); ++a) c.args[a] = static_cast<int16_t>(preg[in.args[a]]);
    merged.code.push_back(c);
    preg.push_back(n + static_cast<int>(merged.code.size()) - 1);
  }
  std::vector<int> sreg(ins.size());
  for (size_t j = 0; j < ins.size(); ++j) sreg[j] = j == k ? preg.back() : reg_of_old[j];
  for (const ElemInstr& in : program.code) {
    ElemInstr c = in;
    for (int a = 0; a < op_arity(in.op); ++a) c.args[a] = static_cast<int16_t>(sreg[in.args[a]]);
    merged.code.push_back(c);
    sreg.push_back(n + static_cast<int>(merged.code.size()) - 1);
  }
  dedupe_instructions(merged);
  program = std::move(merged);
  ins = std::move(new_ins);
}

// Fuses elementwise chains, in trace order. A Broadcast read by an elementwise step is dropped
// (programs broadcast their inputs themselves). An Elementwise producer is folded into an
// Elementwise reader on the same stream when every reader of its value is such a step: with
// one reader it disappears into it; with several, each reader recomputes it (elementwise work
// costs less than writing and reading the intermediate), and the copies merge again where the
// readers meet. A value that is an output, or that another kind of step reads, stays a kernel.
void fuse(Trace& t, bool shapeless) {
  std::vector<int> producer(t.num_values, -1);
  std::vector<int> readers(t.num_values, 0);     // distinct live steps reading a value
  std::vector<int> ew_readers(t.num_values, 0);  // those of them that fusion may fold it into
  auto distinct = [](std::vector<int> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  auto elementwise = [&](int step) -> const Elementwise* {
    return step < 0 || t.steps[step].dead ? nullptr
                                          : dynamic_cast<const Elementwise*>(t.steps[step].prim.get());
  };
  for (size_t i = 0; i < t.steps.size(); ++i) {
    if (t.steps[i].dead) continue;
    for (int v : t.steps[i].out) producer[v] = static_cast<int>(i);
    const bool ew = elementwise(static_cast<int>(i)) != nullptr;
    for (int v : distinct(t.steps[i].in)) {
      ++readers[v];
      if (ew) ++ew_readers[v];
    }
  }
  for (int v : t.outputs) readers[v] += 1 << 20;  // an output is never folded away
  // A step reads `v` no more (it died, or its read moved to another value); `ew`: an
  // elementwise step.
  auto unread = [&](int v, bool ew) {
    --readers[v];
    if (ew) --ew_readers[v];
  };
  auto read = [&](int v) {
    ++readers[v];
    ++ew_readers[v];
  };
  for (size_t i = 0; i < t.steps.size(); ++i) {
    Step& s = t.steps[i];
    const Elementwise* e = elementwise(static_cast<int>(i));
    if (!e) continue;
    ElementwiseProgram program = e->program();
    std::vector<int> ins = s.in;
    bool changed = false;
    if (ins.size() > 1) {
      const size_t before = ins.size();
      merge_duplicate_inputs(program, ins);
      changed = ins.size() != before;
    }
    for (bool again = true; again;) {
      again = false;
      for (size_t k = 0; k < ins.size(); ++k) {
        const int v = ins[k];
        const int p = producer[v];
        if (p < 0 || t.steps[p].dead || !(t.steps[p].prim->stream() == s.prim->stream())) continue;
        Step& ps = t.steps[p];
        const std::vector<int> before = ins;
        // A broadcast (not in shapeless mode: there the broadcast fixes the output's shape).
        if (!shapeless && dynamic_cast<const Broadcast*>(ps.prim.get())) {
          ins[k] = ps.in[0];
          merge_duplicate_inputs(program, ins);
        } else if (const Elementwise* pe = elementwise(p);
                   pe && readers[v] == ew_readers[v] &&
                   program.code.size() + pe->program().code.size() <= kMaxFusedInstructions &&
                   ins.size() - 1 + ps.in.size() <= kMaxFusedInputs) {
          fold_program(program, ins, k, pe->program(), ps.in);
        } else {
          continue;
        }
        // Keep the counts exact: this step's reads moved from `before` to `ins`.
        const std::vector<int> old_set = distinct(before), new_set = distinct(ins);
        for (int w : old_set) {
          if (!std::binary_search(new_set.begin(), new_set.end(), w)) unread(w, true);
        }
        for (int w : new_set) {
          if (!std::binary_search(old_set.begin(), old_set.end(), w)) read(w);
        }
        if (readers[v] == 0) {
          ps.dead = true;
          const bool p_ew = dynamic_cast<const Elementwise*>(ps.prim.get()) != nullptr;
          for (int w : distinct(ps.in)) unread(w, p_ew);
        }
        again = changed = true;
        break;
      }
    }
    if (changed) {
      s.prim = std::make_shared<Elementwise>(s.prim->stream(), std::move(program));
      s.in = std::move(ins);
    }
  }
}

// Drops the steps no output needs.
void drop_unused(Trace& t) {
  std::vector<char> live(t.num_values, 0);
  for (int v : t.outputs) live[v] = 1;
  for (size_t i = t.steps.size(); i-- > 0;) {
    Step& s = t.steps[i];
    if (s.dead) continue;
    bool needed = false;
    for (int v : s.out) needed = needed || live[v];
    if (!needed) {
      s.dead = true;
      continue;
    }
    for (int v : s.in) live[v] = 1;
  }
  std::erase_if(t.steps, [](const Step& s) { return s.dead; });
  std::erase_if(t.constants, [&](const auto& c) { return !live[c.first]; });
}

// The output shapes of a step for the values it reads now (shapeless replay).
std::vector<Shape> shapes_for(const Step& s, const std::vector<array>& ins) {
  if (s.unit_reshape) {
    Shape out;
    const Shape& in = ins[0].shape();
    for (int a : *s.unit_reshape) out.push_back(a < 0 ? 1 : in[a]);
    int64_t removed = 1;
    for (size_t a = 0; a < in.size(); ++a) {
      if (std::find(s.unit_reshape->begin(), s.unit_reshape->end(), static_cast<int>(a)) ==
          s.unit_reshape->end()) {
        removed *= in[a];
      }
    }
    if (removed != 1) {
      throw std::invalid_argument("[compile] shapeless: a Reshape that removed unit axes now sees "
                                  "input shape " + shape_string(in));
    }
    return {out};
  }
  if (dynamic_cast<const Reshape*>(s.prim.get())) {
    throw std::invalid_argument(
        "[compile] shapeless: the function reshapes to fixed dimensions (Reshape to " +
        shape_string(s.shapes[0]) + "); compile it with shapeless = false");
  }
  return s.prim->output_shapes(ins);
}

std::vector<array> replay(const Trace& t, const std::vector<array>& inputs, bool shapeless) {
  std::vector<std::optional<array>> values(t.num_values);
  for (int i = 0; i < t.num_inputs; ++i) values[i] = inputs[i];
  for (auto& [v, a] : t.constants) values[v] = a;
  std::vector<array> ins;
  for (const Step& s : t.steps) {
    ins.clear();
    for (int v : s.in) ins.push_back(*values[v]);
    std::vector<array> outs = s.out.size() == 1 && !shapeless
        ? std::vector<array>{array(s.shapes[0], s.dtypes[0], s.prim, ins)}
        : array::make_arrays(shapeless ? shapes_for(s, ins) : s.shapes, s.dtypes, s.prim, ins);
    for (size_t k = 0; k < s.out.size(); ++k) values[s.out[k]] = std::move(outs[k]);
  }
  std::vector<array> result;
  for (int v : t.outputs) result.push_back(*values[v]);
  return result;
}

// A shapeless trace must replay: every step needs a shape rule. Checked once, at trace time,
// so the error names the primitive before any call relies on it.
void check_shapeless(const Trace& t, const std::vector<array>& inputs) {
  (void)replay(t, inputs, true);
}

struct Cache {
  CompiledFunction fun;
  std::optional<CompileState> state;
  bool shapeless = false;
  std::mutex mutex;
  std::vector<std::pair<std::string, std::shared_ptr<const Trace>>> traces;
};

std::string key_of(const std::vector<array>& inputs, bool shapeless) {
  std::string key = std::to_string(static_cast<int>(compile_mode()));
  const Stream s = to_stream({});
  key += ':' + std::to_string(s.index);
  for (auto& a : inputs) {
    key += '|';
    key += dtype_name(a.dtype());
    if (shapeless) {
      key += ':' + std::to_string(a.ndim());
    } else {
      for (int d : a.shape()) key += ':' + std::to_string(d);
    }
  }
  return key;
}

Tree with_leaves(const Tree& shape, const std::vector<array>& leaves, size_t first) {
  size_t i = first;
  return tree::map([&](const array&) { return leaves.at(i++); }, shape);
}

std::shared_ptr<const Trace> make_trace(Cache& c, const std::vector<array>& inputs,
                                        const std::vector<array>& state_in,
                                        const std::optional<Tree>& state_tree) {
  const CompileMode mode = compile_mode();
  std::vector<array> placeholders;
  const Stream stream = to_stream({});
  auto all_inputs = inputs;
  all_inputs.insert(all_inputs.end(), state_in.begin(), state_in.end());
  for (auto& a : all_inputs) {
    placeholders.emplace_back(a.shape(), a.dtype(), std::make_shared<CompileInput>(stream),
                              std::vector<array>{});
  }
  std::vector<array> fun_in(placeholders.begin(), placeholders.begin() + inputs.size());
  std::vector<array> outputs;
  std::optional<Tree> state_after;
  if (c.state) {
    c.state->set(with_leaves(*state_tree, placeholders, inputs.size()));
    outputs = c.fun(fun_in);
    state_after = c.state->get();
  } else {
    outputs = c.fun(fun_in);
  }
  const int num_fun_outputs = static_cast<int>(outputs.size());
  if (state_after) {
    for (auto& a : tree::leaves(*state_after)) outputs.push_back(a);
  }
  auto t = std::make_shared<Trace>(record(placeholders, outputs, num_fun_outputs, c.shapeless));
  if (state_after) {
    // The tree's structure only: its traced leaves would keep the traced graph alive.
    t->state_shape = tree::map([](const array&) { return array(0.0f); }, *state_after);
  }
  placeholders.clear();
  outputs.clear();
  state_after.reset();
  if (mode != CompileMode::no_simplify) merge_common(*t);
  if (mode != CompileMode::no_fuse) fuse(*t, c.shapeless);
  drop_unused(*t);
  if (c.shapeless) check_shapeless(*t, all_inputs);
  return t;
}

std::vector<array> call(Cache& c, const std::vector<array>& inputs) {
  if (compile_mode() == CompileMode::disabled) return c.fun(inputs);
  std::optional<Tree> state_tree;
  std::vector<array> state_in;
  if (c.state) {
    state_tree = c.state->get();
    state_in = tree::leaves(*state_tree);
  }
  auto all_inputs = inputs;
  all_inputs.insert(all_inputs.end(), state_in.begin(), state_in.end());
  const std::string key = key_of(all_inputs, c.shapeless) + '#' + std::to_string(inputs.size());
  std::shared_ptr<const Trace> trace;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    for (auto& [k, t] : c.traces) {
      if (k == key) trace = t;
    }
  }
  if (!trace) {
    try {
      trace = make_trace(c, inputs, state_in, state_tree);
    } catch (...) {
      // The state holds traced arrays now: give it its values back.
      if (c.state) c.state->set(*state_tree);
      throw;
    }
    std::lock_guard<std::mutex> lock(c.mutex);
    c.traces.emplace_back(key, trace);
  }
  std::vector<array> outs;
  try {
    outs = replay(*trace, all_inputs, c.shapeless);
  } catch (...) {
    if (c.state) c.state->set(*state_tree);
    throw;
  }
  if (c.state) {
    c.state->set(with_leaves(*trace->state_shape, outs, trace->num_fun_outputs));
    outs.erase(outs.begin() + trace->num_fun_outputs, outs.end());
  }
  return outs;
}

CompiledFunction make(CompiledFunction fun, std::optional<CompileState> state, bool shapeless) {
  if (!fun) throw std::invalid_argument("[compile] the function is empty");
  if (state && (!state->get || !state->set)) {
    throw std::invalid_argument("[compile] the captured state needs both get and set");
  }
  auto cache = std::make_shared<Cache>();
  cache->fun = std::move(fun);
  cache->state = std::move(state);
  cache->shapeless = shapeless;
  return [cache](const std::vector<array>& inputs) { return call(*cache, inputs); };
}

}  // namespace

CompiledFunction compile(CompiledFunction fun, bool shapeless) {
  return make(std::move(fun), std::nullopt, shapeless);
}
CompiledFunction compile(std::vector<array> (*fun)(const std::vector<array>&), bool shapeless) {
  if (!fun) throw std::invalid_argument("[compile] the function is empty");
  return make(CompiledFunction(fun), std::nullopt, shapeless);
}
CompiledFunction compile(CompiledFunction fun, CompileState state, bool shapeless) {
  return make(std::move(fun), std::move(state), shapeless);
}

std::function<array(const array&)> compile(std::function<array(const array&)> fun, bool shapeless) {
  if (!fun) throw std::invalid_argument("[compile] the function is empty");
  auto f = compile(CompiledFunction([fun](const std::vector<array>& x) {
                     return std::vector<array>{fun(x[0])};
                   }),
                   shapeless);
  return [f](const array& x) { return f({x})[0]; };
}
std::function<array(const array&, const array&)> compile(
    std::function<array(const array&, const array&)> fun, bool shapeless) {
  if (!fun) throw std::invalid_argument("[compile] the function is empty");
  auto f = compile(CompiledFunction([fun](const std::vector<array>& x) {
                     return std::vector<array>{fun(x[0], x[1])};
                   }),
                   shapeless);
  return [f](const array& a, const array& b) { return f({a, b})[0]; };
}

void disable_compile() { mode_flag().store(CompileMode::disabled); }
void enable_compile() { mode_flag().store(CompileMode::enabled); }
void set_compile_mode(CompileMode mode) { mode_flag().store(mode); }
CompileMode compile_mode() { return mode_flag().load(); }

}  // namespace tessera
