#pragma once
// compile, as MLX's (mlx/compile.h): the function is traced once per kind of input (shapes and
// dtypes) into a graph of primitives, the graph is simplified (constants computed once, common
// subexpressions merged, unused work dropped) and its elementwise chains are fused, broadcasts
// included, into single Elementwise programs; later calls with inputs of the same kind replay
// that graph without running the C++ function again. What a call returns is an ordinary lazy
// graph, so compiled functions compose with grad, vjp, jvp and vmap, and fused nodes are
// differentiable and batchable like any other node.
//
// What is traced is what the function does to arrays: C++ control flow runs once, at trace
// time. Arrays the function reads without taking them as inputs (captured by a lambda) are
// constants of the trace, computed once; pass them as inputs, or as captured state (below),
// when they change between calls. A function that reads the values of its inputs while traced
// (item, data, to_vector, eval) cannot be compiled: the trace throws, naming compile.
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/utils/tree.hpp"

namespace tessera {

// disabled: compiled functions call the function itself; no_simplify: trace and fuse without the
// simplification passes; no_fuse: trace and simplify without fusion; enabled: everything.
enum class CompileMode { disabled, no_simplify, no_fuse, enabled };

using CompiledFunction = std::function<std::vector<array>(const std::vector<array>&)>;

// Arrays the function reads and writes beside its inputs and outputs: a model's parameters and
// an optimizer's state in a compiled training step (MLX's `inputs=` / `outputs=`). `get` returns
// the current arrays; before each call their values become inputs of the trace, and after it
// `set` receives the new arrays, in a tree shaped as `get` returned it after the traced call
// (its structure may grow on the first call, as an optimizer's state does).
struct CompileState {
  std::function<Tree()> get;
  std::function<void(const Tree&)> set;
};

// shapeless: one trace serves inputs of any shapes with the same dtypes and ranks; each
// primitive then recomputes its output shape (Primitive::output_shapes), and a trace holding a
// primitive whose shape cannot follow its inputs' (a reshape to fixed dimensions, a broadcast to
// a fixed shape, ...) is refused with an error naming it.
CompiledFunction compile(CompiledFunction fun, bool shapeless = false);
CompiledFunction compile(std::vector<array> (*fun)(const std::vector<array>&),
                         bool shapeless = false);
// A lambda without captures, as MLX takes it.
template <typename F>
  requires std::is_convertible_v<F, decltype(+std::declval<F>())> &&
           std::is_convertible_v<decltype(+std::declval<F>()),
                                 std::vector<array> (*)(const std::vector<array>&)>
CompiledFunction compile(F&& f, bool shapeless = false) {
  return compile(+f, shapeless);
}
// With captured state (the state's arrays are inputs and outputs of every trace).
CompiledFunction compile(CompiledFunction fun, CompileState state, bool shapeless = false);

// Single-array conveniences.
std::function<array(const array&)> compile(std::function<array(const array&)> fun,
                                           bool shapeless = false);
std::function<array(const array&, const array&)> compile(
    std::function<array(const array&, const array&)> fun, bool shapeless = false);

// Globally; the environment variables TESSERA_DISABLE_COMPILE (or MLX's MLX_DISABLE_COMPILE)
// set at start-up disable compilation until enable_compile.
void disable_compile();
void enable_compile();
void set_compile_mode(CompileMode mode);
CompileMode compile_mode();

}  // namespace tessera
